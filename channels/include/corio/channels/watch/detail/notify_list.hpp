// corio/channels/watch/detail/notify_list.hpp — the waiter list of a watch channel: changed() /
// wait_for() waiters on one, closed() waiters on another, and the protocol that keeps a waiter
// from missing the notification it waits for.
#pragma once

#include <corio/channels/detail/waiter_list.hpp>
#include <corio/runtime/waker.hpp>

#include <atomic>
#include <cstddef>
#include <mutex>
#include <utility>

namespace corio::detail {

// Waiters of one condition of a watch channel (a new version, or no receivers left), Tokio's
// Notify::notify_waiters without permits.
//
// Protocol (register, then re-check; never check, then register):
//   1. A waiter checks its condition; if it is false it enqueues itself (which publishes the new
//      length with a seq_cst store), then checks again with a seq_cst load; only if it is still
//      false does it report pending.
//   2. A notifier first makes the condition true with a seq_cst RMW, then loads len_ (seq_cst);
//      if it is non-zero it locks, pops every waiter, unlocks and wakes them.
//   Either the notifier's len_ load sees the waiter (and wakes it), or it precedes the waiter's
//   len_ store in the seq_cst order, and then the waiter's re-check follows the notifier's RMW
//   and sees the condition true.
class watch_notify_list {
public:
    // Step 1: links `w` (or keeps it linked) with a waker for `r`. The owner calls this only from
    // its own poll, so never concurrently for one node.
    void enqueue(list_waiter& w, waker_ref r) noexcept {
        waker old;
        if (!w.is_queued()) {
            // Lifetime: not queued, so the node is the owner's alone (list_waiter's Access rule).
            if (!w.waker_.will_wake(r)) w.waker_ = r.clone();
            std::lock_guard lock(mutex_);
            list_.push_front(&w);
            len_.store(list_.size(), std::memory_order_seq_cst);
            return;
        }
        std::unique_lock lock(mutex_);
        if (w.queued_.load(std::memory_order_relaxed)) {
            // Still linked: the waker slot is guarded by mutex_. Replace it if it wakes someone
            // else (leaf rule L6, docs/design/task-model.md: one waker per leaf); the old one is dropped after unlocking.
            if (!w.waker_.will_wake(r)) {
                old = std::move(w.waker_);
                w.waker_ = r.clone();
            }
            return;
        }
        // A notifier popped it between our load and the lock: relink.
        if (!w.waker_.will_wake(r)) {
            old = std::move(w.waker_);
            w.waker_ = r.clone();
        }
        list_.push_front(&w);
        len_.store(list_.size(), std::memory_order_seq_cst);
    }

    // Unlinks `w` if it is linked, and drops its waker (cancel() of a waiting operation, or its
    // destructor). Afterwards the node is the owner's (list_waiter's Access rule) and empty.
    void remove(list_waiter& w) noexcept {
        if (w.is_queued()) {
            std::lock_guard lock(mutex_);
            if (w.queued_.load(std::memory_order_relaxed)) {
                list_.remove(&w);
                len_.store(list_.size(), std::memory_order_seq_cst);
            }
        }
        w.waker_.reset();  // not queued: ours (a notifier that popped it has moved it out already)
    }

    // Step 2, after the caller's seq_cst RMW made the condition true.
    void notify_waiters() noexcept {
        if (len_.load(std::memory_order_seq_cst) == 0) return;
        std::unique_lock lock(mutex_);
        wake_all_and_unlock(lock, list_, [this] { len_.store(list_.size(), std::memory_order_seq_cst); });
    }

private:
    std::mutex mutex_;
    waiter_list list_;                   // guarded by mutex_
    std::atomic<std::size_t> len_{0};    // list_.size(); written under mutex_, read without it
};

}  // namespace corio::detail
