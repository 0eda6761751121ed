/// \file
/// corio/channels/mpmc/receiver.hpp — the receiving half of an mpmc channel, bounded, unbounded or
/// rendezvous: recv(), try_recv(), blocking_recv(), close(). Copyable: each copy is a consumer, and
/// each message goes to exactly one of them. The protocol is chan::poll_recv (mpmc/detail/chan.hpp).
#pragma once

#include <corio/channels/metrics.hpp>
#include <corio/channels/mpmc/detail/chan.hpp>
#include <corio/channels/mpmc/error.hpp>
#include <corio/channels/mpmc/fwd.hpp>
#include <corio/result.hpp>
#include <corio/runtime/leaf.hpp>
#include <corio/runtime/time.hpp>

#include <cassert>
#include <chrono>
#include <cstddef>
#include <optional>
#include <type_traits>
#include <utility>

namespace corio::mpmc {

/// The receiving half. Copyable (a copy is another consumer); see corio/channels/mpmc.hpp.
template <class T>
class receiver {
    using chan_t = ::corio::detail::mpmc::chan<T>;
    using status = ::corio::detail::mpmc::poll_status;

public:
    receiver() noexcept = default;
    /// Another receiver of the same channel: each value goes to exactly one of them.
    receiver(const receiver& o) noexcept : chan_(o.chan_) {
        if (chan_) {
            chan_->retain();
            chan_->add_receiver();
        }
    }
    /// Moves the handle; `o` is left empty.
    receiver(receiver&& o) noexcept : chan_(std::exchange(o.chan_, nullptr)) {}
    /// Drops this handle (the last receiver closes the channel), then shares `o`'s channel.
    receiver& operator=(const receiver& o) noexcept {
        if (this != &o) {
            receiver copy(o);
            std::swap(chan_, copy.chan_);
        }
        return *this;
    }
    /// Drops this handle (the last receiver closes the channel), then takes over `o`.
    receiver& operator=(receiver&& o) noexcept {
        if (this != &o) {
            drop();
            chan_ = std::exchange(o.chan_, nullptr);
        }
        return *this;
    }
    ~receiver() { drop(); }

    /// False for a default-constructed or moved-from receiver.
    explicit operator bool() const noexcept { return chan_ != nullptr; }

    /// `co_await rx.recv()`: the next value, or nullopt once every sender is gone (or the channel
    /// was closed) and the queue is drained. Cancel safe: a cancelled recv has taken nothing.
    class [[nodiscard]] recv_operation : public leaf_awaiter<recv_operation> {
    public:
        /// Made by recv(); not called directly.
        explicit recv_operation(chan_t* c) noexcept : chan_(c) {}
        recv_operation(const recv_operation&) = delete;
        recv_operation& operator=(const recv_operation&) = delete;
        ~recv_operation() { cancel(); }

        /// Takes a queued value (or one from a waiting sender); else queues this receiver, FIFO,
        /// with the task's waker.
        bool poll(context& cx) noexcept override {
            if (!cx.poll_budget()) return false;
            const status s = chan_->poll_recv(node_, out_, cx.waker());
            polled_ = s == status::pending;
            return !polled_;
        }
        /// Leaves the receivers' queue and drops the waker. A wake it had been given (a value was
        /// there for it) goes to the next waiting receiver; nothing was taken.
        void cancel() noexcept override {
            if (std::exchange(polled_, false)) chan_->cancel_recv(node_);
        }
        /// The value, or nullopt once the channel is closed (or every sender gone) and drained.
        std::optional<T> await_resume() noexcept(std::is_nothrow_move_constructible_v<T>) {
            // Flag first, then the value, each as it was stored: the poll that just completed
            // wrote them with two stores, and std::exchange's copy of the whole optional read
            // them with one wide load, which the CPU cannot forward from two narrower stores (a
            // stall of a dozen cycles per message: mpmc_contended's hottest consumer instruction).
            if (!out_) return std::nullopt;
            std::optional<T> v(std::move(*out_));
            out_.reset();
            return v;
        }

    private:
        chan_t* chan_;
        ::corio::detail::mpmc::recv_waiter node_;
        std::optional<T> out_;
        bool polled_ = false;  // the last poll returned pending (the node may be linked or notified)
    };
    /// `co_await rx.recv()`: see recv_operation. Precondition: the receiver is non-empty.
    recv_operation recv() noexcept {
        assert(chan_ && "mpmc receiver: recv on an empty receiver");
        return recv_operation(chan_);
    }

    /// `co_await rx.recv_timeout(d)`: recv(), giving up after `d`. Yields the value, or
    /// recv_timeout_error::timeout (nothing was taken: a wake that came too late passes on to the
    /// next waiting receiver) or recv_timeout_error::closed. Cancel safe, like recv().
    class [[nodiscard]] recv_timeout_operation : public leaf_awaiter<recv_timeout_operation> {
    public:
        /// Made by recv_timeout(); not called directly.
        recv_timeout_operation(chan_t* c, std::chrono::nanoseconds d) : recv_(c), deadline_(corio::sleep(d)) {}
        recv_timeout_operation(const recv_timeout_operation&) = delete;
        recv_timeout_operation& operator=(const recv_timeout_operation&) = delete;

        /// Polls the receive, then the deadline: ready with a value or when the time is up.
        bool poll(context& cx) noexcept override {
            if (recv_.poll(cx)) return true;
            if (!deadline_.poll_deadline(cx)) return false;
            recv_.cancel();  // leaves the receivers' queue before the timeout is reported
            timed_out_ = true;
            return true;
        }
        /// Cancels the receive (a wake it received passes on to the next waiting receiver) and the
        /// sleep.
        void cancel() noexcept override {
            recv_.cancel();
            deadline_.cancel();
        }
        /// The value, or recv_timeout_error::timeout or recv_timeout_error::closed.
        result<T, recv_timeout_error> await_resume() noexcept(std::is_nothrow_move_constructible_v<T>) {
            if (timed_out_) return unexpected(recv_timeout_error::timeout);
            std::optional<T> v = recv_.await_resume();
            if (!v) return unexpected(recv_timeout_error::closed);
            return std::move(*v);
        }

    private:
        recv_operation recv_;
        time::sleep_operation deadline_;
        bool timed_out_ = false;
    };
    /// `co_await rx.recv_timeout(d)`: see recv_timeout_operation.
    template <class Rep, class Period>
    recv_timeout_operation recv_timeout(std::chrono::duration<Rep, Period> d) {
        assert(chan_ && "mpmc receiver: recv_timeout on an empty receiver");
        return recv_timeout_operation(chan_, std::chrono::duration_cast<std::chrono::nanoseconds>(d));
    }

    /// Never waits: a value, try_recv_error::empty, or try_recv_error::closed (every sender gone
    /// or the channel closed, and drained). On a rendezvous channel it takes the value of a
    /// sender that is waiting now.
    result<T, try_recv_error> try_recv() {
        assert(chan_ && "mpmc receiver: try_recv on an empty receiver");
        std::optional<T> out;
        switch (chan_->try_recv(out)) {
            case ::corio::detail::mpmc::try_status::ok: return std::move(*out);
            case ::corio::detail::mpmc::try_status::closed: return unexpected(try_recv_error::closed);
            default: return unexpected(try_recv_error::empty);
        }
    }

    /// Blocking twin of recv(), for plain threads. Precondition: not on a runtime worker.
    std::optional<T> blocking_recv() {
        recv_operation op(chan_);
        ::corio::detail::blocking_poll(op);
        return op.await_resume();
    }

    /// Closes the channel for every sender (pending and later sends fail and hand their value
    /// back) while keeping what is queued for the receivers; then recv() yields nullopt.
    void close() noexcept {
        if (chan_) chan_->close();
    }

    /// True once the channel was closed, or every sender is gone (values may still be queued).
    bool is_closed() const noexcept { return !chan_ || chan_->is_rx_closed() || chan_->sender_count() == 0; }
    /// Messages queued now (a rendezvous channel queues none).
    std::size_t len() const noexcept { return chan_ ? chan_->len() : 0; }
    /// True if len() is 0.
    bool is_empty() const noexcept { return len() == 0; }
    /// Bounded: free slots now; unbounded: SIZE_MAX; rendezvous: 0.
    std::size_t capacity() const noexcept {
        if (!chan_) return 0;
        if (!chan_->bounded()) return chan_->max_capacity();
        const std::size_t n = chan_->len();
        return n < chan_->max_capacity() ? chan_->max_capacity() - n : 0;
    }
    /// The capacity the channel was created with (unbounded: SIZE_MAX).
    std::size_t max_capacity() const noexcept { return chan_ ? chan_->max_capacity() : 0; }
    /// How many senders the channel has; 0 means no value will be added.
    std::size_t sender_count() const noexcept { return chan_ ? chan_->sender_count() : 0; }
    /// How many receivers the channel has (this one included).
    std::size_t receiver_count() const noexcept { return chan_ ? chan_->receiver_count() : 0; }
    /// The channel's counters, if it was made `with_metrics` (corio/channels/metrics.hpp).
    std::optional<channel_metrics> metrics() const noexcept {
        return chan_ ? chan_->metrics().snapshot() : std::nullopt;
    }
    /// An identity of the channel, for same_channel() across handle types.
    const void* channel_id() const noexcept { return chan_; }
    /// True if `other` (a sender or receiver) belongs to this channel.
    template <class H>
    bool same_channel(const H& other) const noexcept {
        return chan_ && static_cast<const void*>(chan_) == other.channel_id();
    }

private:
    friend std::pair<sender<T>, receiver<T>> channel<T>(std::size_t, const channel_options&);
    friend std::pair<unbounded_sender<T>, receiver<T>> unbounded_channel<T>(const channel_options&);
    explicit receiver(chan_t* c) noexcept : chan_(c) {}

    void drop() noexcept {
        if (auto* c = std::exchange(chan_, nullptr)) {
            c->drop_receiver();
            c->release();
        }
    }

    chan_t* chan_ = nullptr;
};

}  // namespace corio::mpmc
