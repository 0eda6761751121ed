/// \file
/// corio/channels/watch/sender.hpp — the sending half of a watch channel: send(), send_modify(),
/// subscribe(), closed(). See corio/channels/watch.hpp for the contract.
#pragma once

#include <corio/channels/metrics.hpp>
#include <corio/channels/watch/detail/shared.hpp>
#include <corio/channels/watch/error.hpp>
#include <corio/channels/watch/fwd.hpp>
#include <corio/channels/watch/receiver.hpp>
#include <corio/channels/watch/ref.hpp>
#include <corio/result.hpp>
#include <corio/runtime/leaf.hpp>

#include <atomic>
#include <cassert>
#include <cstddef>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <utility>

namespace corio::watch {

/// The sending half. Move-only; destroying it closes the channel.
template <class T>
class sender {
public:
    sender() noexcept = default;
    /// Moves the sending end; `o` is left empty.
    sender(sender&& o) noexcept : shared_(std::exchange(o.shared_, nullptr)) {}
    /// Drops this sender (closing the channel for the receivers), then takes over `o`'s.
    sender& operator=(sender&& o) noexcept {
        if (this != &o) {
            drop();
            shared_ = std::exchange(o.shared_, nullptr);
        }
        return *this;
    }
    sender(const sender&) = delete;
    sender& operator=(const sender&) = delete;
    ~sender() { drop(); }

    /// False for a default-constructed or moved-from sender.
    explicit operator bool() const noexcept { return shared_ != nullptr; }

    /// Stores `value` as a new version and wakes the receivers waiting for a change. Fails,
    /// handing the value back and storing nothing, if there are no receivers (Tokio 1.24).
    /// Precondition (all sender operations): the sender is non-empty.
    result<void, send_error<T>> send(T value) {
        assert(shared_);
        if (receiver_count() == 0) {
            shared_->metrics_.dropped();
            return unexpected(send_error<T>(std::move(value)));
        }
        (void)send_replace(std::move(value));
        return {};
    }

    /// Stores `value` as a new version whether or not there are receivers; returns the old value.
    T send_replace(T value) {
        send_modify([&value](T& v) {
            using std::swap;
            swap(v, value);
        });
        return value;
    }

    /// Calls f(T&) under the write lock, then publishes a new version.
    template <class F>
    void send_modify(F&& f) {
        send_if_modified([&f](T& v) {
            std::forward<F>(f)(v);
            return true;
        });
    }

    /// Calls f(T&) -> bool under the write lock; publishes a new version and wakes receivers only
    /// if it returns true (its changes are visible to borrows either way). If f throws, no
    /// version is published and the exception propagates (in seqlock mode, f works on a copy and
    /// its partial changes are dropped too).
    template <class F>
    bool send_if_modified(F&& f) {
        assert(shared_);
        if constexpr (detail::watch_snapshot<T>) {
            if (!shared_->write_snapshot(f)) return false;
        } else {
            std::unique_lock lock(shared_->value_mutex_);
            if (!std::forward<F>(f)(shared_->value_)) return false;
            // Under the exclusive lock, so a shared borrower reads a matching value and version.
            shared_->state_.increment_version();
        }
        shared_->metrics_.sent();
        // Unlocked first: a woken receiver borrows at once.
        shared_->notify_rx_.notify_waiters();
        return true;
    }

    /// A read guard on the current value (has_changed() is false). Not across a co_await.
    [[nodiscard]] ref<T> borrow() const {
        assert(shared_);
        if constexpr (detail::watch_snapshot<T>) {
            return ref<T>(shared_->read_snapshot().first, nullptr, false);
        } else {
            std::shared_lock lock(shared_->value_mutex_);
            return ref<T>(std::move(lock), &shared_->value_, false);
        }
    }

    /// The channel's counters, if it was made `with_metrics` (corio/channels/metrics.hpp).
    std::optional<channel_metrics> metrics() const noexcept {
        return shared_ ? shared_->metrics_.snapshot() : std::nullopt;
    }

    /// True when there are no receivers (a send would fail).
    bool is_closed() const noexcept { return receiver_count() == 0; }

    /// How many receivers the channel has now.
    std::size_t receiver_count() const noexcept {
        return shared_ ? shared_->rx_count_.load(std::memory_order_seq_cst) : 0;
    }

    /// A new receiver that has seen the current version (it waits for the next one). Works after
    /// every receiver was gone: the channel reopens for send().
    [[nodiscard]] receiver<T> subscribe() const noexcept {
        assert(shared_);
        shared_->retain();
        shared_->rx_count_.fetch_add(1, std::memory_order_seq_cst);
        return receiver<T>(shared_, detail::watch_state::version(shared_->state_.load()));
    }

    /// Sender-side; not concurrently with other closed() awaits on this sender. Completes when
    /// there are no receivers (at once if there are none now). Cancel safe.
    class [[nodiscard]] closed_operation : public leaf_awaiter<closed_operation> {
    public:
        /// Made by closed(); not called directly.
        explicit closed_operation(sender* tx) noexcept : tx_(tx) {}
        closed_operation(const closed_operation&) = delete;
        closed_operation& operator=(const closed_operation&) = delete;
        ~closed_operation() { cancel(); }
        /// Leaves the closed() waiters and drops the waker.
        void cancel() noexcept override {
            if (tx_->shared_) tx_->shared_->notify_tx_.remove(node_);
        }
        /// Ready if there are no receivers; else registers the task's waker for the last one's
        /// departure.
        bool poll(context& cx) noexcept override {
            auto* sh = tx_->shared_;
            if (!sh || sh->rx_count_.load(std::memory_order_seq_cst) == 0) return cx.poll_budget();
            sh->notify_tx_.enqueue(node_, cx.waker());
            // Re-check after registering (watch_notify_list protocol step 1).
            if (sh->rx_count_.load(std::memory_order_seq_cst) == 0) return cx.poll_budget();
            return false;
        }
        /// Nothing: completing is the answer (no receiver is left).
        void await_resume() const noexcept {}

    private:
        sender* tx_;
        detail::list_waiter node_;
    };
    /// `co_await tx.closed()`: see closed_operation. Lets a producer stop work nobody will read.
    [[nodiscard]] closed_operation closed() noexcept { return closed_operation(this); }

    /// Blocking twin of closed(), for plain threads (not on a runtime worker).
    void blocking_closed() {
        closed_operation op(this);
        ::corio::detail::blocking_poll(op);
    }

private:
    friend std::pair<sender<T>, receiver<T>> channel<T>(T initial, const channel_options& opts);
    explicit sender(detail::watch_shared<T>* s) noexcept : shared_(s) {}

    void drop() noexcept {
        if (auto* s = std::exchange(shared_, nullptr)) {
            s->state_.transition_to_closed();
            s->notify_rx_.notify_waiters();
            s->release();
        }
    }

    detail::watch_shared<T>* shared_ = nullptr;
};

}  // namespace corio::watch
