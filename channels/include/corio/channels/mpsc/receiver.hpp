/// \file
/// corio/channels/mpsc/receiver.hpp — the receiving half of an mpsc channel, bounded or
/// unbounded (one receiver type for both, unlike Tokio's two): recv(), recv_many(), try_recv(),
/// close(). The receive protocol itself is chan::poll_recv (mpsc/detail/chan.hpp).
#pragma once

#include <corio/channels/metrics.hpp>
#include <corio/channels/mpsc/detail/chan.hpp>
#include <corio/channels/mpsc/error.hpp>
#include <corio/channels/mpsc/fwd.hpp>
#include <corio/result.hpp>
#include <corio/runtime/leaf.hpp>

#include <cassert>
#include <cstddef>
#include <optional>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace corio::stream {
template <class T>
class receiver_stream;
}  // namespace corio::stream

namespace corio::mpsc {

/// The receiving half (of a bounded or an unbounded channel). Move-only.
template <class T>
class receiver {
public:
    receiver() noexcept = default;
    /// Moves the receiving end; `o` is left empty.
    receiver(receiver&& o) noexcept : chan_(std::exchange(o.chan_, nullptr)) {}
    /// Drops this receiver (closing its channel), then takes over `o`'s.
    receiver& operator=(receiver&& o) noexcept {
        if (this != &o) {
            drop();
            chan_ = std::exchange(o.chan_, nullptr);
        }
        return *this;
    }
    receiver(const receiver&) = delete;
    receiver& operator=(const receiver&) = delete;
    ~receiver() { drop(); }

    /// False for a default-constructed or moved-from receiver.
    explicit operator bool() const noexcept { return chan_ != nullptr; }

    /// `co_await rx.recv()`: the next value, or nullopt once every sender is gone (or the
    /// receiver closed) and the queue is drained. Cancel safe.
    class [[nodiscard]] recv_operation : public leaf_awaiter<recv_operation> {
    public:
        /// Made by recv(); not called directly.
        explicit recv_operation(receiver* rx) noexcept : rx_(rx) {}
        recv_operation(const recv_operation&) = delete;
        recv_operation& operator=(const recv_operation&) = delete;
        ~recv_operation() { cancel(); }
        /// Takes the next value if one is queued; else registers the task's waker as the channel's
        /// one receiver waker.
        bool poll(context& cx) noexcept override {
            pending_ = !rx_->chan_->poll_recv(cx, out_);
            return !pending_;
        }
        /// Drops the receiver's registered waker; nothing was taken.
        void cancel() noexcept override {
            if (std::exchange(pending_, false)) rx_->chan_->unregister_rx();
        }
        /// The value, or nullopt once every sender is gone (or the receiver closed) and the queue
        /// is drained.
        std::optional<T> await_resume() noexcept(std::is_nothrow_move_constructible_v<T>) { return std::move(out_); }
        /// What the pending operation waits for, in words, for runtime::dump() (corio/runtime/dump.hpp).
        void describe(std::string& out) const override {
            out += "recv on ";
            rx_->chan_->describe(out);
        }

    private:
        receiver* rx_;
        std::optional<T> out_;
        bool pending_ = false;  // the last poll returned false (the channel may hold our waker)
    };
    /// `co_await rx.recv()`: see recv_operation. Precondition: the receiver is non-empty.
    recv_operation recv() noexcept {
        assert(chan_ && "mpsc receiver: recv on an empty receiver");
        return recv_operation(this);
    }

    /// `co_await rx.recv_many(buf, limit)`: waits for at least one value, then appends up to
    /// `limit` queued values to `buf`; yields how many. 0 means closed and drained (or limit 0).
    /// Cancel safe. `buf` must stay alive while the operation is pending.
    class [[nodiscard]] recv_many_operation : public leaf_awaiter<recv_many_operation> {
    public:
        /// Made by recv_many(); not called directly.
        recv_many_operation(receiver* rx, std::vector<T>* buf, std::size_t limit) noexcept
            : rx_(rx), buf_(buf), limit_(limit) {}
        recv_many_operation(const recv_many_operation&) = delete;
        recv_many_operation& operator=(const recv_many_operation&) = delete;
        ~recv_many_operation() { cancel(); }
        /// Appends up to the limit if anything is queued; else registers the task's waker.
        bool poll(context& cx) noexcept override {
            pending_ = !rx_->chan_->poll_recv_many(cx, *buf_, limit_, count_);
            return !pending_;
        }
        /// Drops the receiver's registered waker; nothing was taken.
        void cancel() noexcept override {
            if (std::exchange(pending_, false)) rx_->chan_->unregister_rx();
        }
        /// How many values were appended; 0 means closed and drained (or a limit of 0).
        std::size_t await_resume() const noexcept { return count_; }
        /// What the pending operation waits for, in words, for runtime::dump() (corio/runtime/dump.hpp).
        void describe(std::string& out) const override {
            out += "recv_many on ";
            rx_->chan_->describe(out);
        }

    private:
        receiver* rx_;
        std::vector<T>* buf_;
        std::size_t limit_;
        std::size_t count_ = 0;
        bool pending_ = false;  // as recv_operation
    };
    /// `co_await rx.recv_many(buf, limit)`: see recv_many_operation. Fewer wakes and polls than a
    /// recv() per value under load.
    recv_many_operation recv_many(std::vector<T>& buf, std::size_t limit) noexcept {
        assert(chan_ && "mpsc receiver: recv_many on an empty receiver");
        return recv_many_operation(this, &buf, limit);
    }

    /// Never waits: a value, try_recv_error::empty, or try_recv_error::closed (every sender gone
    /// or receiver closed, and drained). A send that has claimed its slot but not yet finished
    /// writing it is waited for (briefly), so a completed send is never reported as empty.
    result<T, try_recv_error> try_recv() {
        assert(chan_ && "mpsc receiver: try_recv on an empty receiver");
        for (;;) {
            switch (chan_->peek()) {
                case ::corio::detail::mpsc::peek_result::value: {
                    T v = chan_->take();
                    chan_->add_permits(1);
                    return v;
                }
                case ::corio::detail::mpsc::peek_result::closed: return unexpected(try_recv_error::closed);
                case ::corio::detail::mpsc::peek_result::empty: break;
            }
            if (chan_->rx_closed() && chan_->is_idle()) return unexpected(try_recv_error::closed);
            if (!chan_->busy()) return unexpected(try_recv_error::empty);
            std::this_thread::yield();
        }
    }

    /// Blocking twin of recv(), for plain threads. Precondition: not on a runtime worker.
    std::optional<T> blocking_recv() {
        recv_operation op(this);
        ::corio::detail::blocking_poll(op);
        return op.await_resume();
    }

    /// Blocking twin of recv_many(), for plain threads. Precondition: not on a runtime worker.
    std::size_t blocking_recv_many(std::vector<T>& buf, std::size_t limit) {
        recv_many_operation op(this, &buf, limit);
        ::corio::detail::blocking_poll(op);
        return op.await_resume();
    }

    /// Closes the channel for the senders (sends fail, closed() completes) while keeping what is
    /// queued, and what is sent with permits reserved before the close, for receiving.
    void close() noexcept {
        if (chan_) chan_->close_rx();
    }

    /// True once the receiver closed, or every sender is gone.
    bool is_closed() const noexcept { return !chan_ || chan_->rx_closed() || chan_->sender_count() == 0; }
    /// Messages queued or being sent (for a bounded channel: slots in use, reserved ones included).
    std::size_t len() const noexcept { return chan_ ? chan_->len() : 0; }
    /// The channel's counters, if it was made `with_metrics` (corio/channels/metrics.hpp).
    std::optional<channel_metrics> metrics() const noexcept {
        return chan_ ? chan_->metrics().snapshot() : std::nullopt;
    }
    /// True if len() is 0.
    bool is_empty() const noexcept { return len() == 0; }
    /// Bounded: free capacity now; unbounded: max_capacity().
    std::size_t capacity() const noexcept {
        if (!chan_) return 0;
        return chan_->bounded() ? chan_->semaphore().available_permits() : chan_->max_capacity();
    }
    /// Bounded: the capacity it was created with; unbounded: SIZE_MAX.
    std::size_t max_capacity() const noexcept { return chan_ ? chan_->max_capacity() : 0; }
    /// True if `tx` (a sender, weak sender or receiver of either flavour) belongs to this channel.
    template <class S>
    bool same_channel(const S& tx) const noexcept {
        return chan_ && static_cast<const void*>(chan_) == tx.channel_id();
    }

private:
    friend std::pair<sender<T>, receiver<T>> channel<T>(std::size_t, const channel_options&);
    friend std::pair<unbounded_sender<T>, receiver<T>> unbounded_channel<T>(const channel_options&);
    friend class ::corio::stream::receiver_stream<T>;  // polls chan_ directly (no pinned operation)
    explicit receiver(detail::chan<T>* c) noexcept : chan_(c) {}

    void drop() noexcept {
        auto* c = std::exchange(chan_, nullptr);
        if (!c) return;
        c->close_rx();
        // Destroy what is queued now and give its capacity back. Values sent later with permits
        // reserved before the close are destroyed with the channel.
        std::size_t n = 0;
        while (c->peek() == ::corio::detail::mpsc::peek_result::value) {
            c->discard();
            ++n;
        }
        if (n) c->add_permits(n);
        c->release();
    }

    detail::chan<T>* chan_ = nullptr;
};

}  // namespace corio::mpsc
