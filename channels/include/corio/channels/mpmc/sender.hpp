/// \file
/// corio/channels/mpmc/sender.hpp — the sending halves of an mpmc channel and the factories:
/// sender (bounded or rendezvous: send waits for a free slot, or for a receiver), unbounded_sender
/// (send never waits), channel(), unbounded_channel(). See corio/channels/mpmc.hpp for the contract.
#pragma once

#include <corio/channels/metrics.hpp>
#include <corio/channels/mpmc/detail/chan.hpp>
#include <corio/channels/mpmc/error.hpp>
#include <corio/channels/mpmc/fwd.hpp>
#include <corio/channels/mpmc/receiver.hpp>
#include <corio/result.hpp>
#include <corio/runtime/leaf.hpp>
#include <corio/runtime/time.hpp>

#include <cassert>
#include <chrono>
#include <cstddef>
#include <limits>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace corio::mpmc::detail {

// What both kinds of sender share: the strong reference (copying adds a producer) and queries.
template <class T>
class sender_base {
public:
    using chan_t = ::corio::detail::mpmc::chan<T>;

    sender_base(const sender_base& o) noexcept : chan_(o.chan_) {
        if (chan_) {
            chan_->retain();
            chan_->add_sender();
        }
    }
    sender_base(sender_base&& o) noexcept : chan_(std::exchange(o.chan_, nullptr)) {}
    sender_base& operator=(const sender_base& o) noexcept {
        if (this != &o) {
            sender_base copy(o);
            std::swap(chan_, copy.chan_);
        }
        return *this;
    }
    sender_base& operator=(sender_base&& o) noexcept {
        if (this != &o) {
            drop();
            chan_ = std::exchange(o.chan_, nullptr);
        }
        return *this;
    }
    ~sender_base() { drop(); }

    explicit operator bool() const noexcept { return chan_ != nullptr; }
    /// True once every receiver is gone or the channel was closed: every send fails from now on.
    bool is_closed() const noexcept { return !chan_ || chan_->is_rx_closed(); }
    std::size_t len() const noexcept { return chan_ ? chan_->len() : 0; }
    std::size_t max_capacity() const noexcept { return chan_ ? chan_->max_capacity() : 0; }
    std::size_t sender_count() const noexcept { return chan_ ? chan_->sender_count() : 0; }
    std::size_t receiver_count() const noexcept { return chan_ ? chan_->receiver_count() : 0; }
    std::optional<channel_metrics> metrics() const noexcept {
        return chan_ ? chan_->metrics().snapshot() : std::nullopt;
    }
    const void* channel_id() const noexcept { return chan_; }
    template <class H>
    bool same_channel(const H& other) const noexcept {
        return chan_ && static_cast<const void*>(chan_) == other.channel_id();
    }

protected:
    sender_base() noexcept = default;
    explicit sender_base(chan_t* c) noexcept : chan_(c) {}
    void drop() noexcept {
        if (auto* c = std::exchange(chan_, nullptr)) {
            c->drop_sender();
            c->release();
        }
    }
    chan_t* chan_ = nullptr;
};

}  // namespace corio::mpmc::detail

namespace corio::mpmc {

/// The sending half of a bounded (or rendezvous) channel. Copyable; see corio/channels/mpmc.hpp.
template <class T>
class sender : public detail::sender_base<T> {
    using base = detail::sender_base<T>;
    using base::chan_;
    using chan_t = typename base::chan_t;
    using status = ::corio::detail::mpmc::poll_status;

public:
    sender() noexcept = default;

    /// `co_await tx.send(v)`: waits for a free slot (rendezvous: for a receiver to take v), then
    /// v is in the channel. Yields send_error<T> carrying v back if every receiver is gone or the
    /// channel was closed. Cancel safe; take_value() gets v back from an abandoned send.
    class [[nodiscard]] send_operation : public leaf_awaiter<send_operation> {
    public:
        /// Made by send(); not called directly.
        send_operation(chan_t* c, T&& v) noexcept(std::is_nothrow_move_constructible_v<T>)
            : chan_(c), value_(std::move(v)) {}
        send_operation(const send_operation&) = delete;
        send_operation& operator=(const send_operation&) = delete;
        ~send_operation() { cancel(); }

        /// Hands the value to a waiting receiver or queues it if there is room; else joins the
        /// senders' FIFO queue.
        bool poll(context& cx) noexcept override {
            if (!cx.poll_budget()) return false;
            const status s = chan_->poll_send(node_, value_, cx.waker());
            polled_ = s == status::pending;
            return !polled_;
        }
        /// Leaves the senders' queue; the value stays (take_value()); polled again, the send
        /// queues at the back. If a receiver already took the value (it does so from a waiting
        /// send when it frees a slot, or at once on a rendezvous channel) the send has happened:
        /// nothing is undone, take_value() is empty, and a later poll reports it sent.
        void cancel() noexcept override {
            if (std::exchange(polled_, false)) chan_->cancel_send(node_);
        }

        /// Nothing on success; send_error<T> carrying the value back if the channel is closed or
        /// every receiver is gone.
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
        /// the senders' queue). Empty once the value was sent or taken.
        std::optional<T> take_value() noexcept {
            cancel();
            return std::exchange(value_, std::nullopt);
        }
        /// The same as take_value() (Tokio's name).
        std::optional<T> into_value() noexcept { return take_value(); }

        /// The channel this send goes to.
        chan_t* channel() const noexcept { return chan_; }

    private:
        chan_t* chan_;
        ::corio::detail::mpmc::send_waiter<T> node_;
        std::optional<T> value_;  // present until sent; handed back on failure (see send_waiter)
        bool polled_ = false;     // the last poll returned pending (the node may be linked)
    };

    /// `co_await tx.send(v)`: see send_operation. Precondition: the sender is non-empty.
    send_operation send(T value) noexcept(std::is_nothrow_move_constructible_v<T>) {
        assert(chan_ && "mpmc sender: send on an empty sender");
        return send_operation(chan_, std::move(value));
    }

    /// `co_await tx.send_timeout(v, d)`: send(v), giving up after `d`. Yields
    /// send_timeout_error<T> (timeout or closed) with v handed back. Cancel safe, like send().
    class [[nodiscard]] send_timeout_operation : public leaf_awaiter<send_timeout_operation> {
    public:
        /// Made by send_timeout(); not called directly.
        send_timeout_operation(chan_t* c, T&& v, std::chrono::nanoseconds d)
            : send_(c, std::move(v)), deadline_(corio::sleep(d)) {}
        send_timeout_operation(const send_timeout_operation&) = delete;
        send_timeout_operation& operator=(const send_timeout_operation&) = delete;

        /// Polls the send, then the deadline: ready when the value is taken or the time is up.
        bool poll(context& cx) noexcept override {
            if (send_.poll(cx)) return true;
            if (!deadline_.poll_deadline(cx)) return false;
            // The deadline passed: leave the queue. A receiver may have taken the value just
            // before (then the send happened and wins over the timeout).
            std::optional<T> v = send_.take_value();
            if (!v) return true;
            timed_out_ = std::move(v);
            return true;
        }
        /// Cancels the send (the value stays, as send_operation::cancel) and the sleep.
        void cancel() noexcept override {
            send_.cancel();
            deadline_.cancel();
        }

        /// Nothing on success; send_timeout_error<T> (timeout or closed) with the value handed
        /// back.
        result<void, send_timeout_error<T>> await_resume() {
            using error = send_timeout_error<T>;
            if (timed_out_) {
                send_.channel()->metrics().dropped();
                return unexpected(error(error::kind::timeout, std::move(*timed_out_)));
            }
            auto r = send_.await_resume();
            if (r) return {};
            return unexpected(error(error::kind::closed, std::move(r.error().value)));
        }

        /// The value, if it was not sent (as send_operation::take_value).
        std::optional<T> take_value() noexcept {
            if (timed_out_) return std::exchange(timed_out_, std::nullopt);
            return send_.take_value();
        }

    private:
        send_operation send_;
        time::sleep_operation deadline_;
        std::optional<T> timed_out_;  // the value, handed back by a timeout
    };

    /// `co_await tx.send_timeout(v, d)`: see send_timeout_operation.
    template <class Rep, class Period>
    send_timeout_operation send_timeout(T value, std::chrono::duration<Rep, Period> d) {
        assert(chan_ && "mpmc sender: send_timeout on an empty sender");
        return send_timeout_operation(chan_, std::move(value), std::chrono::duration_cast<std::chrono::nanoseconds>(d));
    }

    /// Queues v if a slot is free now; never waits. A rendezvous channel has no slot to leave a
    /// value in, so there try_send always reports full (use send).
    result<void, try_send_error<T>> try_send(T value) {
        assert(chan_ && "mpmc sender: try_send on an empty sender");
        switch (chan_->try_send(value)) {
            case ::corio::detail::mpmc::try_status::ok: return {};
            case ::corio::detail::mpmc::try_status::closed:
                chan_->metrics().dropped();
                return unexpected(try_send_error<T>::closed(std::move(value)));
            default:
                chan_->metrics().dropped();
                return unexpected(try_send_error<T>::full(std::move(value)));
        }
    }

    /// Blocking twin of send(), for plain threads. Precondition: not on a runtime worker.
    result<void, send_error<T>> blocking_send(T value) {
        send_operation op(chan_, std::move(value));
        ::corio::detail::blocking_poll(op);
        return op.await_resume();
    }

    /// Bounded: free slots now; rendezvous: 0.
    std::size_t capacity() const noexcept {
        if (!chan_) return 0;
        const std::size_t n = chan_->len();
        return n < chan_->max_capacity() ? chan_->max_capacity() - n : 0;
    }

private:
    friend std::pair<sender<T>, receiver<T>> channel<T>(std::size_t, const channel_options&);
    explicit sender(chan_t* c) noexcept : base(c) {}
};

/// The sending half of an unbounded channel. Copyable; send() never waits.
template <class T>
class unbounded_sender : public detail::sender_base<T> {
    using base = detail::sender_base<T>;
    using base::chan_;
    using chan_t = typename base::chan_t;

public:
    unbounded_sender() noexcept = default;

    /// Queues v, or hands it back if every receiver is gone or the channel was closed.
    result<void, send_error<T>> send(T value) {
        assert(chan_ && "mpmc unbounded_sender: send on an empty sender");
        if (chan_->try_send(value) == ::corio::detail::mpmc::try_status::ok) return {};
        chan_->metrics().dropped();
        return unexpected(send_error<T>(std::move(value)));
    }

private:
    friend std::pair<unbounded_sender<T>, receiver<T>> unbounded_channel<T>(const channel_options&);
    explicit unbounded_sender(chan_t* c) noexcept : base(c) {}
};

/// A channel with room for `capacity` values (0: a rendezvous channel, where a send completes
/// only once a receiver has taken its value). `opts`: e.g. corio::with_metrics.
template <class T>
std::pair<sender<T>, receiver<T>> channel(std::size_t capacity, const channel_options& opts) {
    if (capacity == std::numeric_limits<std::size_t>::max())
        throw std::invalid_argument("corio::mpmc::channel: capacity too large (use unbounded_channel)");
    auto* c = new ::corio::detail::mpmc::chan<T>(true, capacity, opts);
    return {sender<T>(c), receiver<T>(c)};
}

/// A channel without capacity limit: sends never wait (memory is the limit).
template <class T>
std::pair<unbounded_sender<T>, receiver<T>> unbounded_channel(const channel_options& opts) {
    auto* c = new ::corio::detail::mpmc::chan<T>(false, std::numeric_limits<std::size_t>::max(), opts);
    return {unbounded_sender<T>(c), receiver<T>(c)};
}

}  // namespace corio::mpmc
