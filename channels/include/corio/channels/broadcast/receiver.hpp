/// \file
/// corio/channels/broadcast/receiver.hpp — the receiving half of a broadcast channel: recv(),
/// try_recv(), resubscribe(). See corio/channels/broadcast.hpp for the contract.
#pragma once

#include <corio/channels/broadcast/detail/shared.hpp>
#include <corio/channels/broadcast/detail/slot.hpp>
#include <corio/channels/broadcast/error.hpp>
#include <corio/channels/broadcast/fwd.hpp>
#include <corio/channels/detail/rw_lock.hpp>
#include <corio/channels/detail/waiter_list.hpp>
#include <corio/channels/metrics.hpp>
#include <corio/result.hpp>
#include <corio/runtime/leaf.hpp>
#include <corio/runtime/waker.hpp>

#include <fmt/format.h>

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <iterator>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <utility>

namespace corio::broadcast {

/// The receiving half. Move-only; destroying it gives up its unread values.
template <class T>
class receiver {
public:
    receiver() noexcept = default;
    /// Moves the subscription (and its position); `o` is left empty.
    receiver(receiver&& o) noexcept : shared_(std::exchange(o.shared_, nullptr)), next_(o.next_) {}
    /// Gives up this receiver's unread values, then takes over `o`'s subscription.
    receiver& operator=(receiver&& o) noexcept {
        if (this != &o) {
            drop();
            shared_ = std::exchange(o.shared_, nullptr);
            next_ = o.next_;
        }
        return *this;
    }
    receiver(const receiver&) = delete;
    receiver& operator=(const receiver&) = delete;
    ~receiver() { drop(); }

    /// False for a default-constructed or moved-from receiver.
    explicit operator bool() const noexcept { return shared_ != nullptr; }

    /// Receiver-side; not concurrently with other receiver-side operations. Yields the next
    /// value, recv_error::lagged(n) if n values were lost to overwriting (the receiver then goes
    /// on from the oldest value held), or recv_error::closed once the last sender is gone and the
    /// backlog is drained. Cancel safe.
    class [[nodiscard]] recv_operation : public leaf_awaiter<recv_operation> {
    public:
        /// Made by recv(); not called directly.
        explicit recv_operation(receiver* rx) noexcept : rx_(rx) {}
        recv_operation(const recv_operation&) = delete;
        recv_operation& operator=(const recv_operation&) = delete;
        ~recv_operation() { cancel(); }
        /// What the pending operation waits for, in words, for runtime::dump() (corio/runtime/dump.hpp).
        void describe(std::string& out) const override {
            fmt::format_to(std::back_inserter(out), "recv on broadcast channel ({} unread, {} receivers)", rx_->len(),
                           rx_->receiver_count());
        }

        /// Takes the next value (or reports lag or close) if one is there; else queues the waker
        /// for the next send.
        bool poll(context& cx) noexcept override {
            auto* sh = rx_->shared_;
            if (!sh) {
                if (!cx.poll_budget()) return false;
                out_.emplace(unexpected(recv_error::closed()));
                return true;
            }
            // Budget first: a ready recv_ref consumes the value.
            if (!cx.poll_budget()) return false;
            std::shared_lock<detail::rw_lock> guard;
            detail::broadcast_slot<T>* slot = nullptr;
            std::uint64_t missed = 0;
            waker old;  // dropped after every lock is released
            const waker_ref r = cx.waker();
            switch (sh->recv_ref(rx_->next_, guard, slot, missed, &node_, &r, old)) {
                case detail::broadcast_status::ok:
                    try {
                        out_.emplace(*slot->val_);
                        sh->count_received(rx_->next_ - 1);
                    } catch (...) {
                        error_ = std::current_exception();
                    }
                    detail::broadcast_shared<T>::release_slot(*slot, guard);
                    return true;
                case detail::broadcast_status::lagged:
                    sh->metrics_.lagged(missed);
                    out_.emplace(unexpected(recv_error::lagged(missed)));
                    return true;
                case detail::broadcast_status::closed: out_.emplace(unexpected(recv_error::closed())); return true;
                default: return false;
            }
        }

        /// Unlinks the node and drops its waker; nothing was consumed. Harmless after a ready poll
        /// (a send may not have popped the node yet: recv_ref reads without the tail mutex).
        void cancel() noexcept override {
            if (rx_->shared_) rx_->shared_->remove_waiter(node_);
        }

        /// The value, recv_error::lagged(n) or recv_error::closed; rethrows if T's copy threw.
        result<T, recv_error> await_resume() {
            if (error_) std::rethrow_exception(error_);
            return std::move(*out_);
        }

    private:
        receiver* rx_;
        detail::list_waiter node_;
        std::optional<result<T, recv_error>> out_;
        std::exception_ptr error_;
    };

    /// `co_await rx.recv()`: the next value; see recv_operation.
    [[nodiscard]] recv_operation recv() noexcept { return recv_operation(this); }

    /// Never waits: the next value, or try_recv_error::{empty, closed, lagged(n)}.
    result<T, try_recv_error> try_recv() {
        if (!shared_) return unexpected(try_recv_error::closed());
        std::shared_lock<detail::rw_lock> guard;
        detail::broadcast_slot<T>* slot = nullptr;
        std::uint64_t missed = 0;
        waker old;
        switch (shared_->recv_ref(next_, guard, slot, missed, nullptr, nullptr, old)) {
            case detail::broadcast_status::ok: {
                struct release_on_exit {
                    detail::broadcast_slot<T>* s;
                    std::shared_lock<detail::rw_lock>* g;
                    ~release_on_exit() { detail::broadcast_shared<T>::release_slot(*s, *g); }
                } rel{slot, &guard};
                result<T, try_recv_error> r(*slot->val_);
                shared_->count_received(next_ - 1);
                return r;
            }
            case detail::broadcast_status::lagged:
                shared_->metrics_.lagged(missed);
                return unexpected(try_recv_error::lagged(missed));
            case detail::broadcast_status::closed: return unexpected(try_recv_error::closed());
            default: return unexpected(try_recv_error::empty());
        }
    }

    /// Blocking twin of `co_await rx.recv()`, for plain threads (not on a runtime worker).
    result<T, recv_error> blocking_recv() {
        recv_operation op(this);
        ::corio::detail::blocking_poll(op);
        return op.await_resume();
    }

    /// A new receiver, as sender::subscribe() makes: at the tail (or, with replay(n), at the
    /// oldest of the last n values sent); it does not inherit this one's position.
    [[nodiscard]] receiver resubscribe() const noexcept {
        assert(shared_);
        shared_->retain();
        return receiver(shared_, shared_->add_receiver());
    }

    /// Values sent that this receiver has not received yet (may exceed the capacity: the next
    /// recv then yields lagged).
    std::size_t len() const noexcept {
        if (!shared_) return 0;
        std::lock_guard lock(shared_->tail_mutex_);
        return static_cast<std::size_t>(shared_->tail_.pos - next_);
    }
    /// True if len() is 0: nothing sent since this receiver's last value.
    bool is_empty() const noexcept { return len() == 0; }

    /// The channel's counters, if it was made `with_metrics` (corio/channels/metrics.hpp).
    std::optional<channel_metrics> metrics() const noexcept {
        return shared_ ? shared_->metrics_.snapshot() : std::nullopt;
    }

    /// How many receivers the channel has (this one included).
    std::size_t receiver_count() const noexcept {
        if (!shared_) return 0;
        std::lock_guard lock(shared_->tail_mutex_);
        return shared_->tail_.rx_cnt;
    }

private:
    friend class sender<T>;
    friend std::pair<sender<T>, receiver<T>> channel<T>(std::size_t capacity, replay history,
                                                       const channel_options& opts);
    receiver(detail::broadcast_shared<T>* s, std::uint64_t next) noexcept : shared_(s), next_(next) {}

    // Tokio's Drop for Receiver: leave the count, then read past every unread slot so that
    // each value this receiver was counted for is released.
    void drop() noexcept {
        auto* s = std::exchange(shared_, nullptr);
        if (!s) return;
        std::uint64_t until;
        {
            std::lock_guard lock(s->tail_mutex_);
            --s->tail_.rx_cnt;
            until = s->tail_.pos;
        }
        while (next_ < until) {
            std::shared_lock<detail::rw_lock> guard;
            detail::broadcast_slot<T>* slot = nullptr;
            std::uint64_t missed = 0;
            waker old;
            const auto st = s->recv_ref(next_, guard, slot, missed, nullptr, nullptr, old);
            if (st == detail::broadcast_status::ok) detail::broadcast_shared<T>::release_slot(*slot, guard);
            else if (st != detail::broadcast_status::lagged) break;  // closed; empty cannot happen
        }
        s->release();
    }

    detail::broadcast_shared<T>* shared_ = nullptr;
    std::uint64_t next_ = 0;  // position of the next value to receive; this receiver's alone
};

}  // namespace corio::broadcast
