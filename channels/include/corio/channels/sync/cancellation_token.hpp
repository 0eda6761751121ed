/// \file
/// corio/channels/sync/cancellation_token.hpp — a tree of cancellation flags that tasks can await
/// (tokio-util's CancellationToken).
///
///     corio::sync::cancellation_token root;
///     auto child = root.child_token();
///     corio::spawn(worker(child));          // ... co_await token.cancelled();  or  token.is_cancelled()
///     root.cancel();                        // cancels root, child, and every descendant
///
/// A cancellation_token is a copyable handle to shared state; copies observe and cancel the same
/// token. child_token() makes a new token that is cancelled when its parent is (and, through it,
/// by any ancestor); cancelling a child does not cancel its parent. A child created from an
/// already cancelled token starts cancelled. cancel() is idempotent. When the last handle of a
/// child is destroyed, the child is removed from its parent (a child keeps its parent's state
/// alive, not the other way round).
///
/// Cancel safety: `co_await t.cancelled()` is cancel safe: cancelled or destroyed while pending,
///   it leaves the waiter list and drops its waker; it holds nothing else (the token's flag is
///   not consumed), and polled again it completes at once if the token is cancelled meanwhile.
/// Memory ordering: everything done before cancel() is visible to a task once is_cancelled()
///   returns true or cancelled() completes (also for cancellations inherited from an ancestor).
/// Resumption: waiters are woken through their waker after the token's lock is released;
///   cancel() never resumes anyone inline.
/// Thread safety: every member may be called from any thread, on any copy. Each awaiter is awaited
///   by one task at a time. Cost: child_token() allocates the child's state; waiting does not.
/// Code: the paths that take a token's lock are in channels/src/cancellation_token.cpp.
#pragma once

#include <corio/channels/detail/waiter_list.hpp>
#include <corio/runtime/detail/intrusive_list.hpp>
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
//           Guarded by mutex_: waiters_ (the cancelled() awaiters), children_ (the live
//             children, intrusive through their child_hook_).
//           Guarded by the parent's mutex_: child_hook_ (null while this node is not in the
//             parent's list: never adopted, or unlinked when the parent was cancelled).
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
    ~token_state();

    // Acquire: pairs with the release store in cancel().
    bool is_cancelled() const noexcept { return cancelled_.load(std::memory_order_acquire); }

    // Links `child` (freshly made, not shared yet) under this node, or marks it cancelled if this
    // node already is.
    void adopt(token_state* child) noexcept;

    void cancel() noexcept;

    std::mutex mutex_;
    ::corio::detail::waiter_list waiters_;  // guarded by mutex_

private:
    std::atomic<bool> cancelled_{false};
    const std::shared_ptr<token_state> parent_;
    ::corio::detail::list_hook<token_state> child_hook_;  // guarded by parent_->mutex_
    ::corio::detail::intrusive_list<token_state, &token_state::child_hook_> children_;  // guarded by mutex_
};

}  // namespace detail

/// A tree of cancellation flags that tasks can await (tokio-util's CancellationToken). A copyable
/// handle: copies observe and cancel the same token; child_token() makes a token cancelled with its
/// parent (not the other way round). Everything done before cancel() is visible to a task once
/// is_cancelled() is true or cancelled() completes. Every member may be called from any thread.
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
        /// Made by cancelled(); not called directly.
        explicit cancelled_operation(std::shared_ptr<detail::token_state> s) noexcept : state_(std::move(s)) {}
        cancelled_operation(const cancelled_operation&) = delete;
        cancelled_operation& operator=(const cancelled_operation&) = delete;
        ~cancelled_operation() override { cancel(); }

        /// Undoes a pending poll: leaves the waiter list if token_state::cancel() has not popped
        /// node_ yet, and drops the waker. Idempotent; a no-op when node_ is not queued (never
        /// polled, completed, or already popped by token_state::cancel(), which took the waker).
        void cancel() noexcept override {
            // Acquire (is_queued): false means token_state::cancel() is done with node_.
            if (node_.is_queued()) leave_list();
        }

        /// Ready if the token is cancelled; else links the waiter node with the task's waker under
        /// the token's lock.
        bool poll(context& cx) noexcept override;  // cancellation_token.cpp
        /// Nothing: completing is the answer (the token is cancelled).
        void await_resume() const noexcept {}

    private:
        void leave_list() noexcept;  // cancellation_token.cpp

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
