// corio/channels/detail/batch_semaphore.hpp — a fair, closable semaphore that hands out many
// permits at a time (Tokio's sync/batch_semaphore.rs). The bounded mpsc channel's capacity and
// corio::sync::semaphore are built on it.
//
//     detail::batch_semaphore sem(4);
//     detail::batch_semaphore::acquirer a(&sem, 2);          // lives in an awaiter (a leaf)
//     switch (a.poll(cx.waker())) { ... }                      // acquired / closed / pending
//
// An acquire that can be served from the atomic permit count takes its permits with one CAS and
// never touches the lock. Otherwise it locks the waiter list, takes whatever is left, and queues
// its `acquirer` node (which lives inside the awaiter: no allocation per wait) at the back.
// Released permits go to the oldest waiter first (`add_permits_locked`), and only once the queue
// is empty back to the atomic count, so the semaphore is FIFO-fair: while anyone waits the count
// is 0 and no newcomer can barge in.
//
// Cancel safety: cancel()ing (or destroying) an acquirer that is queued unlinks it, drops its
// waker, and gives back every permit already assigned to it, which are forwarded to the next
// waiters; the acquirer may then be polled again and queues at the back, as a new one would.
// Resumption: waiters are woken through their waker, after the lock is released (at most 32 per
// batch, as Tokio's WakeList); nothing is ever resumed inline.
// Thread safety: every operation may be called from any thread; one acquirer is polled by one
// task (or thread) at a time.
#pragma once

#include <corio/runtime/detail/adaptive_mutex.hpp>
#include <corio/runtime/waker.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <utility>

namespace corio::detail {

class batch_semaphore {
public:
    // The count is stored shifted by two bits (see word_).
    static constexpr std::size_t max_permits = SIZE_MAX >> 3;

    explicit batch_semaphore(std::size_t permits) noexcept : word_(permits << permit_shift) {
        assert(permits <= max_permits && "batch_semaphore: too many permits");
    }
    batch_semaphore(const batch_semaphore&) = delete;
    batch_semaphore& operator=(const batch_semaphore&) = delete;
    ~batch_semaphore() { assert(head_ == nullptr && "batch_semaphore destroyed with queued waiters"); }

    enum class try_result { acquired, no_permits, closed };
    enum class poll_result { pending, acquired, closed };

    std::size_t available_permits() const noexcept { return word_.load(std::memory_order_acquire) >> permit_shift; }
    bool is_closed() const noexcept { return word_.load(std::memory_order_acquire) & closed_bit; }

    /// Takes `n` permits if they are in the count now. Never queues; fails while others wait
    /// (the count is 0 then), which keeps the semaphore fair.
    try_result try_acquire(std::size_t n) noexcept {
        std::size_t cur = word_.load(std::memory_order_acquire);
        for (;;) {
            if (cur & closed_bit) return try_result::closed;
            if ((cur >> permit_shift) < n) return try_result::no_permits;
            if (word_.compare_exchange_weak(cur, cur - (n << permit_shift), std::memory_order_acq_rel,
                                            std::memory_order_acquire))
                return try_result::acquired;
        }
    }

    /// Gives `n` permits back (or adds new ones): to the oldest waiters first, the rest to the count.
    void release(std::size_t n) noexcept {
        if (n == 0) return;
        std::size_t cur = word_.load(std::memory_order_acquire);
        // Fast path: nobody waits, so the permits go straight to the count. The CAS fails if a
        // waiter queued meanwhile (it sets has_waiters under the lock), and we take the lock.
        while (!(cur & has_waiters_bit)) {
            assert((cur >> permit_shift) + n <= max_permits && "batch_semaphore: permit overflow");
            if (word_.compare_exchange_weak(cur, cur + (n << permit_shift), std::memory_order_acq_rel,
                                            std::memory_order_acquire))
                return;
        }
        std::unique_lock lock(mutex_);
        add_permits_locked(n, lock);
    }

    /// Closes the semaphore: every queued and every later acquire fails with closed. Permits
    /// already held stay valid and may still be released.
    void close() noexcept {
        std::unique_lock lock(mutex_);
        // Set under the lock, so that no acquirer can queue after this (they check closed_bit
        // with the lock held) and the list below is the complete set of waiters.
        word_.fetch_or(closed_bit, std::memory_order_acq_rel);
        for (;;) {
            std::array<waker, wake_batch> wakers;
            std::size_t k = 0;
            while (head_ && k < wake_batch) {
                acquirer* w = head_;
                unlink(w);
                wakers[k++] = std::move(w->waker_);
            }
            if (!head_) clear_has_waiters_locked(0);
            const bool more = head_ != nullptr;
            lock.unlock();
            for (std::size_t i = 0; i < k; ++i) std::move(wakers[i]).wake();
            if (!more) return;
            lock.lock();
        }
    }

    /// The waiter node of one acquire, embedded in an awaiter. Not movable: once queued, the
    /// semaphore's list points at it.
    class acquirer {
    public:
        acquirer(batch_semaphore* sem, std::size_t n) noexcept : sem_(sem), requested_(n) {}
        acquirer(const acquirer&) = delete;
        acquirer& operator=(const acquirer&) = delete;
        ~acquirer() { cancel(); }

        std::size_t requested() const noexcept { return requested_; }

        /// acquired: `requested()` permits now belong to the caller. closed: none do (any that
        /// were assigned went back). pending: `w` is registered (replacing an older waker) and the
        /// node is queued; poll again when woken.
        poll_result poll(waker_ref w) noexcept {
            if (queued_) return sem_->poll_queued(*this, w);
            return sem_->poll_new(*this, w);
        }

        /// Undoes a pending poll: leaves the queue, drops the registered waker, and gives back
        /// every permit already assigned to the node (to the next waiters first, the rest to the
        /// count). Afterwards the acquirer is idle again: its next poll starts afresh and queues
        /// at the back. Idempotent; a no-op unless the last poll returned pending (after a poll
        /// that returned acquired the permits are the caller's; after closed there are none).
        void cancel() noexcept {
            if (!queued_) return;
            queued_ = false;
            waker old;  // declared before the lock: dropped after it is released
            std::unique_lock lock(sem_->mutex_);
            if (linked_) {
                // Waiting: the waker is still ours to drop. (Once unlinked by add_permits_locked
                // or close(), they moved it out.)
                sem_->unlink(this);
                old = std::move(waker_);
                if (!sem_->head_) sem_->clear_has_waiters_locked(0);
            }
            const std::size_t assigned = requested_ - needed_;
            needed_ = 0;
            if (assigned > 0) sem_->add_permits_locked(assigned, lock);  // unlocks
        }

    private:
        friend class batch_semaphore;
        batch_semaphore* sem_;
        const std::size_t requested_;
        // States of a node (queued_ / linked_ / needed_):
        //   idle      (false / false / -): never polled, or its last poll returned acquired or
        //             closed, or it was cancelled. The list does not know it.
        //   waiting   (true / true / > 0): a poll returned pending; the node is in the list with
        //             a waker, and add_permits_locked may lower needed_ (partial assignment).
        //   granted   (true / false / 0): add_permits_locked assigned the last missing permit,
        //             unlinked it and took its waker to wake it.
        //   refused   (true / false / > 0): close() unlinked it and took its waker; the permits
        //             assigned so far (requested_ - needed_) are still the node's.
        // Transitions: idle -> waiting (poll_new, under the lock); waiting -> granted / refused
        //   (add_permits_locked / close(), under the lock, any thread); waiting / granted /
        //   refused -> idle by the owner under the lock: a poll (granted: acquired, refused: the
        //   assigned permits go back, closed) or cancel() (the assigned permits go back, the
        //   waker of a waiting node is dropped). Only the owner (poll and cancel(), never
        //   concurrent) leaves a queued_ state; add_permits_locked and close() race with it only
        //   through the fields guarded by the lock.
        // Owned by the polling side (never read by other threads): true from a pending poll until
        // the node is observed as done (ready poll, cancel).
        bool queued_ = false;
        // Guarded by sem_->mutex_ while queued_: permits still missing (0 = fully assigned),
        // whether the node is in the list, list links, and the waker add_permits_locked wakes.
        std::size_t needed_ = 0;
        bool linked_ = false;
        acquirer* prev_ = nullptr;
        acquirer* next_ = nullptr;
        waker waker_;
    };

private:
    static constexpr std::size_t wake_batch = 32;

    // word_ — the permit count and two flags.
    // Bits:     closed (0): set once, by close() under mutex_, never cleared. Acquires fail once
    //                       they see it; waiters are dequeued and woken by close().
    //           has_waiters (1): set iff the waiter list is non-empty. Changed only under mutex_
    //                       (by an acquirer that queues, and by whoever empties the list), so a
    //                       lock holder may trust it.
    //           count (2..): permits free to take without the lock.
    // Invariant: has_waiters => count == 0. A queuing acquirer takes the whole count in the CAS
    //           that sets has_waiters, and while the bit is set released permits go through
    //           add_permits_locked to the waiters, never to the count. This is what makes the
    //           lock-free fast paths (acquire, try_acquire, release) fair.
    // Ordering: acq_rel RMWs throughout: a permit handed over through the count carries the
    //           releaser's prior writes to the acquirer (a semaphore is also a lock). Hand-overs
    //           through the list are ordered by mutex_ (and the waker's own synchronisation).
    static constexpr std::size_t closed_bit = 1;
    static constexpr std::size_t has_waiters_bit = 2;
    static constexpr unsigned permit_shift = 2;

    // Not over-aligned on purpose: semaphores, mutexes and rw_locks live in coroutine frames,
    // and g++ 12 does not honour a frame member's alignment above 16 (UBSan: misaligned address).
    // Owners that need it on its own cache line (mpsc's chan, heap-allocated) align the member.
    std::atomic<std::size_t> word_;
    adaptive_mutex mutex_;
    // Guarded by mutex_: the waiter list, oldest at head_.
    acquirer* head_ = nullptr;
    acquirer* tail_ = nullptr;

    void link_back(acquirer* w) noexcept {
        w->prev_ = tail_;
        w->next_ = nullptr;
        if (tail_) tail_->next_ = w;
        else head_ = w;
        tail_ = w;
        w->linked_ = true;
    }
    void unlink(acquirer* w) noexcept {
        if (w->prev_) w->prev_->next_ = w->next_;
        else head_ = w->next_;
        if (w->next_) w->next_->prev_ = w->prev_;
        else tail_ = w->prev_;
        w->prev_ = w->next_ = nullptr;
        w->linked_ = false;
    }

    // Under the lock, with the list empty: clears has_waiters and adds `n` to the count in one RMW.
    void clear_has_waiters_locked(std::size_t n) noexcept {
        std::size_t cur = word_.load(std::memory_order_acquire);
        while (!word_.compare_exchange_weak(cur, (cur & ~has_waiters_bit) + (n << permit_shift),
                                            std::memory_order_acq_rel, std::memory_order_acquire)) {
        }
    }

    // Tokio's add_permits_locked: assigns `rem` permits to waiters oldest first; a waiter whose
    // need is met leaves the list and its waker is woken after the lock is released. Unlocks.
    void add_permits_locked(std::size_t rem, std::unique_lock<adaptive_mutex>& lock) noexcept {
        for (;;) {
            if (!lock.owns_lock()) lock.lock();
            std::array<waker, wake_batch> wakers;
            std::size_t k = 0;
            while (rem > 0 && head_ && k < wake_batch) {
                acquirer* w = head_;
                const std::size_t give = std::min(w->needed_, rem);
                w->needed_ -= give;
                rem -= give;
                if (w->needed_ != 0) break;
                unlink(w);
                wakers[k++] = std::move(w->waker_);
            }
            if (!head_ && (rem > 0 || (word_.load(std::memory_order_relaxed) & has_waiters_bit))) {
                clear_has_waiters_locked(rem);
                rem = 0;
            }
            lock.unlock();
            for (std::size_t i = 0; i < k; ++i) std::move(wakers[i]).wake();
            if (rem == 0) return;
        }
    }

    poll_result poll_new(acquirer& a, waker_ref w) noexcept {
        const std::size_t n = a.requested_;
        std::size_t cur = word_.load(std::memory_order_acquire);
        // Fast path, without the lock.
        for (;;) {
            if (cur & closed_bit) return poll_result::closed;
            if ((cur >> permit_shift) < n) break;
            if (word_.compare_exchange_weak(cur, cur - (n << permit_shift), std::memory_order_acq_rel,
                                            std::memory_order_acquire))
                return poll_result::acquired;
        }
        // Slow path: lock first, so that no permit can be released (they all go through the lock
        // once has_waiters is set) between taking the count and queuing.
        waker fresh = w.clone();  // cloned outside the lock
        std::unique_lock lock(mutex_);
        cur = word_.load(std::memory_order_acquire);
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
        link_back(&a);
        a.queued_ = true;
        return poll_result::pending;
    }

    poll_result poll_queued(acquirer& a, waker_ref w) noexcept {
        waker old;  // destroyed after the lock is released
        std::unique_lock lock(mutex_);
        if (!a.linked_) {
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
};

}  // namespace corio::detail
