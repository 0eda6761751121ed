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
// Code: the lock-free fast paths (try_acquire, release to the count, an acquire served from the
// count) are inline here; everything that takes the lock is in channels/src/batch_semaphore.cpp.
#pragma once

#include <corio/runtime/detail/adaptive_mutex.hpp>
#include <corio/runtime/detail/intrusive_list.hpp>
#include <corio/runtime/waker.hpp>

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
    ~batch_semaphore() { assert(waiters_.empty() && "batch_semaphore destroyed with queued waiters"); }

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
        release_slow(n);
    }

    /// Closes the semaphore: every queued and every later acquire fails with closed. Permits
    /// already held stay valid and may still be released.
    void close() noexcept;

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
            switch (sem_->try_acquire(requested_)) {  // the lock-free fast path
                case try_result::acquired: return poll_result::acquired;
                case try_result::closed: return poll_result::closed;
                case try_result::no_permits: break;
            }
            return sem_->poll_new(*this, w);
        }

        /// Undoes a pending poll: leaves the queue, drops the registered waker, and gives back
        /// every permit already assigned to the node (to the next waiters first, the rest to the
        /// count). Afterwards the acquirer is idle again: its next poll starts afresh and queues
        /// at the back. Idempotent; a no-op unless the last poll returned pending (after a poll
        /// that returned acquired the permits are the caller's; after closed there are none).
        void cancel() noexcept {
            if (queued_) sem_->cancel_queued(*this);
        }

    private:
        friend class batch_semaphore;
        batch_semaphore* sem_;
        const std::size_t requested_;
        // States of a node (queued_ / linked / needed_), linked meaning in sem_->waiters_:
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
        // the links in sem_->waiters_, and the waker add_permits_locked wakes.
        std::size_t needed_ = 0;
        list_hook<acquirer> hook_;
        waker waker_;
    };

private:
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
    // Guarded by mutex_: the waiter list, oldest at the front. The owner of a queued acquirer
    // tells whether it is still linked with waiters_.contains() under mutex_.
    intrusive_list<acquirer, &acquirer::hook_> waiters_;

    // Locked paths (batch_semaphore.cpp).
    void release_slow(std::size_t n) noexcept;
    void clear_has_waiters_locked(std::size_t n) noexcept;
    void add_permits_locked(std::size_t rem, std::unique_lock<adaptive_mutex>& lock) noexcept;
    poll_result poll_new(acquirer& a, waker_ref w) noexcept;
    poll_result poll_queued(acquirer& a, waker_ref w) noexcept;
    void cancel_queued(acquirer& a) noexcept;
};

}  // namespace corio::detail
