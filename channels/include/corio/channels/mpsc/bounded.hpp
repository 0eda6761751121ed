/// \file
/// corio/channels/mpsc/bounded.hpp — the bounded channel's handles (Tokio's sync/mpsc/bounded.rs):
/// sender (send waits for capacity), permit (a reserved slot), weak_sender, and channel().
/// Capacity is the channel's batch_semaphore (mpsc/detail/chan.hpp); the receiver is shared with
/// the unbounded channel (mpsc/receiver.hpp). See corio/channels/mpsc.hpp for the contract.
#pragma once

#include <corio/channels/detail/batch_semaphore.hpp>
#include <corio/channels/error.hpp>
#include <corio/channels/metrics.hpp>
#include <corio/channels/mpsc/detail/chan.hpp>
#include <corio/channels/mpsc/detail/sender_base.hpp>
#include <corio/channels/mpsc/error.hpp>
#include <corio/channels/mpsc/fwd.hpp>
#include <corio/channels/mpsc/receiver.hpp>
#include <corio/result.hpp>
#include <corio/runtime/leaf.hpp>
#include <corio/runtime/time.hpp>

#include <cassert>
#include <chrono>
#include <cstddef>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace corio::mpsc {

/// A reserved slot of a bounded channel: send() never waits and cannot fail for capacity.
/// Destroying an unused permit returns the slot. Precondition: it does not outlive the sender it
/// was reserved from.
template <class T>
class [[nodiscard]] permit {
public:
    permit() noexcept = default;
    /// Moves the reserved slot; `o` is left empty.
    permit(permit&& o) noexcept : chan_(std::exchange(o.chan_, nullptr)) {}
    /// Returns this permit's slot (if any), then takes over `o`'s.
    permit& operator=(permit&& o) noexcept {
        if (this != &o) {
            reset();
            chan_ = std::exchange(o.chan_, nullptr);
        }
        return *this;
    }
    permit(const permit&) = delete;
    permit& operator=(const permit&) = delete;
    ~permit() { reset(); }

    /// True while the permit holds a slot (not yet sent, moved or default-constructed).
    explicit operator bool() const noexcept { return chan_ != nullptr; }

    /// Sends through the reserved slot and spends the permit. Precondition: non-empty.
    void send(T value) {
        assert(chan_ && "mpsc permit: send on an empty permit");
        std::exchange(chan_, nullptr)->push(std::move(value));
    }

private:
    friend class sender<T>;
    explicit permit(detail::chan<T>* c) noexcept : chan_(c) {}
    void reset() noexcept {
        if (auto* c = std::exchange(chan_, nullptr)) c->return_permit();
    }
    detail::chan<T>* chan_ = nullptr;
};

/// The sending half of a bounded channel. Copyable; see corio/channels/mpsc.hpp.
template <class T>
class sender : public detail::sender_base<T> {
    using base = detail::sender_base<T>;
    using base::chan_;

public:
    sender() noexcept = default;

    /// `co_await tx.send(v)`: waits for capacity, then queues v. Yields an error carrying v back
    /// if the receiver is gone or closed. Cancel safe; take_value() gets v back from an
    /// abandoned send.
    class [[nodiscard]] send_operation : public leaf_awaiter<send_operation> {
    public:
        /// Made by send(); not called directly.
        send_operation(detail::chan<T>* c, T&& v) noexcept(std::is_nothrow_move_constructible_v<T>)
            : chan_(c), acq_(&c->semaphore(), 1), value_(std::move(v)) {}
        send_operation(const send_operation&) = delete;
        send_operation& operator=(const send_operation&) = delete;

        /// Takes a slot of capacity if one is free and queues the value; else joins the FIFO queue
        /// of waiting senders with the task's waker.
        bool poll(context& cx) noexcept override {
            if (!cx.poll_budget()) return false;
            switch (acq_.poll(cx.waker())) {
                case detail::batch_semaphore::poll_result::pending: return false;
                case detail::batch_semaphore::poll_result::acquired:
                    chan_->push(std::move(*value_));
                    value_.reset();
                    return true;
                case detail::batch_semaphore::poll_result::closed: return true;
            }
            return false;
        }
        /// Leaves the capacity queue; capacity already assigned goes to the next waiting sender.
        /// The value stays (take_value()); polled again, the send queues at the back.
        void cancel() noexcept override { acq_.cancel(); }

        /// Nothing on success; send_error<T> carrying the value back if the receiver is gone or
        /// closed.
        result<void, send_error<T>> await_resume() {
            if (value_) {
                chan_->metrics().dropped();
                send_error<T> err(std::move(*value_));
                value_.reset();
                return unexpected(std::move(err));
            }
            return {};
        }

        /// The value, if it was not sent (failed, or abandoned while waiting: this also leaves
        /// the capacity queue). Empty once the value was sent or taken.
        std::optional<T> take_value() noexcept {
            acq_.cancel();
            return std::exchange(value_, std::nullopt);
        }
        /// The same as take_value() (Tokio's name).
        std::optional<T> into_value() noexcept { return take_value(); }

        /// The channel this send goes to (an identity, as channel_id()).
        detail::chan<T>* channel() const noexcept { return chan_; }
        /// What the pending operation waits for, in words, for runtime::dump() (corio/runtime/dump.hpp).
        void describe(std::string& out) const override {
            out += "send (waiting for capacity) on ";
            chan_->describe(out);
        }

    private:
        detail::chan<T>* chan_;
        detail::batch_semaphore::acquirer acq_;
        std::optional<T> value_;  // present until sent; handed back on failure
    };

    /// `co_await tx.send(v)`: see send_operation. Precondition: the sender is non-empty.
    send_operation send(T value) noexcept(std::is_nothrow_move_constructible_v<T>) {
        assert(chan_ && "mpsc sender: send on an empty sender");
        return send_operation(chan_, std::move(value));
    }

    /// `co_await tx.send_timeout(v, d)`: send(v), giving up after `d`. Yields
    /// send_timeout_error<T> (timeout or closed) with v handed back. Cancel safe, like send().
    class [[nodiscard]] send_timeout_operation : public leaf_awaiter<send_timeout_operation> {
    public:
        /// Made by send_timeout(); not called directly.
        send_timeout_operation(detail::chan<T>* c, T&& v, std::chrono::nanoseconds d)
            : send_(c, std::move(v)), deadline_(corio::sleep(d)) {}
        send_timeout_operation(const send_timeout_operation&) = delete;
        send_timeout_operation& operator=(const send_timeout_operation&) = delete;

        /// Polls the send, then the deadline: ready when the value is queued or the time is up.
        bool poll(context& cx) noexcept override {
            if (send_.poll(cx)) return true;
            if (!deadline_.poll_deadline(cx)) return false;
            timed_out_ = true;
            return true;
        }
        /// As send_operation::cancel; the sleep leaves the timer wheel and keeps its deadline.
        void cancel() noexcept override {
            send_.cancel();
            deadline_.cancel();
        }

        /// Nothing on success; send_timeout_error<T> (timeout or closed) with the value handed
        /// back.
        result<void, send_timeout_error<T>> await_resume() {
            using error = send_timeout_error<T>;
            if (timed_out_) {
                // take_value() also leaves the capacity queue, so nothing is sent later.
                std::optional<T> v = send_.take_value();
                send_.channel()->metrics().dropped();
                return unexpected(error(error::kind::timeout, std::move(*v)));
            }
            auto r = send_.await_resume();
            if (r) return {};
            return unexpected(error(error::kind::closed, std::move(r.error().value)));
        }

        /// The value, if it was not sent (as send_operation::take_value).
        std::optional<T> take_value() noexcept { return send_.take_value(); }

    private:
        send_operation send_;
        time::sleep_operation deadline_;
        bool timed_out_ = false;
    };

    /// `co_await tx.send_timeout(v, d)`: see send_timeout_operation.
    template <class Rep, class Period>
    send_timeout_operation send_timeout(T value, std::chrono::duration<Rep, Period> d) {
        assert(chan_ && "mpsc sender: send_timeout on an empty sender");
        return send_timeout_operation(chan_, std::move(value), std::chrono::duration_cast<std::chrono::nanoseconds>(d));
    }

    /// Queues v if there is capacity now; never waits.
    result<void, try_send_error<T>> try_send(T value) {
        assert(chan_ && "mpsc sender: try_send on an empty sender");
        switch (chan_->semaphore().try_acquire(1)) {
            case detail::batch_semaphore::try_result::acquired:
                chan_->push(std::move(value));
                return {};
            case detail::batch_semaphore::try_result::closed:
                chan_->metrics().dropped();
                return unexpected(try_send_error<T>::closed(std::move(value)));
            default:
                chan_->metrics().dropped();
                return unexpected(try_send_error<T>::full(std::move(value)));
        }
    }

    /// `co_await tx.reserve()`: waits for capacity and yields a permit. Cancel safe.
    class [[nodiscard]] reserve_operation : public leaf_awaiter<reserve_operation> {
    public:
        /// Made by reserve(); not called directly.
        explicit reserve_operation(detail::chan<T>* c) noexcept : chan_(c), acq_(&c->semaphore(), 1) {}
        reserve_operation(const reserve_operation&) = delete;
        reserve_operation& operator=(const reserve_operation&) = delete;
        ~reserve_operation() {
            cancel();
            if (state_ == state::acquired) chan_->return_permit();  // ready but never resumed
        }

        /// What the pending operation waits for, in words, for runtime::dump() (corio/runtime/dump.hpp).
        void describe(std::string& out) const override {
            out += "reserve (waiting for capacity) on ";
            chan_->describe(out);
        }

        /// Takes a slot of capacity if one is free; else joins the FIFO queue of waiting senders.
        bool poll(context& cx) noexcept override {
            if (!cx.poll_budget()) return false;
            switch (acq_.poll(cx.waker())) {
                case detail::batch_semaphore::poll_result::pending: return false;
                case detail::batch_semaphore::poll_result::acquired: state_ = state::acquired; return true;
                case detail::batch_semaphore::poll_result::closed: state_ = state::closed; return true;
            }
            return false;
        }
        /// Pending: leaves the capacity queue, and capacity already assigned goes to the next
        /// waiting sender. A no-op once ready (an acquired permit belongs to await_resume).
        void cancel() noexcept override {
            if (state_ == state::pending) acq_.cancel();
        }
        /// The permit for the reserved slot, or reserve_error::closed if the receiver is gone or
        /// closed.
        result<permit<T>, reserve_error> await_resume() noexcept {
            if (state_ != state::acquired) return unexpected(reserve_error::closed);
            state_ = state::taken;
            return permit<T>(chan_);
        }

    private:
        // pending (never polled, polled pending, or cancelled: acq_ holds any queue place) ->
        // acquired / closed (a ready poll) -> taken (await_resume made the permit).
        enum class state { pending, acquired, closed, taken };
        detail::chan<T>* chan_;
        detail::batch_semaphore::acquirer acq_;
        state state_ = state::pending;
    };

    /// `co_await tx.reserve()`: see reserve_operation. A permit reserves a slot before the value
    /// exists, so the value is never handed over to a full channel.
    reserve_operation reserve() noexcept {
        assert(chan_ && "mpsc sender: reserve on an empty sender");
        return reserve_operation(chan_);
    }

    /// Never waits: a permit if a slot is free now, else try_reserve_error::full or
    /// try_reserve_error::closed.
    result<permit<T>, try_reserve_error> try_reserve() noexcept {
        assert(chan_ && "mpsc sender: try_reserve on an empty sender");
        switch (chan_->semaphore().try_acquire(1)) {
            case detail::batch_semaphore::try_result::acquired: return permit<T>(chan_);
            case detail::batch_semaphore::try_result::closed: return unexpected(try_reserve_error::closed);
            default: return unexpected(try_reserve_error::full);
        }
    }

    /// Blocking twin of send(), for plain threads. Precondition: not on a runtime worker.
    result<void, send_error<T>> blocking_send(T value) {
        send_operation op(chan_, std::move(value));
        ::corio::detail::blocking_poll(op);
        return op.await_resume();
    }

    /// Blocking twin of reserve(), for plain threads. Precondition: not on a runtime worker.
    result<permit<T>, reserve_error> blocking_reserve() {
        reserve_operation op(chan_);
        ::corio::detail::blocking_poll(op);
        return op.await_resume();
    }

    /// Free capacity now (slots neither queued nor reserved).
    std::size_t capacity() const noexcept { return chan_ ? chan_->semaphore().available_permits() : 0; }
    /// The capacity the channel was created with.
    std::size_t max_capacity() const noexcept { return chan_ ? chan_->max_capacity() : 0; }

    /// A handle that does not keep the channel open; upgrade() gives a sender back while any
    /// sender is alive.
    weak_sender<T> downgrade() const noexcept { return weak_sender<T>(chan_); }

private:
    friend std::pair<sender<T>, receiver<T>> channel<T>(std::size_t, const channel_options&);
    friend class weak_sender<T>;
    explicit sender(detail::chan<T>* c) noexcept : base(c) {}
};

/// A bounded sender that does not keep the channel open.
template <class T>
class weak_sender : public detail::weak_base<T> {
    using detail::weak_base<T>::chan_;

public:
    weak_sender() noexcept = default;
    /// A strong sender, unless every strong sender is already gone.
    std::optional<sender<T>> upgrade() const noexcept {
        if (!chan_ || !chan_->try_upgrade()) return std::nullopt;
        chan_->retain();
        return sender<T>(chan_);
    }

private:
    friend class sender<T>;
    explicit weak_sender(detail::chan<T>* c) noexcept : detail::weak_base<T>(c) {}
};

/// A bounded channel with room for `capacity` values. Precondition: capacity > 0 (throws
/// std::invalid_argument otherwise, as Tokio panics).
/// `opts`: e.g. corio::with_metrics to count (corio/channels/metrics.hpp).
template <class T>
std::pair<sender<T>, receiver<T>> channel(std::size_t capacity, const channel_options& opts) {
    if (capacity == 0 || capacity > detail::batch_semaphore::max_permits)
        throw std::invalid_argument("corio::mpsc::channel: capacity must be in 1..max_permits");
    auto* c = new detail::chan<T>(true, capacity, opts);
    return {sender<T>(c), receiver<T>(c)};
}

}  // namespace corio::mpsc
