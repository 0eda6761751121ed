/// \file
/// corio/channels/oneshot.hpp — send exactly one value from one task to another.
///
///     auto [tx, rx] = corio::oneshot::channel<int>();
///     corio::spawn(producer(std::move(tx)));        // ... tx.send(42);
///     corio::result<int, corio::oneshot::recv_error> r = co_await rx;
///
/// A channel is one allocation shared by a sender<T> and a receiver<T>, both move-only.
/// `tx.send(v)` consumes the sender: it stores the value and wakes a waiting receiver, or, if the
/// receiver is gone or closed, hands the value back inside send_error<T>. `co_await rx` (or
/// `co_await rx.recv()`) yields the value once it is sent. `co_await tx.closed()` lets a producer
/// notice that nobody wants its value any more (Tokio's Sender::closed).
///
/// Disconnection: if the sender is destroyed without sending, `co_await rx` yields
///   recv_error::closed and try_recv() yields try_recv_error::closed. Destroying the receiver (or
///   calling close()) makes every later send() fail with the value handed back; a value that was
///   sent but never received is destroyed with the receiver.
/// Errors: recv_error::closed, try_recv_error::{empty, closed}, send_error<T> (corio/channels/error.hpp).
///   Once the receiver has yielded a result (value or error), it is spent: later receives yield closed.
/// Cancel safety: `co_await rx` inside select() is cancel safe; a pending receive that is cancelled
///   (cancel(), or destroyed) has taken nothing, the value stays in the channel for a later receive,
///   and its waker is withdrawn (protocol 3 below). `tx.closed()` likewise. A send never waits.
/// Memory ordering: everything the sender did before send() is visible to the receiver once the
///   value is returned; everything the receiver did before close() or its destruction is visible
///   to the sender once closed() completes or is_closed() returns true.
/// Resumption: a waiting receiver (or closed() waiter) is re-scheduled on its own runtime through
///   its waker; send() and close() never resume anyone inline.
/// Thread safety: sender and receiver may live on different workers or plain threads; each handle
///   is used by one task (or thread) at a time. Preconditions (debug assertions): a handle is not
///   moved or destroyed while an operation on it is pending; send() is called on a non-empty sender.
/// T's move constructor should not throw: the value is moved inside noexcept polls.
#pragma once

#include <corio/channels/error.hpp>
#include <corio/result.hpp>
#include <corio/runtime/detail/sync_primitives.hpp>
#include <corio/runtime/leaf.hpp>
#include <corio/runtime/waker.hpp>

#include <cassert>
#include <cstdint>
#include <optional>
#include <utility>

namespace corio {

namespace detail {

// oneshot_state: the one atomic word of a oneshot channel (Tokio's sync/oneshot.rs `State`).
//
// Bits:     rx_task_set (0): rx_task_ holds the receiver's waker. While set and value_sent is
//                            clear, the sender may read it (wake_by_ref); while clear, it belongs
//                            to the receiver, which may replace it and then sets the bit.
//           value_sent (1):  set once, by the sender (send, or destruction without sending), never
//                            cleared; never set once closed is set. From then on value_ belongs to
//                            the receiver (it may be empty: the sender was dropped), and the
//                            receiver never writes rx_task_ again.
//           closed (2):      set once, by the receiver (close() or destruction), never cleared.
//                            While set and value_sent clear, value_ belongs to the sender (a failed
//                            send takes its value back), and the sender never writes tx_task_.
//           tx_task_set (3): tx_task_ holds the waker of a sender awaiting closed(). Mirror of
//                            rx_task_set: while set and closed clear, the receiver may read it;
//                            while clear it belongs to the sender.
// Initial:  0. Two references (sender, receiver) in oneshot_shared::refs_.
// Access:   value_ belongs to the sender until it sets value_sent, then to the receiver. Wakers:
//           see their bits. A slot whose bit was found set together with the terminal bit of the
//           other side (value_sent for rx_task_, closed for tx_task_) is not touched again by
//           its owner (the bit is set back if it was just cleared): the other side may be
//           reading it. Both wakers are dropped with the shared state.
// Ordering: every transition is one RMW with acq_rel, so they are totally ordered. Release on
//           value_sent publishes value_ to the receiver's acquire load; release on *_task_set
//           publishes the waker to the side that reads it after its own RMW; release on closed
//           publishes the receiver's prior writes to the sender's acquire load in is_closed().
// Protocols (Tokio's poll_recv / poll_closed):
//   1. Register: if the bit is set and the stored waker wakes someone else, clear the bit
//      (the other side can no longer read the slot); if that RMW shows the terminal bit, set the
//      bit back and complete; else replace the waker, then set the bit. If that RMW shows the
//      terminal bit, complete: the other side may have finished before the bit was set and so
//      has not woken us (register, then re-check).
//   2. Complete (sender) / close (receiver): one RMW setting the terminal bit; if the previous
//      word had the other side's task bit, wake that waker by reference (it stays in the slot).
//   3. Withdraw (a pending recv or closed() cancelled): if the task bit is set and the other
//      side's terminal bit is not, clear the task bit; if that RMW shows the terminal bit, set
//      the bit back and leave the slot (the other side may be waking it: the wake is spent, the
//      clone goes with the shared state); else the slot is ours again and its waker is dropped.
//      Afterwards the next poll registers afresh (protocol 1 with the bit clear).
// Seam:     word_ and refs_ are detail::atomic (sync_primitives.hpp), model-checked by tests/model.
class oneshot_state {
public:
    static constexpr std::uint32_t rx_task_set = 1u << 0;
    static constexpr std::uint32_t value_sent = 1u << 1;
    static constexpr std::uint32_t closed = 1u << 2;
    static constexpr std::uint32_t tx_task_set = 1u << 3;

    // Acquire: pairs with the release of every transition below.
    std::uint32_t load() const noexcept { return word_.load(std::memory_order_acquire); }

    // Sender: value_sent unless closed. Returns the previous word; it succeeded iff that lacks closed.
    std::uint32_t transition_to_value_sent() noexcept {
        std::uint32_t cur = word_.load(std::memory_order_acquire);
        while (!(cur & closed)) {
            if (word_.compare_exchange_weak(cur, cur | value_sent, std::memory_order_acq_rel,
                                            std::memory_order_acquire))
                break;
        }
        return cur;
    }
    // Receiver: returns the previous word.
    std::uint32_t transition_to_closed() noexcept { return word_.fetch_or(closed, std::memory_order_acq_rel); }

    // Return the new word.
    std::uint32_t set_rx_task() noexcept { return word_.fetch_or(rx_task_set, std::memory_order_acq_rel) | rx_task_set; }
    std::uint32_t unset_rx_task() noexcept {
        return word_.fetch_and(~rx_task_set, std::memory_order_acq_rel) & ~rx_task_set;
    }
    std::uint32_t set_tx_task() noexcept { return word_.fetch_or(tx_task_set, std::memory_order_acq_rel) | tx_task_set; }
    std::uint32_t unset_tx_task() noexcept {
        return word_.fetch_and(~tx_task_set, std::memory_order_acq_rel) & ~tx_task_set;
    }

private:
    detail::atomic<std::uint32_t> word_{0};
};

// The one allocation of a oneshot channel.
template <class T>
class oneshot_shared {
public:
    oneshot_state state_;
    std::optional<T> value_;  // access: oneshot_state's Access rule
    waker rx_task_;           // access: rx_task_set
    waker tx_task_;           // access: tx_task_set

    // Lifetime: the sender and the receiver each hold one reference; each gives it up exactly
    // once (send, destruction, or the receiver's final result). acq_rel: whoever frees the state
    // sees every write made under the other reference (as std::shared_ptr does).
    void release() noexcept {
        if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
    }

    // Protocol 3 for one side: `task_bit` / `slot` are rx_task_set / rx_task_ (the receiver) or
    // tx_task_set / tx_task_ (a sender in closed()); `terminal` is the other side's bit.
    void withdraw(std::uint32_t task_bit, std::uint32_t terminal, waker& slot) noexcept {
        std::uint32_t s = state_.load();
        if (!(s & task_bit) || (s & terminal)) return;
        s = task_bit == oneshot_state::rx_task_set ? state_.unset_rx_task() : state_.unset_tx_task();
        if (s & terminal) {
            (void)(task_bit == oneshot_state::rx_task_set ? state_.set_rx_task() : state_.set_tx_task());
            return;
        }
        slot.reset();  // the bit is clear: the slot is ours
    }

    // Sender: protocol 2. False if the receiver had closed (value_ is then still the sender's).
    bool complete() noexcept {
        const std::uint32_t prev = state_.transition_to_value_sent();
        if (prev & oneshot_state::closed) return false;
        if (prev & oneshot_state::rx_task_set) rx_task_.wake_by_ref();
        return true;
    }

private:
    detail::atomic<std::uint32_t> refs_{2};
};

}  // namespace detail

namespace oneshot {

template <class T>
class sender;
template <class T>
class receiver;

template <class T>
std::pair<sender<T>, receiver<T>> channel();

/// The sending half. Move-only; destroying it without sending closes the channel for the receiver.
template <class T>
class sender {
public:
    sender() noexcept = default;
    /// Moves the sending end; `o` is left empty.
    sender(sender&& o) noexcept : shared_(std::exchange(o.shared_, nullptr)) {}
    /// Drops this sender (the receiver then sees closed, unless it sent), then takes over `o`'s.
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

    /// False once the sender has sent (or was moved from).
    explicit operator bool() const noexcept { return shared_ != nullptr; }

    /// Sends the value and consumes the sender (it is empty afterwards). Fails, handing the value
    /// back, if the receiver was destroyed or closed. Never waits. Precondition: non-empty.
    result<void, send_error<T>> send(T value) {
        assert(shared_ && "oneshot::sender::send on an empty sender");
        if (shared_->state_.load() & detail::oneshot_state::closed) {
            std::exchange(shared_, nullptr)->release();
            return unexpected(send_error<T>(std::move(value)));
        }
        shared_->value_.emplace(std::move(value));
        detail::oneshot_shared<T>* s = std::exchange(shared_, nullptr);
        if (s->complete()) {
            s->release();
            return {};
        }
        // Lifetime: closed and not value_sent, so value_ is still ours (state Access rule).
        send_error<T> back(std::move(*s->value_));
        s->value_.reset();
        s->release();
        return unexpected(std::move(back));
    }

    /// True once the receiver was destroyed or closed (or this sender is empty). Acquire: the
    /// receiver's writes before closing are visible.
    bool is_closed() const noexcept { return !shared_ || (shared_->state_.load() & detail::oneshot_state::closed); }

    /// Sender-side; not concurrently with other sender-side operations. Completes when the
    /// receiver is destroyed or closed. Cancel safe.
    class [[nodiscard]] closed_operation : public leaf_awaiter<closed_operation> {
    public:
        /// Made by closed(); not called directly.
        explicit closed_operation(sender* tx) noexcept : tx_(tx) {}
        closed_operation(const closed_operation&) = delete;
        closed_operation& operator=(const closed_operation&) = delete;
        ~closed_operation() { cancel(); }
        /// Ready if the receiver is gone or closed; else registers the task's waker for that.
        bool poll(context& cx) noexcept override {
            pending_ = !tx_->poll_closed(cx);
            return !pending_;
        }
        /// Withdraws the waker (protocol 3).
        void cancel() noexcept override {
            if (std::exchange(pending_, false) && tx_->shared_)
                tx_->shared_->withdraw(detail::oneshot_state::tx_task_set, detail::oneshot_state::closed,
                                       tx_->shared_->tx_task_);
        }
        /// Nothing: completing is the answer (the receiver is gone or closed).
        void await_resume() const noexcept {}

    private:
        sender* tx_;
        bool pending_ = false;  // the last poll returned false (tx_task_ may hold our waker)
    };
    /// `co_await tx.closed()`: see closed_operation. Lets a producer stop work nobody will receive
    /// (Tokio's Sender::closed).
    [[nodiscard]] closed_operation closed() noexcept { return closed_operation(this); }

    /// Blocking twin of closed(), for plain threads (not on a runtime worker).
    void blocking_closed() {
        closed_operation op(this);
        ::corio::detail::blocking_poll(op);
    }

private:
    friend std::pair<sender<T>, receiver<T>> channel<T>();
    explicit sender(detail::oneshot_shared<T>* s) noexcept : shared_(s) {}

    void drop() noexcept {
        if (auto* s = std::exchange(shared_, nullptr)) {
            s->complete();  // value_sent with an empty value_: the receiver sees closed
            s->release();
        }
    }

    // Protocol 1 on tx_task_.
    bool poll_closed(context& cx) noexcept {
        using st = detail::oneshot_state;
        if (!shared_) return cx.poll_budget();
        std::uint32_t s = shared_->state_.load();
        if (s & st::closed) return cx.poll_budget();
        if (s & st::tx_task_set) {
            if (shared_->tx_task_.will_wake(cx.waker())) return false;
            s = shared_->state_.unset_tx_task();
            if (s & st::closed) {
                // The receiver may be reading the slot: leave it, set the bit back.
                (void)shared_->state_.set_tx_task();
                return cx.poll_budget();
            }
        }
        // tx_task_set is clear: the slot is ours.
        shared_->tx_task_ = cx.waker().clone();
        s = shared_->state_.set_tx_task();
        if (s & st::closed) return cx.poll_budget();
        return false;
    }

    detail::oneshot_shared<T>* shared_ = nullptr;
};

/// The receiving half. Move-only; destroying it closes the channel and destroys a value that
/// was sent but not received.
template <class T>
class receiver {
public:
    receiver() noexcept = default;
    /// Moves the receiving end; `o` is left empty.
    receiver(receiver&& o) noexcept : shared_(std::exchange(o.shared_, nullptr)) {}
    /// Closes this receiver's channel (if any), then takes over `o`'s.
    receiver& operator=(receiver&& o) noexcept {
        if (this != &o) {
            drop();
            shared_ = std::exchange(o.shared_, nullptr);
        }
        return *this;
    }
    receiver(const receiver&) = delete;
    receiver& operator=(const receiver&) = delete;
    ~receiver() { drop(); }

    /// False once a result (value or error) was yielded, or if moved from.
    explicit operator bool() const noexcept { return shared_ != nullptr; }

    /// Receiver-side; not concurrently with other receiver-side operations. Yields the value, or
    /// recv_error::closed if the sender was destroyed without sending (or the receiver closed
    /// before a value arrived). Cancel safe.
    class [[nodiscard]] recv_operation : public leaf_awaiter<recv_operation> {
    public:
        /// Made by recv() or `co_await rx`; not called directly.
        explicit recv_operation(receiver* rx) noexcept : rx_(rx) {}
        recv_operation(const recv_operation&) = delete;
        recv_operation& operator=(const recv_operation&) = delete;
        ~recv_operation() { cancel(); }
        /// Takes the value if it was sent; else registers the task's waker with the sender.
        bool poll(context& cx) noexcept override {
            pending_ = !rx_->poll_recv(cx, out_);
            return !pending_;
        }
        /// Withdraws the waker (protocol 3); nothing was taken.
        void cancel() noexcept override {
            if (std::exchange(pending_, false) && rx_->shared_)
                rx_->shared_->withdraw(detail::oneshot_state::rx_task_set, detail::oneshot_state::value_sent,
                                       rx_->shared_->rx_task_);
        }
        /// The value, or recv_error::closed if the sender was destroyed without sending (or the
        /// value was already taken).
        result<T, recv_error> await_resume() { return std::move(*out_); }
        /// What the pending operation waits for, in words, for runtime::dump() (corio/runtime/dump.hpp).
        void describe(std::string& out) const override { out += "recv on oneshot channel (nothing sent yet)"; }

    private:
        friend class receiver;
        receiver* rx_;
        std::optional<result<T, recv_error>> out_;
        bool pending_ = false;  // the last poll returned false (rx_task_ may hold our waker)
    };

    /// `co_await rx.recv()`: see recv_operation.
    [[nodiscard]] recv_operation recv() noexcept { return recv_operation(this); }
    /// `co_await rx`: the same as `co_await rx.recv()` (Tokio's receiver is itself a future).
    recv_operation operator co_await() & noexcept { return recv_operation(this); }
    /// `co_await std::move(rx)` or on a temporary: the same as recv().
    recv_operation operator co_await() && noexcept { return recv_operation(this); }

    /// Never waits: the value, try_recv_error::empty (nothing sent yet; the receiver stays
    /// usable), or try_recv_error::closed.
    result<T, try_recv_error> try_recv() {
        using st = detail::oneshot_state;
        if (!shared_) return unexpected(try_recv_error::closed);
        const std::uint32_t s = shared_->state_.load();
        if (s & (st::value_sent | st::closed)) return take<try_recv_error>(s);
        return unexpected(try_recv_error::empty);
    }

    /// Closes the channel: later sends fail and hand their value back, and a sender awaiting
    /// closed() is woken. A value sent before close() can still be received.
    void close() noexcept {
        if (!shared_) return;
        const std::uint32_t prev = shared_->state_.transition_to_closed();
        using st = detail::oneshot_state;
        if ((prev & st::tx_task_set) && !(prev & (st::value_sent | st::closed))) shared_->tx_task_.wake_by_ref();
    }

    /// Blocking twin of `co_await rx`, for plain threads. Precondition: not called on a worker
    /// of a runtime (it would block the worker).
    result<T, recv_error> blocking_recv() {
        recv_operation op(this);
        ::corio::detail::blocking_poll(op);
        return op.await_resume();
    }

private:
    friend std::pair<sender<T>, receiver<T>> channel<T>();
    explicit receiver(detail::oneshot_shared<T>* s) noexcept : shared_(s) {}

    void drop() noexcept {
        if (!shared_) return;
        close();
        // Lifetime: value_sent is set, so value_ is ours (the sender is done with it); destroy
        // an unreceived value now rather than with the last reference.
        if (shared_->state_.load() & detail::oneshot_state::value_sent) shared_->value_.reset();
        std::exchange(shared_, nullptr)->release();
    }

    // The receiver's final result: precondition value_sent or closed is in `s`. Spends the receiver.
    template <class E>
    result<T, E> take(std::uint32_t s) noexcept {
        auto* sh = std::exchange(shared_, nullptr);
        if ((s & detail::oneshot_state::value_sent) && sh->value_) {
            result<T, E> r(std::move(*sh->value_));
            sh->value_.reset();
            sh->release();
            return r;
        }
        sh->release();
        return unexpected(E::closed);
    }

    bool finish(context& cx, std::uint32_t s, std::optional<result<T, recv_error>>& out) noexcept {
        if (!cx.poll_budget()) return false;
        out.emplace(take<recv_error>(s));
        return true;
    }

    // Protocol 1 on rx_task_.
    bool poll_recv(context& cx, std::optional<result<T, recv_error>>& out) noexcept {
        using st = detail::oneshot_state;
        if (!shared_) {
            if (!cx.poll_budget()) return false;
            out.emplace(unexpected(recv_error::closed));
            return true;
        }
        std::uint32_t s = shared_->state_.load();
        if (s & (st::value_sent | st::closed)) return finish(cx, s, out);
        if (s & st::rx_task_set) {
            if (shared_->rx_task_.will_wake(cx.waker())) return false;
            s = shared_->state_.unset_rx_task();
            if (s & st::value_sent) {
                // The sender may be reading the slot: leave it, set the bit back.
                s = shared_->state_.set_rx_task();
                return finish(cx, s, out);
            }
        }
        // rx_task_set is clear: the slot is ours.
        shared_->rx_task_ = cx.waker().clone();
        s = shared_->state_.set_rx_task();
        if (s & st::value_sent) return finish(cx, s, out);
        return false;
    }

    detail::oneshot_shared<T>* shared_ = nullptr;
};

/// Creates a channel: one allocation, shared by the two halves.
template <class T>
std::pair<sender<T>, receiver<T>> channel() {
    auto* s = new detail::oneshot_shared<T>();
    return {sender<T>(s), receiver<T>(s)};
}

}  // namespace oneshot
}  // namespace corio
