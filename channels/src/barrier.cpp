// The locked paths of sync::barrier (corio/channels/sync/barrier.hpp, which documents the
// waiter node's access rules and the wait_operation phases these keep).
#include <corio/channels/detail/waiter_list.hpp>
#include <corio/channels/sync/barrier.hpp>

namespace corio::sync {

void barrier::release_generation(std::unique_lock<std::mutex>& lock) noexcept {
    arrived_ = 0;
    const std::uint64_t gen = ++generation_;
    for (;;) {
        ::corio::detail::wake_batch batch;
        while (!waiters_.empty() && waiters_.back()->gen_ < gen && !batch.full()) {
            waiter* w = waiters_.pop_back();
            batch.push(std::move(w->waker_));
            w->released_.store(true, std::memory_order_release);  // last touch of w
        }
        const bool more = !waiters_.empty() && waiters_.back()->gen_ < gen;
        lock.unlock();
        batch.wake_all();
        if (!more) return;
        lock.lock();
    }
}

void barrier::wait_operation::cancel_waiting() noexcept {
    // Acquire: pairs with the leader's release; the list is done with node_ (and its waker).
    if (node_.released_.load(std::memory_order_acquire)) {
        phase_ = phase::done;
        return;
    }
    waker dropped;  // declared before the lock: dropped after it is released
    std::lock_guard lock(b_->mutex_);
    if (node_.released_.load(std::memory_order_relaxed)) {
        phase_ = phase::done;
        return;
    }
    b_->waiters_.remove(&node_);
    dropped = std::move(node_.waker_);
    if (node_.gen_ == b_->generation_) {
        --b_->arrived_;  // withdrawn: as if this wait never ran
        phase_ = phase::init;
    } else {
        // That generation is complete and its leader (between wake batches) would release
        // us: there is no arrival to withdraw, and the release is ours.
        phase_ = phase::done;
    }
}

bool barrier::wait_operation::arrive(context& cx) noexcept {
    waker fresh = cx.waker().clone();  // cloned outside the lock
    std::unique_lock lock(b_->mutex_);
    if (++b_->arrived_ == b_->n_) {
        leader_ = true;
        phase_ = phase::done;
        b_->release_generation(lock);
        return true;
    }
    node_.gen_ = b_->generation_;
    node_.waker_ = std::move(fresh);
    b_->waiters_.push_front(&node_);
    phase_ = phase::waiting;
    return false;
}

bool barrier::wait_operation::poll_waiting(context& cx) noexcept {
    if (node_.released_.load(std::memory_order_acquire)) {
        phase_ = phase::done;
        return true;
    }
    waker old;  // dropped after the lock is released
    std::lock_guard lock(b_->mutex_);
    if (node_.released_.load(std::memory_order_relaxed)) {
        phase_ = phase::done;
        return true;
    }
    if (!node_.waker_.will_wake(cx.waker())) old = std::exchange(node_.waker_, cx.waker().clone());
    return false;
}

}  // namespace corio::sync
