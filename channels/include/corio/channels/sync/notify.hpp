// corio/channels/sync/notify.hpp — wake one task, or every waiting task, without data
// (Tokio's sync::Notify).
//
//     corio::sync::notify n;
//     co_await n.notified();      // task A: waits for a notification
//     n.notify_one();             // task B (or a plain thread)
//
// notify_one() wakes the oldest waiting notified(); if nobody waits it stores one permit (at most
// one: further notify_one calls while a permit is stored do nothing), which the next notified()
// consumes at once. notify_waiters() wakes every notified() that exists when it is called (even
// one created but not yet awaited, as Tokio's Notified) and stores no permit.
// The usual pattern creates the awaiter before checking the condition, so that a notify_waiters
// in between is not lost:
//
//     auto wait = n.notified();
//     if (!condition()) co_await wait;
//
// Cancel safety: `co_await n.notified()` is cancel safe. A pending notified() that is cancelled
//   or destroyed (a losing select / race / timeout operand, an aborted task) leaves the queue; if
//   a notify_one had already been handed to it, the notification is forwarded to the next waiter
//   (or stored as the permit) before cancel() returns: no notify_one is lost. A cancelled
//   notified() may be polled again: it queues at the back, and still completes at once if a
//   notify_waiters was called after it was created.
// Memory ordering: a notify_one/notify_waiters call happens-before the return of the notified()
//   it completes.
// Resumption: waiters are woken through their waker after the internal lock is released; nothing
//   is resumed inline.
// Thread safety: every member may be called from any thread; one awaiter is awaited by one task
//   at a time. Precondition (debug assertion): the notify outlives its awaiters.
#pragma once

#include <corio/runtime/leaf.hpp>
#include <corio/runtime/waker.hpp>

#include <atomic>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <utility>

namespace corio::sync {

class notify {
public:
    notify() noexcept = default;
    notify(const notify&) = delete;
    notify& operator=(const notify&) = delete;
    ~notify() { assert(tail_ == nullptr && "notify destroyed with pending notified() awaiters"); }

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
        std::unique_lock lock(mutex_);
        waker w = notify_one_locked();
        lock.unlock();
        std::move(w).wake();
    }

    /// Wakes every notified() created before this call; stores no permit.
    void notify_waiters() noexcept {
        std::unique_lock lock(mutex_);
        // Bumping the generation completes every awaiter created before: a queued one is popped
        // below, one not yet polled sees the new generation at its first poll.
        const std::uint64_t now = state_.fetch_add(generation_one, std::memory_order_acq_rel) + generation_one;
        const std::uint64_t gen = now >> generation_shift;
        for (;;) {
            waker batch[wake_batch];
            std::size_t k = 0;
            // Oldest at the tail: every waiter of an older generation sits behind the newer ones.
            while (tail_ && tail_->gen_ < gen && k < wake_batch) {
                waiter* w = tail_;
                unlink(w);
                batch[k++] = std::move(w->waker_);
                // Release: the list is done with w; pairs with the acquire load in poll/~.
                w->notification_.store(by_all, std::memory_order_release);
            }
            if (!tail_) clear_waiting_locked();
            const bool more = tail_ && tail_->gen_ < gen;
            lock.unlock();
            for (std::size_t i = 0; i < k; ++i) std::move(batch[i]).wake();
            if (!more) return;
            lock.lock();
        }
    }

    /// `co_await n.notified()` completes after a notify_one (or a stored permit) or a
    /// notify_waiters called after this call.
    [[nodiscard]] inline notified_operation notified() noexcept;

private:
    static constexpr std::size_t wake_batch = 32;

    // The waiter node of a notified(), embedded in its awaiter (no allocation per wait).
    // Access:   prev_, next_, waker_ are guarded by mutex_ while the node is linked (the owner
    //           linked it and notification_ is none); afterwards they belong to the owner.
    //           gen_ is set at creation and never changes.
    //           notification_ is written under mutex_ by whoever unlinks the node for a
    //           notification (one/all), as its last touch of the node; and reset to none by the
    //           owner's cancel() (under mutex_, the node unlinked), before the node is reused.
    // Ordering: release store of notification_ pairs with the owner's acquire load: seeing a
    //           notification, the owner may complete or destroy the node without the lock.
    struct waiter {
        waiter* prev_ = nullptr;
        waiter* next_ = nullptr;
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
    // Guarded by mutex_: waiters, newest at head_, oldest at tail_ (notify_one pops the tail:
    // FIFO).
    waiter* head_ = nullptr;
    waiter* tail_ = nullptr;

    void push_front(waiter* w) noexcept {
        w->prev_ = nullptr;
        w->next_ = head_;
        if (head_) head_->prev_ = w;
        else tail_ = w;
        head_ = w;
    }
    void unlink(waiter* w) noexcept {
        if (w->prev_) w->prev_->next_ = w->next_;
        else head_ = w->next_;
        if (w->next_) w->next_->prev_ = w->prev_;
        else tail_ = w->prev_;
        w->prev_ = w->next_ = nullptr;
    }
    // Under the lock, with the list just emptied: waiting -> empty (the word is stable while
    // waiting, so one RMW suffices).
    void clear_waiting_locked() noexcept {
        if ((state_.load(std::memory_order_relaxed) & status_mask) == st_waiting)
            state_.fetch_and(~status_mask, std::memory_order_acq_rel);
    }

    // Under the lock: hands one notification to the oldest waiter (returning its waker, to be
    // woken after unlocking) or stores the permit.
    waker notify_one_locked() noexcept {
        std::uint64_t cur = state_.load(std::memory_order_acquire);
        for (;;) {
            if ((cur & status_mask) != st_waiting) {
                if ((cur & status_mask) == st_notified) return {};
                if (state_.compare_exchange_weak(cur, (cur & ~status_mask) | st_notified, std::memory_order_acq_rel,
                                                 std::memory_order_acquire))
                    return {};
                continue;
            }
            waiter* w = tail_;
            assert(w && "notify: status waiting with an empty list");
            unlink(w);
            waker wk = std::move(w->waker_);
            // Release: last touch of w; pairs with the owner's acquire load.
            w->notification_.store(by_one, std::memory_order_release);
            if (!tail_) clear_waiting_locked();
            return wk;
        }
    }
};

/// Awaiter of notified(): a leaf whose node is the waiter in the queue. Pinned once polled.
class [[nodiscard]] notify::notified_operation final : public leaf_awaiter<notified_operation> {
public:
    explicit notified_operation(notify* n) noexcept : n_(n) {
        // Acquire: a notify_waiters that happened-before this call is not counted for us.
        node_.gen_ = n->state_.load(std::memory_order_acquire) >> generation_shift;
    }
    notified_operation(const notified_operation&) = delete;
    notified_operation& operator=(const notified_operation&) = delete;
    ~notified_operation() override { cancel(); }

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
        if (phase_ != phase::waiting) return;
        phase_ = phase::init;
        waker dropped;  // declared before the lock: dropped after it is released
        waker forwarded;
        std::unique_lock lock(n_->mutex_);
        // Acquire: pairs with the notifier's release; if set, the list is done with node_.
        const std::uint8_t got = node_.notification_.load(std::memory_order_acquire);
        if (got == none) {
            n_->unlink(&node_);
            dropped = std::move(node_.waker_);
            if (!n_->tail_) n_->clear_waiting_locked();
        } else if (got == by_one) {
            forwarded = n_->notify_one_locked();
        }
        // The node is unlinked and ours: reset it for a later poll. Resetting by_all loses
        // nothing: poll_first's generation check sees that notify_waiters again.
        node_.notification_.store(none, std::memory_order_relaxed);
        lock.unlock();
        std::move(forwarded).wake();
    }
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

    bool poll_first(context& cx) noexcept {
        notify& n = *n_;
        std::uint64_t cur = n.state_.load(std::memory_order_acquire);
        for (;;) {  // lock-free: a newer generation, or a stored permit
            if ((cur >> generation_shift) != node_.gen_) return finish();
            if ((cur & status_mask) != st_notified) break;
            if (n.state_.compare_exchange_weak(cur, cur & ~status_mask, std::memory_order_acq_rel,
                                               std::memory_order_acquire))
                return finish();
        }
        waker fresh = cx.waker().clone();  // cloned outside the lock
        std::unique_lock lock(n.mutex_);
        cur = n.state_.load(std::memory_order_acquire);
        for (;;) {  // register, then re-check, under the lock
            if ((cur >> generation_shift) != node_.gen_) return finish();
            const std::uint64_t st = cur & status_mask;
            if (st == st_waiting) break;
            const std::uint64_t next = (cur & ~status_mask) | (st == st_notified ? st_empty : st_waiting);
            if (n.state_.compare_exchange_weak(cur, next, std::memory_order_acq_rel, std::memory_order_acquire)) {
                if (st == st_notified) return finish();
                break;
            }
        }
        node_.waker_ = std::move(fresh);
        n.push_front(&node_);
        phase_ = phase::waiting;
        return false;
    }

    bool poll_waiting(context& cx) noexcept {
        // Acquire: pairs with the notifier's release; the list no longer refers to node_.
        if (node_.notification_.load(std::memory_order_acquire) != none) return finish();
        waker old;  // dropped after the lock is released
        std::unique_lock lock(n_->mutex_);
        if (node_.notification_.load(std::memory_order_relaxed) != none) return finish();
        if (!node_.waker_.will_wake(cx.waker())) old = std::exchange(node_.waker_, cx.waker().clone());
        return false;
    }

    bool finish() noexcept {
        phase_ = phase::done;
        return true;
    }
};

inline notify::notified_operation notify::notified() noexcept { return notified_operation(this); }

}  // namespace corio::sync
