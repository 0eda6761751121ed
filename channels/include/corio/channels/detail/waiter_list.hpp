// corio/channels/detail/waiter_list.hpp — intrusive waiter lists for channels whose operations
// wait on a shared condition (watch, broadcast), and the batch that wakes them outside the lock.
//
// A waiting operation (an awaiter, pinned while it is pending) embeds a list_waiter, a node of the
// runtime's intrusive_list (corio/runtime/detail/intrusive_list.hpp) with a waker. The list is
// guarded by a mutex that belongs to the channel; `queued_` mirrors list membership so that the
// owner of a node can tell, without the lock, that the list no longer refers to it. Wakers are
// moved out of the nodes under the lock and woken after it is released, in batches of 32 (Tokio's
// util/wake_list.rs): never wake while holding a lock the woken task may take.
#pragma once

#include <corio/runtime/detail/intrusive_list.hpp>
#include <corio/runtime/waker.hpp>

#include <atomic>
#include <cassert>
#include <cstddef>
#include <mutex>
#include <utility>

namespace corio::detail {

// One node per waiting operation.
//
// Access: hook_ and waker_ are guarded by the mutex of the list the node is in while
//         queued_ is true; while it is false they belong to the owner (the operation).
//         queued_ is written only under that mutex: set by the owner when it links the node,
//         cleared by whoever unlinks it (a notifier popping it, or the owner removing it).
// Ordering: a notifier moves waker_ out and then clears queued_ with release; the owner's acquire
//         load of false therefore means the list is done with the node, and the owner may reuse
//         or destroy it without taking the lock.
struct list_waiter {
    list_hook<list_waiter> hook_;
    waker waker_;
    std::atomic<bool> queued_{false};

    bool is_queued() const noexcept { return queued_.load(std::memory_order_acquire); }
};

// An intrusive_list of list_waiter that keeps queued_ in step; not synchronised (its owner's
// mutex guards it). New waiters go to the front and are popped from the back, so wakes are FIFO.
class waiter_list {
public:
    bool empty() const noexcept { return list_.empty(); }
    std::size_t size() const noexcept { return list_.size(); }

    void push_front(list_waiter* w) noexcept {
        assert(!w->queued_.load(std::memory_order_relaxed));
        list_.push_front(w);
        w->queued_.store(true, std::memory_order_relaxed);  // under the mutex: see list_waiter
    }

    // Unlinks the oldest waiter; the caller then moves its waker out and calls mark_unqueued().
    list_waiter* pop_back() noexcept { return list_.pop_back(); }

    // Precondition: w is in this list.
    void remove(list_waiter* w) noexcept {
        list_.remove(w);
        w->queued_.store(false, std::memory_order_relaxed);  // the owner itself: no publication needed
    }

    // Release: the notifier's last touch of the node (moving its waker) happens-before the
    // owner's acquire load in is_queued() that sees false.
    static void mark_unqueued(list_waiter* w) noexcept { w->queued_.store(false, std::memory_order_release); }

private:
    intrusive_list<list_waiter, &list_waiter::hook_> list_;
};

// Up to 32 wakers collected under a lock and woken after it is released.
class wake_batch {
public:
    static constexpr std::size_t capacity = 32;

    wake_batch() noexcept = default;
    wake_batch(const wake_batch&) = delete;
    wake_batch& operator=(const wake_batch&) = delete;
    ~wake_batch() { wake_all(); }

    bool full() const noexcept { return len_ == capacity; }
    void push(waker&& w) noexcept {
        assert(!full());
        wakers_[len_++] = std::move(w);
    }
    void wake_all() noexcept {
        for (std::size_t i = 0; i < len_; ++i) std::move(wakers_[i]).wake();
        len_ = 0;
    }

private:
    waker wakers_[capacity];
    std::size_t len_ = 0;
};

// Wakes every waiter that was in `list` on entry (`lock` must hold the list's mutex) and
// returns with `lock` released. Waiters are unlinked and their wakers moved out under the lock;
// the wakes happen with the lock released, 32 at a time. The count is bounded by the size on
// entry, so waiters that keep re-registering cannot hold the notifier in the loop forever (one
// that registers after the entry may be woken spuriously: harmless, it re-checks). `on_pop` runs
// under the lock for each waiter popped (bookkeeping such as a mirrored length).
template <class Lock, class OnPop>
void wake_all_and_unlock(Lock& lock, waiter_list& list, OnPop on_pop) noexcept {
    std::size_t remaining = list.size();
    wake_batch batch;
    while (remaining != 0) {
        list_waiter* w = list.pop_back();
        if (!w) break;
        --remaining;
        on_pop();
        if (w->waker_) batch.push(std::move(w->waker_));
        waiter_list::mark_unqueued(w);  // from here the owner may destroy w
        if (batch.full() && remaining != 0) {
            lock.unlock();
            batch.wake_all();
            lock.lock();
        }
    }
    lock.unlock();
    batch.wake_all();
}

template <class Lock>
void wake_all_and_unlock(Lock& lock, waiter_list& list) noexcept {
    wake_all_and_unlock(lock, list, [] {});
}

}  // namespace corio::detail
