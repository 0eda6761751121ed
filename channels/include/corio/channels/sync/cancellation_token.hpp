// corio/channels/sync/cancellation_token.hpp — a tree of cancellation flags that tasks can await
// (tokio-util's CancellationToken).
//
//     corio::sync::cancellation_token root;
//     auto child = root.child_token();
//     corio::spawn(worker(child));          // ... co_await token.cancelled();  or  token.is_cancelled()
//     root.cancel();                        // cancels root, child, and every descendant
//
// A cancellation_token is a copyable handle to shared state; copies observe and cancel the same
// token. child_token() makes a new token that is cancelled when its parent is (and, through it,
// by any ancestor); cancelling a child does not cancel its parent. A child created from an
// already cancelled token starts cancelled. cancel() is idempotent. When the last handle of a
// child is destroyed, the child is removed from its parent (a child keeps its parent's state
// alive, not the other way round).
//
// Cancel safety: `co_await t.cancelled()` is cancel safe: cancelled or destroyed while pending,
//   it leaves the waiter list and drops its waker; it holds nothing else (the token's flag is
//   not consumed), and polled again it completes at once if the token is cancelled meanwhile.
// Memory ordering: everything done before cancel() is visible to a task once is_cancelled()
//   returns true or cancelled() completes (also for cancellations inherited from an ancestor).
// Resumption: waiters are woken through their waker after the token's lock is released;
//   cancel() never resumes anyone inline.
// Thread safety: every member may be called from any thread, on any copy. Each awaiter is awaited
//   by one task at a time. Cost: child_token() allocates the child's state; waiting does not.
#pragma once

#include <corio/channels/detail/waiter_list.hpp>
#include <corio/runtime/leaf.hpp>

#include <atomic>
#include <cassert>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

namespace corio::sync {

namespace detail {

// The shared state of one token (one node of the tree).
//
// Fields:   cancelled_: set once (false -> true), under mutex_, never cleared. Release store,
//             paired with the acquire load in is_cancelled(): the canceller's prior writes are
//             visible to whoever sees true. Set under the lock so that a waiter or child that
//             checks it under the lock is either seen by cancel() or sees the flag.
//           parent_: set at construction, never changed; keeps the parent alive so that this
//             node can unlink itself from the parent's child list when destroyed.
//           Guarded by mutex_: waiters_ (the cancelled() awaiters), children_head_ (the live
//             children, intrusive through child_prev_/child_next_).
//           Guarded by the parent's mutex_: child_prev_, child_next_, linked_ (whether this node
//             is in the parent's list; cleared when the parent is cancelled).
// Lock order: parent before child is never needed: cancel() collects the children under its own
//           lock (each kept alive by a strong reference taken there), unlocks, and then cancels
//           them, so no two node locks are ever held at once.
// Lifetime: a child in the parent's list may be in its destructor (its last reference gone) and
//           blocked on the parent's lock to unlink itself; weak_from_this().lock() fails for it
//           then, and cancel() skips it. Its memory stays valid while the parent holds the lock.
class token_state : public std::enable_shared_from_this<token_state> {
public:
    token_state() noexcept = default;
    explicit token_state(std::shared_ptr<token_state> parent) noexcept : parent_(std::move(parent)) {}
    token_state(const token_state&) = delete;
    token_state& operator=(const token_state&) = delete;
    ~token_state() {
        assert(waiters_.empty() && "cancellation_token state destroyed with pending cancelled() awaiters");
        if (!parent_) return;
        std::lock_guard lock(parent_->mutex_);
        if (linked_) parent_->unlink_child_locked(this);
    }

    // Acquire: pairs with the release store in cancel().
    bool is_cancelled() const noexcept { return cancelled_.load(std::memory_order_acquire); }

    // Links `child` (freshly made, not shared yet) under this node, or marks it cancelled if this
    // node already is.
    void adopt(token_state* child) noexcept {
        std::lock_guard lock(mutex_);
        if (cancelled_.load(std::memory_order_relaxed)) {
            child->cancelled_.store(true, std::memory_order_relaxed);  // not shared yet
            return;
        }
        child->child_prev_ = nullptr;
        child->child_next_ = children_head_;
        if (children_head_) children_head_->child_prev_ = child;
        children_head_ = child;
        child->linked_ = true;
    }

    void cancel() noexcept {
        std::vector<std::shared_ptr<token_state>> children;
        {
            std::unique_lock lock(mutex_);
            if (cancelled_.load(std::memory_order_relaxed)) return;
            // Release: publishes the canceller's writes to is_cancelled() / the waiters.
            cancelled_.store(true, std::memory_order_release);
            for (token_state* c = children_head_; c;) {
                token_state* next = c->child_next_;
                c->linked_ = false;
                c->child_prev_ = c->child_next_ = nullptr;
                if (auto sp = c->weak_from_this().lock()) children.push_back(std::move(sp));
                c = next;
            }
            children_head_ = nullptr;
            // No waiter can queue any more (they check cancelled_ under the lock).
            ::corio::detail::wake_all_and_unlock(lock, waiters_);
        }
        for (auto& c : children) c->cancel();
    }

    std::mutex mutex_;
    ::corio::detail::waiter_list waiters_;  // guarded by mutex_

private:
    void unlink_child_locked(token_state* c) noexcept {
        if (c->child_prev_) c->child_prev_->child_next_ = c->child_next_;
        else children_head_ = c->child_next_;
        if (c->child_next_) c->child_next_->child_prev_ = c->child_prev_;
        c->child_prev_ = c->child_next_ = nullptr;
        c->linked_ = false;
    }

    std::atomic<bool> cancelled_{false};
    const std::shared_ptr<token_state> parent_;
    token_state* children_head_ = nullptr;  // guarded by mutex_
    token_state* child_prev_ = nullptr;     // guarded by parent_->mutex_
    token_state* child_next_ = nullptr;     // guarded by parent_->mutex_
    bool linked_ = false;                   // guarded by parent_->mutex_
};

}  // namespace detail

class cancellation_token {
public:
    /// A new root token (allocates its state).
    cancellation_token() : state_(std::make_shared<detail::token_state>()) {}

    /// Cancels this token and all its descendants. Idempotent; never waits.
    void cancel() const noexcept { state_->cancel(); }
    /// True once this token (or an ancestor, through it) was cancelled.
    bool is_cancelled() const noexcept { return state_->is_cancelled(); }

    /// A new token cancelled whenever this one is (allocates its state).
    cancellation_token child_token() const {
        auto child = std::make_shared<detail::token_state>(state_);
        state_->adopt(child.get());
        return cancellation_token(std::move(child));
    }

    /// Awaiter of cancelled(): a leaf whose node waits in the token's list. Pinned once polled.
    class [[nodiscard]] cancelled_operation final : public leaf_awaiter<cancelled_operation> {
    public:
        explicit cancelled_operation(std::shared_ptr<detail::token_state> s) noexcept : state_(std::move(s)) {}
        cancelled_operation(const cancelled_operation&) = delete;
        cancelled_operation& operator=(const cancelled_operation&) = delete;
        ~cancelled_operation() override { cancel(); }

        /// Undoes a pending poll: leaves the waiter list if token_state::cancel() has not popped
        /// node_ yet, and drops the waker. Idempotent; a no-op when node_ is not queued (never
        /// polled, completed, or already popped by token_state::cancel(), which took the waker).
        void cancel() noexcept override {
            // Acquire (is_queued): false means token_state::cancel() is done with node_.
            if (!node_.is_queued()) return;
            waker old;  // declared before the lock: dropped after it is released
            std::lock_guard lock(state_->mutex_);
            if (node_.queued_.load(std::memory_order_relaxed)) {
                state_->waiters_.remove(&node_);
                old = std::move(node_.waker_);
            }
        }

        bool poll(context& cx) noexcept override {
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
        void await_resume() const noexcept {}

    private:
        std::shared_ptr<detail::token_state> state_;  // declared first: outlives node_'s unlink
        // node_.queued_ (list_waiter, waiter_list.hpp) is the whole state of the operation:
        //   false -> true: a poll links node_ under the token's lock (token not cancelled).
        //   true -> false: token_state::cancel() pops it (release store after taking the waker),
        //     or the owner removes it under the lock: a poll that finds the token cancelled, or
        //     cancel(). Either way the node holds no waker afterwards, and a later poll may link
        //     it again (or complete, if the token is cancelled).
        ::corio::detail::list_waiter node_;
    };

    /// `co_await t.cancelled()` completes once the token is cancelled (at once if it is).
    [[nodiscard]] cancelled_operation cancelled() const noexcept { return cancelled_operation(state_); }

    /// True if both handles refer to the same token.
    friend bool operator==(const cancellation_token& a, const cancellation_token& b) noexcept {
        return a.state_ == b.state_;
    }

private:
    explicit cancellation_token(std::shared_ptr<detail::token_state> s) noexcept : state_(std::move(s)) {}
    std::shared_ptr<detail::token_state> state_;
};

}  // namespace corio::sync
