// The locked paths of sync::notify (corio/channels/sync/notify.hpp, which documents the state_
// word, the waiter node's access rules and the notified_operation phases these keep).
#include <corio/channels/detail/waiter_list.hpp>
#include <corio/channels/sync/notify.hpp>

namespace corio::sync {

void notify::notify_one_slow() noexcept {
    std::unique_lock lock(mutex_);
    waker w = notify_one_locked();
    lock.unlock();
    std::move(w).wake();
}

void notify::notify_waiters() noexcept {
    std::unique_lock lock(mutex_);
    // Bumping the generation completes every awaiter created before: a queued one is popped
    // below, one not yet polled sees the new generation at its first poll.
    const std::uint64_t now = state_.fetch_add(generation_one, std::memory_order_acq_rel) + generation_one;
    const std::uint64_t gen = now >> generation_shift;
    for (;;) {
        ::corio::detail::wake_batch batch;
        // Oldest at the back: every waiter of an older generation sits behind the newer ones.
        while (!waiters_.empty() && waiters_.back()->gen_ < gen && !batch.full()) {
            waiter* w = waiters_.pop_back();
            batch.push(std::move(w->waker_));
            // Release: the list is done with w; pairs with the acquire load in poll/~.
            w->notification_.store(by_all, std::memory_order_release);
        }
        if (waiters_.empty()) clear_waiting_locked();
        const bool more = !waiters_.empty() && waiters_.back()->gen_ < gen;
        lock.unlock();
        batch.wake_all();
        if (!more) return;
        lock.lock();
    }
}

// The word is stable while waiting, so one RMW suffices.
void notify::clear_waiting_locked() noexcept {
    if ((state_.load(std::memory_order_relaxed) & status_mask) == st_waiting)
        state_.fetch_and(~status_mask, std::memory_order_acq_rel);
}

waker notify::notify_one_locked() noexcept {
    std::uint64_t cur = state_.load(std::memory_order_acquire);
    for (;;) {
        if ((cur & status_mask) != st_waiting) {
            if ((cur & status_mask) == st_notified) return {};
            if (state_.compare_exchange_weak(cur, (cur & ~status_mask) | st_notified, std::memory_order_acq_rel,
                                             std::memory_order_acquire))
                return {};
            continue;
        }
        assert(!waiters_.empty() && "notify: status waiting with an empty list");
        waiter* w = waiters_.pop_back();
        waker wk = std::move(w->waker_);
        // Release: last touch of w; pairs with the owner's acquire load.
        w->notification_.store(by_one, std::memory_order_release);
        if (waiters_.empty()) clear_waiting_locked();
        return wk;
    }
}

void notify::notified_operation::cancel_waiting() noexcept {
    phase_ = phase::init;
    waker dropped;  // declared before the lock: dropped after it is released
    waker forwarded;
    std::unique_lock lock(n_->mutex_);
    // Acquire: pairs with the notifier's release; if set, the list is done with node_.
    const std::uint8_t got = node_.notification_.load(std::memory_order_acquire);
    if (got == none) {
        n_->waiters_.remove(&node_);
        dropped = std::move(node_.waker_);
        if (n_->waiters_.empty()) n_->clear_waiting_locked();
    } else if (got == by_one) {
        forwarded = n_->notify_one_locked();
    }
    // The node is unlinked and ours: reset it for a later poll. Resetting by_all loses
    // nothing: poll_first's generation check sees that notify_waiters again.
    node_.notification_.store(none, std::memory_order_relaxed);
    lock.unlock();
    std::move(forwarded).wake();
}

bool notify::notified_operation::poll_first(context& cx) noexcept {
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
    n.waiters_.push_front(&node_);
    phase_ = phase::waiting;
    return false;
}

bool notify::notified_operation::poll_waiting(context& cx) noexcept {
    // Acquire: pairs with the notifier's release; the list no longer refers to node_.
    if (node_.notification_.load(std::memory_order_acquire) != none) return finish();
    waker old;  // dropped after the lock is released
    std::unique_lock lock(n_->mutex_);
    if (node_.notification_.load(std::memory_order_relaxed) != none) return finish();
    if (!node_.waker_.will_wake(cx.waker())) old = std::exchange(node_.waker_, cx.waker().clone());
    return false;
}

}  // namespace corio::sync
