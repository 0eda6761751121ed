// corio/channels/mpsc/detail/closed_waiters.hpp — the senders waiting in closed() for the
// receiver to close (or go): a mutex-guarded intrusive list of nodes that live in the awaiters.
// One per channel (chan::closed_waiters_).
#pragma once

#include <corio/runtime/detail/intrusive_list.hpp>
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
    list_hook<closed_waiter> hook_;  // both guarded by closed_waiter_list::mutex_
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
            if (waiters_.contains(&node)) waiters_.remove(&node);
            old = std::move(node.waker_);
            return true;
        }
        if (!node.waker_.will_wake(w)) old = std::exchange(node.waker_, w.clone());
        if (!waiters_.contains(&node)) waiters_.push_back(&node);
        return false;
    }

    /// Unlinks `node` if it is linked and drops its waker (dropped after the lock is released).
    /// Afterwards the node is as never polled. (notify_all moves the waker out of each node it
    /// unlinks, under the lock, so an unlinked node's waker is the owner's.)
    void cancel(closed_waiter& node) noexcept {
        waker old;
        std::lock_guard lock(mutex_);
        if (waiters_.contains(&node)) waiters_.remove(&node);
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
                while (!waiters_.empty() && k < wakers.size()) wakers[k++] = std::move(waiters_.pop_front()->waker_);
                more = !waiters_.empty();
            }
            for (std::size_t i = 0; i < k; ++i) std::move(wakers[i]).wake();
            if (!more) return;
        }
    }

private:
    std::mutex mutex_;
    intrusive_list<closed_waiter, &closed_waiter::hook_> waiters_;  // guarded by mutex_
};

}  // namespace corio::detail::mpsc
