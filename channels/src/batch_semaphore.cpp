// The locked paths of detail::batch_semaphore (corio/channels/detail/batch_semaphore.hpp, which
// documents the word_ bits, the acquirer states and the fairness invariant these keep).
#include <corio/channels/detail/batch_semaphore.hpp>
#include <corio/channels/detail/waiter_list.hpp>

#include <algorithm>

namespace corio::detail {

void batch_semaphore::release_slow(std::size_t n) noexcept {
    std::unique_lock lock(mutex_);
    add_permits_locked(n, lock);
}

void batch_semaphore::close() noexcept {
    std::unique_lock lock(mutex_);
    // Set under the lock, so that no acquirer can queue after this (they check closed_bit
    // with the lock held) and the list below is the complete set of waiters.
    word_.fetch_or(closed_bit, std::memory_order_acq_rel);
    for (;;) {
        wake_batch wakers;
        while (!waiters_.empty() && !wakers.full()) wakers.push(std::move(waiters_.pop_front()->waker_));
        if (waiters_.empty()) clear_has_waiters_locked(0);
        const bool more = !waiters_.empty();
        lock.unlock();
        wakers.wake_all();
        if (!more) return;
        lock.lock();
    }
}

void batch_semaphore::cancel_queued(acquirer& a) noexcept {
    a.queued_ = false;
    waker old;  // declared before the lock: dropped after it is released
    std::unique_lock lock(mutex_);
    if (waiters_.contains(&a)) {
        // Waiting: the waker is still ours to drop. (Once unlinked by add_permits_locked
        // or close(), they moved it out.)
        waiters_.remove(&a);
        old = std::move(a.waker_);
        if (waiters_.empty()) clear_has_waiters_locked(0);
    }
    const std::size_t assigned = a.requested_ - a.needed_;
    a.needed_ = 0;
    if (assigned > 0) add_permits_locked(assigned, lock);  // unlocks
}

// Under the lock, with the list empty: clears has_waiters and adds `n` to the count in one RMW.
void batch_semaphore::clear_has_waiters_locked(std::size_t n) noexcept {
    std::size_t cur = word_.load(std::memory_order_acquire);
    while (!word_.compare_exchange_weak(cur, (cur & ~has_waiters_bit) + (n << permit_shift),
                                        std::memory_order_acq_rel, std::memory_order_acquire)) {
    }
}

// Tokio's add_permits_locked: assigns `rem` permits to waiters oldest first; a waiter whose
// need is met leaves the list and its waker is woken after the lock is released. Unlocks.
void batch_semaphore::add_permits_locked(std::size_t rem, std::unique_lock<adaptive_mutex>& lock) noexcept {
    for (;;) {
        if (!lock.owns_lock()) lock.lock();
        wake_batch wakers;
        while (rem > 0 && !waiters_.empty() && !wakers.full()) {
            acquirer* w = waiters_.front();
            const std::size_t give = std::min(w->needed_, rem);
            w->needed_ -= give;
            rem -= give;
            if (w->needed_ != 0) break;
            waiters_.remove(w);
            wakers.push(std::move(w->waker_));
        }
        if (waiters_.empty() && (rem > 0 || (word_.load(std::memory_order_relaxed) & has_waiters_bit))) {
            clear_has_waiters_locked(rem);
            rem = 0;
        }
        lock.unlock();
        wakers.wake_all();
        if (rem == 0) return;
    }
}

// A first poll that the count could not serve at once (acquirer::poll tried try_acquire).
batch_semaphore::poll_result batch_semaphore::poll_new(acquirer& a, waker_ref w) noexcept {
    const std::size_t n = a.requested_;
    // Lock first, so that no permit can be released (they all go through the lock once
    // has_waiters is set) between taking the count and queuing.
    waker fresh = w.clone();  // cloned outside the lock
    std::unique_lock lock(mutex_);
    std::size_t cur = word_.load(std::memory_order_acquire);
    std::size_t took = 0;
    for (;;) {
        if (cur & closed_bit) return poll_result::closed;
        const std::size_t avail = cur >> permit_shift;
        if (avail >= n) {
            // Released between the fast path and the lock (the list must be empty then).
            if (word_.compare_exchange_weak(cur, cur - (n << permit_shift), std::memory_order_acq_rel,
                                            std::memory_order_acquire))
                return poll_result::acquired;
            continue;
        }
        if (word_.compare_exchange_weak(cur, (cur & closed_bit) | has_waiters_bit, std::memory_order_acq_rel,
                                        std::memory_order_acquire)) {
            took = avail;
            break;
        }
    }
    a.needed_ = n - took;
    a.waker_ = std::move(fresh);
    waiters_.push_back(&a);
    a.queued_ = true;
    return poll_result::pending;
}

batch_semaphore::poll_result batch_semaphore::poll_queued(acquirer& a, waker_ref w) noexcept {
    waker old;  // destroyed after the lock is released
    std::unique_lock lock(mutex_);
    if (!waiters_.contains(&a)) {
        a.queued_ = false;
        // Fully assigned by add_permits_locked, or dequeued by close().
        if (a.needed_ == 0) return poll_result::acquired;
        const std::size_t assigned = a.requested_ - a.needed_;
        if (assigned > 0) add_permits_locked(assigned, lock);
        return poll_result::closed;
    }
    if (!a.waker_.will_wake(w)) old = std::exchange(a.waker_, w.clone());
    return poll_result::pending;
}

}  // namespace corio::detail
