// corio/channels/mpsc/detail/closed_waiters.hpp — the senders waiting in closed() for the
// receiver to close (or go): a mutex-guarded intrusive list of nodes that live in the awaiters.
// One per channel (chan::closed_waiters_).
#pragma once

#include <corio/runtime/waker.hpp>

#include <array>
#include <cstddef>
#include <mutex>
#include <utility>

namespace corio::detail::mpsc {

// A sender waiting in closed() (the node lives in the awaiter).
// States: idle (not linked, no waker: never polled, or cancelled), waiting (linked, with the
//   waker of its last poll), notified (unlinked by notify_all, which moved the waker out to wake
//   it). idle -> waiting: a pending poll. waiting -> notified: close_rx (chan.hpp).
//   waiting / notified -> idle: a ready poll, or cancel (both drop the waker).
struct closed_waiter {
    closed_waiter* prev_ = nullptr;  // all four guarded by closed_waiter_list::mutex_
    closed_waiter* next_ = nullptr;
    bool linked_ = false;
    waker waker_;
};

class closed_waiter_list {
public:
    closed_waiter_list() = default;
    closed_waiter_list(const closed_waiter_list&) = delete;
    closed_waiter_list& operator=(const closed_waiter_list&) = delete;

    /// True when is_closed() (the receiver has closed); otherwise `w` is registered in `node`
    /// (re-polls replace the waker). Register-then-check: is_closed() is re-read under the lock
    /// that notify_all() takes after the closer set the closed flag.
    template <class IsClosed>
    bool poll(closed_waiter& node, waker_ref w, IsClosed is_closed) noexcept {
        if (is_closed()) {
            cancel(node);
            return true;
        }
        waker old;
        std::lock_guard lock(mutex_);
        if (is_closed()) {
            if (node.linked_) unlink(&node);
            old = std::move(node.waker_);
            return true;
        }
        if (!node.waker_.will_wake(w)) old = std::exchange(node.waker_, w.clone());
        if (!node.linked_) {
            node.prev_ = tail_;
            node.next_ = nullptr;
            if (tail_) tail_->next_ = &node;
            else head_ = &node;
            tail_ = &node;
            node.linked_ = true;
        }
        return false;
    }

    /// Unlinks `node` if it is linked and drops its waker (dropped after the lock is released).
    /// Afterwards the node is as never polled. (notify_all moves the waker out of each node it
    /// unlinks, under the lock, so an unlinked node's waker is the owner's.)
    void cancel(closed_waiter& node) noexcept {
        waker old;
        std::lock_guard lock(mutex_);
        if (node.linked_) unlink(&node);
        old = std::move(node.waker_);
    }

    /// Unlinks every waiter and wakes it, in batches of 32, outside the lock. Called once the
    /// closed flag is set.
    void notify_all() noexcept {
        for (;;) {
            std::array<waker, 32> wakers;
            std::size_t k = 0;
            bool more;
            {
                std::lock_guard lock(mutex_);
                while (head_ && k < wakers.size()) {
                    closed_waiter* w = head_;
                    unlink(w);
                    wakers[k++] = std::move(w->waker_);
                }
                more = head_ != nullptr;
            }
            for (std::size_t i = 0; i < k; ++i) std::move(wakers[i]).wake();
            if (!more) return;
        }
    }

private:
    void unlink(closed_waiter* w) noexcept {
        if (w->prev_) w->prev_->next_ = w->next_;
        else head_ = w->next_;
        if (w->next_) w->next_->prev_ = w->prev_;
        else tail_ = w->prev_;
        w->prev_ = w->next_ = nullptr;
        w->linked_ = false;
    }

    std::mutex mutex_;
    closed_waiter* head_ = nullptr;  // guarded by mutex_
    closed_waiter* tail_ = nullptr;  // guarded by mutex_
};

}  // namespace corio::detail::mpsc
