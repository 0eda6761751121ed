/// \file
/// corio/channels/sync/notify.hpp — wake one task, or every waiting task, without data
/// (Tokio's sync::Notify).
///
///     corio::sync::notify n;
///     co_await n.notified();      // task A: waits for a notification
///     n.notify_one();             // task B (or a plain thread)
///
/// notify_one() wakes the oldest waiting notified(); if nobody waits it stores one permit (at most
/// one: further notify_one calls while a permit is stored do nothing), which the next notified()
/// consumes at once. notify_waiters() wakes every notified() that exists when it is called (even
/// one created but not yet awaited, as Tokio's Notified) and stores no permit.
/// The usual pattern creates the awaiter before checking the condition, so that a notify_waiters
/// in between is not lost:
///
///     auto wait = n.notified();
///     if (!condition()) co_await wait;
///
/// Cancel safety: `co_await n.notified()` is cancel safe. A pending notified() that is cancelled
///   or destroyed (a losing select / race / timeout operand, an aborted task) leaves the queue; if
///   a notify_one had already been handed to it, the notification is forwarded to the next waiter
///   (or stored as the permit) before cancel() returns: no notify_one is lost. A cancelled
///   notified() may be polled again: it queues at the back, and still completes at once if a
///   notify_waiters was called after it was created.
/// Memory ordering: a notify_one/notify_waiters call happens-before the return of the notified()
///   it completes.
/// Resumption: waiters are woken through their waker after the internal lock is released; nothing
///   is resumed inline.
/// Thread safety: every member may be called from any thread; one awaiter is awaited by one task
///   at a time. Precondition (debug assertion): the notify outlives its awaiters.
/// Code: notify_one() with no waiter is inline here; the paths that take the lock are in
///   channels/src/notify.cpp.
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

/// Wakes one task, or every waiting task, without data (Tokio's sync::Notify). notify_one() wakes
/// the oldest waiter or stores one permit for the next notified(); notify_waiters() wakes every
/// notified() that exists when it is called. Create the awaiter before checking the condition
/// (`auto w = n.notified(); if (!cond()) co_await w;`) so a notify in between is not lost. Cancel
/// safe: a cancelled waiter forwards a notification it had been handed. Every member may be called
/// from any thread.
class notify {
public:
    notify() noexcept = default;
    notify(const notify&) = delete;
    notify& operator=(const notify&) = delete;
    ~notify() { assert(waiters_.empty() && "notify destroyed with pending notified() awaiters"); }

    class notified_operation;

    /// Wakes the oldest waiter, or stores one permit if nobody waits.
    void notify_one() noexcept {
        std::uint64_t cur = state_.load(std::memory_order_acquire);
        // Lock-free path: no waiter, so the permit goes into the word. A waiter that queues
        // meanwhile sets `waiting` (under the lock), and the CAS fails.
        while ((cur & status_mask) != st_waiting) {
            if ((cur & status_mask) == st_notified) return;  // one permit at most
            if (state_.compare_exchange_weak(cur, (cur & ~status_mask) | st_notified, std::memory_order_acq_rel,
                                             std::memory_order_acquire))
                return;
        }
        notify_one_slow();
    }

    /// Wakes every notified() created before this call; stores no permit.
    void notify_waiters() noexcept;

    /// `co_await n.notified()` completes after a notify_one (or a stored permit) or a
    /// notify_waiters called after this call.
    [[nodiscard]] inline notified_operation notified() noexcept;

private:
    // The waiter node of a notified(), embedded in its awaiter (no allocation per wait).
    // Access:   hook_, waker_ are guarded by mutex_ while the node is linked (the owner
    //           linked it and notification_ is none); afterwards they belong to the owner.
    //           gen_ is set at creation and never changes.
    //           notification_ is written under mutex_ by whoever unlinks the node for a
    //           notification (one/all), as its last touch of the node; and reset to none by the
    //           owner's cancel() (under mutex_, the node unlinked), before the node is reused.
    // Ordering: release store of notification_ pairs with the owner's acquire load: seeing a
    //           notification, the owner may complete or destroy the node without the lock.
    struct waiter {
        ::corio::detail::list_hook<waiter> hook_;
        waker waker_;
        std::uint64_t gen_ = 0;
        std::atomic<std::uint8_t> notification_{none};
    };
    static constexpr std::uint8_t none = 0, by_one = 1, by_all = 2;

    // state_ — status and notify_waiters generation in one word (Tokio's Notify::state).
    // Bits:     status (0..1): st_empty (no waiter, no permit), st_waiting (the list is non-empty),
    //                          st_notified (one stored permit, no waiter).
    //           generation (2..): number of notify_waiters calls; only incremented, under mutex_.
    // Invariant: status == waiting iff the list is non-empty. Only lock holders set or clear
    //           waiting; while waiting, the word changes only under the lock. Outside the lock
    //           only two transitions happen: empty -> notified (notify_one) and notified ->
    //           empty (a first poll consuming the permit); lock holders therefore CAS.
    // Ordering: acq_rel RMWs: a permit handed over through the word carries the notifier's prior
    //           writes to the consumer; hand-overs through the list are ordered by mutex_.
    static constexpr std::uint64_t st_empty = 0, st_waiting = 1, st_notified = 2, status_mask = 3;
    static constexpr unsigned generation_shift = 2;
    static constexpr std::uint64_t generation_one = std::uint64_t{1} << generation_shift;

    std::atomic<std::uint64_t> state_{0};
    std::mutex mutex_;
    // Guarded by mutex_: waiters, newest at the front, oldest at the back (notify_one pops the
    // back: FIFO).
    ::corio::detail::intrusive_list<waiter, &waiter::hook_> waiters_;

    // Locked paths (notify.cpp).
    void notify_one_slow() noexcept;
    // Under the lock, with the list just emptied: waiting -> empty.
    void clear_waiting_locked() noexcept;
    // Under the lock: hands one notification to the oldest waiter (returning its waker, to be
    // woken after unlocking) or stores the permit.
    waker notify_one_locked() noexcept;
};

/// Awaiter of notified(): a leaf whose node is the waiter in the queue. Pinned once polled.
class [[nodiscard]] notify::notified_operation final : public leaf_awaiter<notified_operation> {
public:
    /// Made by notified(); not called directly. Once created, it sees every later notify_waiters().
    explicit notified_operation(notify* n) noexcept : n_(n) {
        // Acquire: a notify_waiters that happened-before this call is not counted for us.
        node_.gen_ = n->state_.load(std::memory_order_acquire) >> generation_shift;
    }
    notified_operation(const notified_operation&) = delete;
    notified_operation& operator=(const notified_operation&) = delete;
    ~notified_operation() override { cancel(); }

    /// Completes on a stored permit, a notify_one handed to it or a notify_waiters since its
    /// creation; else queues with the task's waker.
    bool poll(context& cx) noexcept override {
        if (phase_ == phase::done) return true;
        if (!cx.poll_budget()) return false;
        if (phase_ == phase::waiting) return poll_waiting(cx);
        return poll_first(cx);
    }

    /// Undoes a pending poll: leaves the queue (dropping the waker), or, if a notify_one was
    /// handed to the node since the last poll, forwards it to the next waiter (or stores it as
    /// the permit). A notify_waiters that completed the node is not given back: it stays visible
    /// through the generation, so the next poll completes at once. Back to init; idempotent; a
    /// no-op unless the last poll returned false.
    void cancel() noexcept override {
        if (phase_ == phase::waiting) cancel_waiting();
    }
    /// Nothing: completing is the notification.
    void await_resume() const noexcept {}

private:
    // phase_ — owned by the polling side (poll and cancel never run concurrently).
    //   init -> waiting: poll_first linked node_ under the lock (notification_ none).
    //   init / waiting -> done: a poll saw a newer generation, took the stored permit, or found
    //     notification_ set (by_one / by_all, stored by the notifier that unlinked node_).
    //   waiting -> init: cancel(): under the lock, unlinks node_ (none) or forwards the
    //     notify_one it was handed (by_one), and resets notification_ to none; gen_ is kept, so a
    //     notify_waiters since creation still completes the next poll.
    //   done is final: cancel() leaves it alone (the notification is await_resume()'s).
    enum class phase { init, waiting, done };
    notify* n_;
    notify::waiter node_;
    phase phase_ = phase::init;

    bool poll_first(context& cx) noexcept;    // notify.cpp
    bool poll_waiting(context& cx) noexcept;  // notify.cpp
    void cancel_waiting() noexcept;           // notify.cpp

    bool finish() noexcept {
        phase_ = phase::done;
        return true;
    }
};

inline notify::notified_operation notify::notified() noexcept { return notified_operation(this); }

}  // namespace corio::sync
