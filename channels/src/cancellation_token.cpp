// The paths of sync::cancellation_token that take a token's lock
// (corio/channels/sync/cancellation_token.hpp documents token_state's fields, lock order and
// lifetime rules, and the cancelled_operation states these keep).
#include <corio/channels/sync/cancellation_token.hpp>

namespace corio::sync {

namespace detail {

token_state::~token_state() {
    assert(waiters_.empty() && "cancellation_token state destroyed with pending cancelled() awaiters");
    if (!parent_) return;
    std::lock_guard lock(parent_->mutex_);
    if (parent_->children_.contains(this)) parent_->children_.remove(this);
}

void token_state::adopt(token_state* child) noexcept {
    std::lock_guard lock(mutex_);
    if (cancelled_.load(std::memory_order_relaxed)) {
        child->cancelled_.store(true, std::memory_order_relaxed);  // not shared yet
        return;
    }
    children_.push_front(child);
}

void token_state::cancel() noexcept {
    std::vector<std::shared_ptr<token_state>> children;
    {
        std::unique_lock lock(mutex_);
        if (cancelled_.load(std::memory_order_relaxed)) return;
        // Release: publishes the canceller's writes to is_cancelled() / the waiters.
        cancelled_.store(true, std::memory_order_release);
        while (token_state* c = children_.pop_front()) {
            if (auto sp = c->weak_from_this().lock()) children.push_back(std::move(sp));
        }
        // No waiter can queue any more (they check cancelled_ under the lock).
        ::corio::detail::wake_all_and_unlock(lock, waiters_);
    }
    for (auto& c : children) c->cancel();
}

}  // namespace detail

void cancellation_token::cancelled_operation::leave_list() noexcept {
    waker old;  // declared before the lock: dropped after it is released
    std::lock_guard lock(state_->mutex_);
    if (node_.queued_.load(std::memory_order_relaxed)) {
        state_->waiters_.remove(&node_);
        old = std::move(node_.waker_);
    }
}

bool cancellation_token::cancelled_operation::poll(context& cx) noexcept {
    if (!cx.poll_budget()) return false;
    if (state_->is_cancelled()) {
        // A queued node is popped by cancel(); wait until it is (is_queued acquire) so
        // that it is not destroyed while cancel() still touches it.
        if (!node_.is_queued()) return true;
    }
    waker fresh = cx.waker().clone();  // cloned outside the lock
    waker old;                         // both dropped after the lock (reverse order)
    std::unique_lock lock(state_->mutex_);
    if (state_->is_cancelled()) {
        // cancel() drains the list in batches, unlocking in between: node_ may still be
        // queued. Leave the list ourselves (with our waker); cancel() stops when it finds
        // it empty.
        if (node_.queued_.load(std::memory_order_relaxed)) {
            state_->waiters_.remove(&node_);
            old = std::move(node_.waker_);
        }
        return true;
    }
    if (!node_.queued_.load(std::memory_order_relaxed)) {
        node_.waker_ = std::move(fresh);
        state_->waiters_.push_front(&node_);
    } else if (!node_.waker_.will_wake(fresh)) {
        std::swap(node_.waker_, fresh);  // the old one is dropped after the lock (reverse order)
    }
    return false;
}

}  // namespace corio::sync
