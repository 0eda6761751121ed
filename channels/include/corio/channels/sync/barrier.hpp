/// \file
/// corio/channels/sync/barrier.hpp — let n tasks wait for each other (Tokio's sync::Barrier).
///
///     corio::sync::barrier b(3);
///     auto r = co_await b.wait();          // in each of 3 tasks
///     if (r.is_leader()) { ... }           // true for exactly one of them per generation
///
/// The n-th wait() of a generation completes the generation: it returns at once with
/// is_leader() == true, and the n-1 earlier waits complete with is_leader() == false. The barrier
/// is then empty and reusable: the next n waits form the next generation. A barrier of 0 behaves
/// as a barrier of 1 (every wait is a leader), as Tokio's does.
///
/// Cancel safety: `co_await b.wait()` is cancel safe: a wait cancelled or destroyed before its
///   generation completed withdraws its arrival (the barrier then needs one more wait to release
///   the others), so the state is as if it never ran, and polled again it arrives anew. A release
///   cannot be taken back from the other waiters: a wait cancelled after its generation completed
///   only leaves the list (dropping its waker) and stays complete, so its next poll reports the
///   release (as a non-leader).
/// Memory ordering: everything each waiter did before wait() happens-before every wait() of that
///   generation returns.
/// Resumption: waiters are woken through their waker after the internal lock is released.
/// Thread safety: every member may be called from any thread. Preconditions (debug assertions):
///   the barrier outlives its pending waits.
/// Code: the locked paths are in channels/src/barrier.cpp.
#pragma once

#include <corio/runtime/detail/intrusive_list.hpp>
#include <corio/runtime/leaf.hpp>
#include <corio/runtime/waker.hpp>

#include <atomic>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <utility>

namespace corio::sync {

/// What a barrier wait yields: whether this waiter completed its generation.
class barrier_wait_result {
public:
    /// The result of a wait that was a leader (`leader` true) or not.
    explicit barrier_wait_result(bool leader) noexcept : leader_(leader) {}
    /// True for exactly one wait per generation: the n-th, which released the others.
    bool is_leader() const noexcept { return leader_; }

private:
    bool leader_;
};

/// Lets n tasks wait for each other (Tokio's sync::Barrier): the n-th wait() of a generation
/// releases the n-1 earlier ones, and the barrier is then reusable for the next n. Cancel safe: a
/// wait cancelled before its generation completed withdraws its arrival. Every member may be called
/// from any thread; the barrier must outlive its pending waits.
class barrier {
public:
    /// A barrier for `n` tasks; 0 behaves as 1 (every wait is a leader), as in Tokio.
    explicit barrier(std::size_t n) noexcept : n_(n == 0 ? 1 : n) {}
    barrier(const barrier&) = delete;
    barrier& operator=(const barrier&) = delete;
    ~barrier() { assert(waiters_.empty() && "barrier destroyed with pending waits"); }

    class wait_operation;
    /// `co_await b.wait()` completes when n waits of this generation have arrived.
    [[nodiscard]] inline wait_operation wait() noexcept;

private:
    // The waiter node of a wait(), embedded in its awaiter.
    // Access:   hook_, waker_ and gen_ are guarded by mutex_ while released_ is false and
    //           the node is linked; afterwards they belong to the owner.
    //           released_ is stored (true) under mutex_ by the leader that unlinks the node, as
    //           its last touch of it.
    // Ordering: release store of released_ pairs with the owner's acquire load: seeing true, the
    //           owner completes or destroys the node without the lock.
    struct waiter {
        ::corio::detail::list_hook<waiter> hook_;
        waker waker_;
        std::uint64_t gen_ = 0;
        std::atomic<bool> released_{false};
    };

    const std::size_t n_;
    std::mutex mutex_;
    // Guarded by mutex_: arrivals in the current generation (< n_), the generation number (only
    // incremented, by a leader), and the waiters, newest at the front, oldest at the back.
    // Waiters of older generations not yet released (a leader unlocks between wake batches) sit
    // behind the current ones, so a leader releases from the back every node of an older
    // generation.
    std::size_t arrived_ = 0;
    std::uint64_t generation_ = 0;
    ::corio::detail::intrusive_list<waiter, &waiter::hook_> waiters_;

    // Leader: completes the generation and releases its waiters, waking them outside the lock
    // (barrier.cpp).
    void release_generation(std::unique_lock<std::mutex>& lock) noexcept;
};

/// Awaiter of wait(): a leaf whose node waits in the barrier's list. Pinned once polled.
class [[nodiscard]] barrier::wait_operation final : public leaf_awaiter<wait_operation> {
public:
    /// Made by wait(); not called directly.
    explicit wait_operation(barrier* b) noexcept : b_(b) {}
    wait_operation(const wait_operation&) = delete;
    wait_operation& operator=(const wait_operation&) = delete;
    ~wait_operation() override { cancel(); }

    /// Undoes a pending poll: withdraws the arrival and leaves the list (dropping the waker), so
    /// the next poll arrives anew; or, if the generation already completed, keeps the release
    /// for the next poll and only makes sure the list no longer holds node_. Idempotent; a no-op
    /// unless the last poll returned false.
    void cancel() noexcept override {
        if (phase_ == phase::waiting) cancel_waiting();
    }

    /// Arrives (completing the generation if it is the n-th), or checks whether its generation was
    /// released; registers the task's waker while waiting.
    bool poll(context& cx) noexcept override {
        if (phase_ == phase::done) return true;
        if (!cx.poll_budget()) return false;
        if (phase_ == phase::waiting) return poll_waiting(cx);
        return arrive(cx);
    }
    /// Whether this wait was the generation's leader.
    barrier_wait_result await_resume() const noexcept { return barrier_wait_result(leader_); }

private:
    // phase_ — owned by the polling side (poll and cancel never run concurrently).
    //   init -> done: the arrival completed the generation (leader_).
    //   init -> waiting: arrived, node_ linked under the lock with gen_ = the current generation.
    //   waiting -> done: a poll, or cancel(), sees released_ (stored by the leader that unlinked
    //     node_), or cancel() finds gen_ older than the current generation (completed; it unlinks
    //     node_ itself, under the lock, before that leader reaches it).
    //   waiting -> init: cancel() under the lock, gen_ still current: unlinks node_ and
    //     decrements arrived_. released_ is still false then, so a later arrival reuses node_.
    //   done is final; cancel() leaves it alone.
    enum class phase { init, waiting, done };
    barrier* b_;
    barrier::waiter node_;
    phase phase_ = phase::init;
    bool leader_ = false;

    // barrier.cpp
    bool arrive(context& cx) noexcept;
    bool poll_waiting(context& cx) noexcept;
    void cancel_waiting() noexcept;
};

inline barrier::wait_operation barrier::wait() noexcept { return wait_operation(this); }

}  // namespace corio::sync
