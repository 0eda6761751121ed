/// \file
/// corio/channels/watch/receiver.hpp — the receiving half of a watch channel: borrow(),
/// changed(), wait_for(). See corio/channels/watch.hpp for the contract.
#pragma once

#include <corio/channels/metrics.hpp>
#include <corio/channels/watch/detail/shared.hpp>
#include <corio/channels/watch/error.hpp>
#include <corio/channels/watch/fwd.hpp>
#include <corio/channels/watch/ref.hpp>
#include <corio/result.hpp>
#include <corio/runtime/leaf.hpp>

#include <atomic>
#include <cassert>
#include <cstdint>
#include <exception>
#include <optional>
#include <shared_mutex>
#include <type_traits>
#include <utility>

namespace corio::watch {

/// The receiving half. Copyable: each copy is a receiver with its own seen version.
template <class T>
class receiver {
public:
    receiver() noexcept = default;
    /// Another receiver of the same channel, starting with this one's seen version.
    receiver(const receiver& o) noexcept : shared_(o.shared_), version_(o.version_) { retain(); }
    /// Moves the handle (and its seen version); `o` is left empty.
    receiver(receiver&& o) noexcept : shared_(std::exchange(o.shared_, nullptr)), version_(o.version_) {}
    /// Drops this handle, then shares `o`'s channel and seen version.
    receiver& operator=(const receiver& o) noexcept {
        if (this != &o) {
            drop();
            shared_ = o.shared_;
            version_ = o.version_;
            retain();
        }
        return *this;
    }
    /// Drops this handle, then takes over `o`'s channel and seen version.
    receiver& operator=(receiver&& o) noexcept {
        if (this != &o) {
            drop();
            shared_ = std::exchange(o.shared_, nullptr);
            version_ = o.version_;
        }
        return *this;
    }
    ~receiver() { drop(); }

    /// False for a default-constructed or moved-from receiver.
    explicit operator bool() const noexcept { return shared_ != nullptr; }

    /// A read guard on the latest value, without marking it seen. ref::has_changed() says
    /// whether it is a version this receiver has not seen. Not across a co_await.
    /// Precondition (all receiver operations but changed/has_changed): non-empty receiver.
    [[nodiscard]] ref<T> borrow() const {
        assert(shared_);
        if constexpr (detail::watch_snapshot<T>) {
            auto [value, w] = shared_->read_snapshot();
            return ref<T>(value, nullptr, detail::watch_state::version(w) != version_);
        } else {
            std::shared_lock lock(shared_->value_mutex_);
            const std::uint64_t v = detail::watch_state::version(shared_->state_.load());
            return ref<T>(std::move(lock), &shared_->value_, v != version_);
        }
    }

    /// As borrow(), and marks the borrowed version seen. Not across a co_await.
    [[nodiscard]] ref<T> borrow_and_update() {
        assert(shared_);
        if constexpr (detail::watch_snapshot<T>) {
            auto [value, w] = shared_->read_snapshot();
            return ref<T>(value, nullptr, mark_seen(detail::watch_state::version(w)));
        } else {
            std::shared_lock lock(shared_->value_mutex_);
            // Under the shared lock the version belongs to the value (watch_state Access rule).
            const std::uint64_t v = detail::watch_state::version(shared_->state_.load());
            return ref<T>(std::move(lock), &shared_->value_, mark_seen(v));
        }
    }

    /// Whether a version this receiver has not seen exists; recv_error::closed once the sender
    /// is gone (even if such a version exists, as Tokio).
    result<bool, recv_error> has_changed() const noexcept {
        if (!shared_) return unexpected(recv_error::closed);
        const std::uint64_t s = shared_->state_.load();
        if (detail::watch_state::is_closed(s)) return unexpected(recv_error::closed);
        return detail::watch_state::version(s) != version_;
    }

    /// Marks the current version seen (a pending change is forgotten).
    void mark_unchanged() noexcept {
        if (shared_) version_ = detail::watch_state::version(shared_->state_.load());
    }

    /// Makes the current value count as unseen: the next changed() completes at once.
    void mark_changed() noexcept { version_ -= detail::watch_state::version_step; }

private:
    // Marks version v seen; true if this receiver had not seen it.
    bool mark_seen(std::uint64_t v) noexcept {
        const bool changed = v != version_;
        if (changed) shared_->count_observed(version_, v);
        version_ = v;
        return changed;
    }

public:

    /// Receiver-side; not concurrently with other receiver-side operations. Completes once a
    /// version newer than the last seen exists, and marks it seen (borrow_and_update() then reads
    /// it); recv_error::closed if the sender is gone and no unseen version exists. Wakes once per
    /// new version at most, never for a seen one. Cancel safe: an abandoned changed() marks
    /// nothing seen.
    class [[nodiscard]] changed_operation : public leaf_awaiter<changed_operation> {
    public:
        /// Made by changed(); not called directly.
        explicit changed_operation(receiver* rx) noexcept : rx_(rx) {}
        changed_operation(const changed_operation&) = delete;
        changed_operation& operator=(const changed_operation&) = delete;
        ~changed_operation() { cancel(); }
        /// What the pending operation waits for, in words, for runtime::dump() (corio/runtime/dump.hpp).
        void describe(std::string& out) const override { out += "changed() on watch channel (no new value yet)"; }
        /// Leaves the waiters, dropping the waker; nothing was marked seen.
        void cancel() noexcept override {
            if (rx_->shared_) rx_->shared_->notify_rx_.remove(node_);
        }

        /// Ready if a version newer than the last seen exists (marking it seen) or the sender is
        /// gone; else registers the task's waker for the next send.
        bool poll(context& cx) noexcept override {
            auto* sh = rx_->shared_;
            if (!sh) return finish(cx, unexpected(recv_error::closed));
            if (const check_result r = check(cx); r != check_result::pending) return r == check_result::ready;
            sh->notify_rx_.enqueue(node_, cx.waker());
            // Re-check after registering (watch_notify_list protocol step 1).
            return check(cx) == check_result::ready;
        }
        /// Nothing when a new version was marked seen; recv_error::closed if the sender is gone and
        /// no unseen version exists.
        result<void, recv_error> await_resume() noexcept { return std::move(*out_); }

    private:
        enum class check_result { pending, ready, budget_spent };
        // ready: out_ is set (and a change marked seen). budget_spent: the task was woken to yield
        // (context::poll_budget), nothing was marked seen; report pending.
        check_result check(context& cx) noexcept {
            const std::uint64_t s = rx_->shared_->state_.load();
            const std::uint64_t v = detail::watch_state::version(s);
            if (v == rx_->version_ && !detail::watch_state::is_closed(s)) return check_result::pending;
            if (!cx.poll_budget()) return check_result::budget_spent;
            if (v != rx_->version_) {
                rx_->shared_->count_observed(rx_->version_, v);
                rx_->version_ = v;
                out_.emplace();
            } else {
                out_.emplace(unexpected(recv_error::closed));
            }
            return check_result::ready;
        }
        bool finish(context& cx, result<void, recv_error> r) noexcept {
            if (!cx.poll_budget()) return false;
            out_.emplace(std::move(r));
            return true;
        }

        receiver* rx_;
        detail::list_waiter node_;
        std::optional<result<void, recv_error>> out_;
    };
    /// `co_await rx.changed()`: see changed_operation.
    [[nodiscard]] changed_operation changed() noexcept { return changed_operation(this); }

    /// Blocking twin of `co_await rx.changed()`, for plain threads (not on a runtime worker).
    result<void, recv_error> blocking_changed() {
        changed_operation op(this);
        ::corio::detail::blocking_poll(op);
        return op.await_resume();
    }

    /// Receiver-side. Completes with a read guard on the first value (the current one, then each
    /// new version) for which pred(const T&) returns true, marking it seen; recv_error::closed if
    /// the sender is gone and the last version fails pred. pred runs under the read lock (it must
    /// not use the channel); an exception from it is rethrown by the co_await. The returned ref
    /// must not be held across a later co_await. Cancel safe. Pass pred as a named object (g++ 12:
    /// no capturing lambda inside a co_await expression); it is copied into the operation.
    template <class Pred>
    class [[nodiscard]] wait_for_operation : public leaf_awaiter<wait_for_operation<Pred>> {
    public:
        /// Made by wait_for(); not called directly.
        wait_for_operation(receiver* rx, Pred pred) noexcept(std::is_nothrow_move_constructible_v<Pred>)
            : rx_(rx), pred_(std::move(pred)) {}
        wait_for_operation(const wait_for_operation&) = delete;
        wait_for_operation& operator=(const wait_for_operation&) = delete;
        ~wait_for_operation() { cancel(); }
        /// Leaves the waiters, dropping the waker. Versions pred rejected stay seen (as a borrow
        /// would leave them); polled again, pred runs on the current version as on a first poll.
        void cancel() noexcept override {
            if (rx_->shared_) rx_->shared_->notify_rx_.remove(node_);
            checked_ = false;
        }

        /// Runs pred on the current version if it was not checked yet; ready when it holds or the
        /// sender is gone, else registers the task's waker.
        bool poll(context& cx) noexcept override {
            auto* sh = rx_->shared_;
            if (!sh) {
                if (!cx.poll_budget()) return false;
                closed_ = true;
                return true;
            }
            for (;;) {
                switch (check(sh, cx)) {
                case check_result::done: return true;
                case check_result::budget_spent: return false;
                case check_result::unmet: break;
                }
                // pred is false for checked_version_: register, then re-check the word.
                sh->notify_rx_.enqueue(node_, cx.waker());
                const std::uint64_t s = sh->state_.load();
                if (detail::watch_state::version(s) != checked_version_) continue;
                if (detail::watch_state::is_closed(s)) {
                    if (!cx.poll_budget()) return false;
                    closed_ = true;
                    return true;
                }
                return false;
            }
        }

        /// A read guard on the value that satisfied pred, or recv_error::closed; rethrows what pred
        /// threw.
        result<ref<T>, recv_error> await_resume() {
            if (error_) std::rethrow_exception(error_);
            if (closed_) return unexpected(recv_error::closed);
            return std::move(*out_);
        }

    private:
        enum class check_result { done, budget_spent, unmet };

        // Runs pred on the current version unless it already failed on it. done: out_ or error_
        // is set. unmet: pred is false for checked_version_.
        check_result check(detail::watch_shared<T>* sh, context& cx) {
            if constexpr (detail::watch_snapshot<T>) {
                // Not a structured binding: clang 14 cannot capture one.
                const std::pair<T, std::uint64_t> snap = sh->read_snapshot();
                return check_version(detail::watch_state::version(snap.second), snap.first, cx,
                                     [&snap] { return snap.first; });
            } else {
                std::shared_lock lock(sh->value_mutex_);
                const std::uint64_t v = detail::watch_state::version(sh->state_.load());
                return check_version(v, sh->value_, cx, [&lock] { return std::move(lock); });
            }
        }
        template <class Hold>
        check_result check_version(std::uint64_t v, const T& value, context& cx, Hold hold) {
            if (checked_ && v == checked_version_) return check_result::unmet;
            if (!cx.poll_budget()) return check_result::budget_spent;
            checked_ = true;
            checked_version_ = v;
            const bool changed = rx_->mark_seen(v);
            try {
                if (pred_(value)) {
                    out_.emplace(ref<T>(hold(), detail::watch_snapshot<T> ? nullptr : &value, changed));
                    return check_result::done;
                }
            } catch (...) {
                error_ = std::current_exception();
                return check_result::done;
            }
            return check_result::unmet;
        }

        receiver* rx_;
        Pred pred_;
        detail::list_waiter node_;
        bool checked_ = false;                 // pred ran on checked_version_ and was false
        std::uint64_t checked_version_ = 0;
        bool closed_ = false;
        std::exception_ptr error_;
        std::optional<ref<T>> out_;
    };

    /// `co_await rx.wait_for(pred)`: see wait_for_operation.
    template <class Pred>
    [[nodiscard]] wait_for_operation<std::decay_t<Pred>> wait_for(Pred&& pred) {
        return wait_for_operation<std::decay_t<Pred>>(this, std::forward<Pred>(pred));
    }

    /// Blocking twin of wait_for(), for plain threads (not on a runtime worker).
    template <class Pred>
    result<ref<T>, recv_error> blocking_wait_for(Pred&& pred) {
        wait_for_operation<std::decay_t<Pred>> op(this, std::forward<Pred>(pred));
        ::corio::detail::blocking_poll(op);
        return op.await_resume();
    }

    /// True if both receive from the same channel.
    bool same_channel(const receiver& o) const noexcept { return shared_ == o.shared_; }

    /// The channel's counters, if it was made `with_metrics` (corio/channels/metrics.hpp).
    std::optional<channel_metrics> metrics() const noexcept {
        return shared_ ? shared_->metrics_.snapshot() : std::nullopt;
    }

private:
    friend class sender<T>;
    friend std::pair<sender<T>, receiver<T>> channel<T>(T initial, const channel_options& opts);
    receiver(detail::watch_shared<T>* s, std::uint64_t version) noexcept : shared_(s), version_(version) {}

    void retain() noexcept {
        if (shared_) {
            shared_->retain();
            shared_->rx_count_.fetch_add(1, std::memory_order_seq_cst);
        }
    }
    void drop() noexcept {
        if (auto* s = std::exchange(shared_, nullptr)) {
            // seq_cst: the notifier side of the closed() Dekker pair (watch_notify_list step 2).
            if (s->rx_count_.fetch_sub(1, std::memory_order_seq_cst) == 1) s->notify_tx_.notify_waiters();
            s->release();
        }
    }

    detail::watch_shared<T>* shared_ = nullptr;
    std::uint64_t version_ = 0;  // the last version seen; this receiver's alone
};

}  // namespace corio::watch
