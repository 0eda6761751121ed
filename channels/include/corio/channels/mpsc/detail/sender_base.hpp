// corio/channels/mpsc/detail/sender_base.hpp — what the bounded and the unbounded sender share:
// the strong reference to the channel (copying a sender adds a producer), closed(), and the weak
// handle that does not keep the channel open. The public senders are in bounded.hpp and
// unbounded.hpp.
#pragma once

#include <corio/channels/metrics.hpp>
#include <corio/channels/mpsc/detail/chan.hpp>
#include <corio/runtime/leaf.hpp>
#include <corio/runtime/waker.hpp>

#include <cassert>
#include <cstddef>
#include <optional>
#include <utility>

namespace corio::mpsc::detail {

// What both kinds of sender share: the strong reference, copy semantics, closed().
template <class T>
class sender_base {
public:
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

    /// False if moved from.
    explicit operator bool() const noexcept { return chan_ != nullptr; }

    /// True once the receiver was destroyed or closed: every send fails from now on.
    bool is_closed() const noexcept { return !chan_ || chan_->is_rx_closed(); }
    /// Whether both handles belong to the same channel.
    bool same_channel(const sender_base& o) const noexcept { return chan_ == o.chan_; }
    /// Identifies the channel (for same_channel between different handle kinds).
    const void* channel_id() const noexcept { return chan_; }

    /// The channel's counters, if it was made `with_metrics` (corio/channels/metrics.hpp).
    std::optional<channel_metrics> metrics() const noexcept {
        return chan_ ? chan_->metrics().snapshot() : std::nullopt;
    }
    /// Strong senders alive (this one included).
    std::size_t strong_count() const noexcept { return chan_ ? chan_->sender_count() : 0; }

    /// `co_await tx.closed()` completes once the receiver is destroyed or closed. Cancel safe.
    class [[nodiscard]] closed_operation : public leaf_awaiter<closed_operation> {
    public:
        explicit closed_operation(chan<T>* c) noexcept : chan_(c) {}
        closed_operation(const closed_operation&) = delete;
        closed_operation& operator=(const closed_operation&) = delete;
        ~closed_operation() { cancel(); }
        bool poll(context& cx) noexcept override {
            polled_ = true;
            return chan_->poll_closed(node_, cx.waker());
        }
        /// Leaves the closed() waiters (the node goes back to idle: closed_waiters.hpp).
        void cancel() noexcept override {
            if (std::exchange(polled_, false)) chan_->cancel_closed(node_);
        }
        void await_resume() const noexcept {}

    private:
        chan<T>* chan_;
        closed_waiter node_;
        bool polled_ = false;
    };
    closed_operation closed() noexcept {
        assert(chan_ && "mpsc sender: closed() on an empty sender");
        return closed_operation(chan_);
    }

    /// Blocking twin of closed(), for plain threads. Precondition: not on a runtime worker.
    void blocking_closed() {
        closed_operation op = closed();
        ::corio::detail::blocking_poll(op);
    }

protected:
    sender_base() noexcept = default;
    explicit sender_base(chan<T>* c) noexcept : chan_(c) {}

    void drop() noexcept {
        if (auto* c = std::exchange(chan_, nullptr)) {
            c->drop_sender();
            c->release();
        }
    }

    chan<T>* chan_ = nullptr;
};

template <class T>
class weak_base {
public:
    weak_base(const weak_base& o) noexcept : chan_(o.chan_) {
        if (chan_) chan_->retain();
    }
    weak_base(weak_base&& o) noexcept : chan_(std::exchange(o.chan_, nullptr)) {}
    weak_base& operator=(weak_base o) noexcept {
        std::swap(chan_, o.chan_);
        return *this;
    }
    ~weak_base() {
        if (chan_) chan_->release();
    }

protected:
    weak_base() noexcept = default;
    explicit weak_base(chan<T>* c) noexcept : chan_(c) {
        if (chan_) chan_->retain();
    }
    chan<T>* chan_ = nullptr;
};

}  // namespace corio::mpsc::detail
