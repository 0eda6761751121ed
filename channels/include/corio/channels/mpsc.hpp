// corio/channels/mpsc.hpp — multi-producer, single-consumer queues (Tokio's sync::mpsc).
//
//     auto [tx, rx] = corio::mpsc::channel<int>(64);           // bounded: backpressure
//     corio::spawn(producer(tx));                               // senders are copyable
//     auto sent = co_await tx.send(1);                          // waits for capacity
//     while (auto v = co_await rx.recv()) use(*v);              // nullopt: every sender gone, drained
//
//     auto [utx, urx] = corio::mpsc::unbounded_channel<int>();  // never waits to send
//     (void)utx.send(2);
//
// A channel is one allocation shared by its handles. sender<T> / unbounded_sender<T> are
// copyable: each copy is a producer, and the channel closes for the receiver when the last one is
// destroyed (weak senders, from downgrade(), do not keep it open). receiver<T> is move-only.
//
// Queue: Tokio's lock-free list of 32-slot blocks (mpsc/detail/block_list.hpp says why), with
// blocks recycled by the receiver. Capacity (bounded): a FIFO-fair batch_semaphore, so waiting
// senders get capacity in the order they asked for it. The receiver's waker is an atomic_waker.
//
// Disconnection:
//   - Every sender destroyed: recv() yields the queued values, then nullopt; try_recv() then
//     reports closed.
//   - Receiver destroyed: sends (pending and later) fail with send_error<T> carrying the value;
//     queued values are destroyed; closed() completes for every sender.
//   - rx.close(): as receiver destroyed for the senders, but queued values (and values sent with
//     permits reserved before the close) can still be received; then recv() yields nullopt.
// Errors: send_error<T> (corio/channels/error.hpp); try_send_error<T>, try_recv_error,
//   reserve_error, try_reserve_error (corio/channels/mpsc/error.hpp).
// Cancel safety: every awaitable operation is cancel safe: cancel() (a combinator's losing
//   operand) or destruction while pending — select, timeout, abort — undoes it, and a cancelled
//   operation may be awaited again (leaf contract, corio/runtime/leaf.hpp):
//   - recv() / recv_many(): nothing was taken; the values stay queued; the waker is dropped.
//   - send(v): nothing was sent, and the value stays in the awaiter: take_value() returns it (a
//     select or timeout hands it back); the queued place for capacity is given up (polled again,
//     it queues at the back), and capacity already assigned to it goes to the next waiting sender.
//   - reserve(): as send: the queued place and any capacity assigned to it are passed on.
//   - closed(): leaves the closed() waiters.
//   A permit destroyed unused returns its slot.
// Ordering: messages from one sender (or one chain of copies used in sequence) arrive in the
//   order sent. Everything a sender did before a send is visible to the receiver once it has
//   received that value.
// Resumption: a parked receiver or sender is re-scheduled on its own runtime through its waker;
//   no operation resumes anyone inline.
// Thread safety: handles may live on different workers or plain threads; each handle is used by
//   one task (or thread) at a time (copy a sender to use it from several). Preconditions (debug
//   assertions): handles are non-empty (not moved from) when used; a handle is not moved or
//   destroyed while an operation on it is pending; a permit does not outlive the sender it was
//   reserved from.
// Cooperative budget: each ready send/recv/reserve uses one unit of the task's budget, so a task
//   looping over an always-ready channel yields to others on its worker.
// T's move constructor should not throw: values are moved inside noexcept polls.
// blocking_send / blocking_recv are the twins for plain threads; never call them on a worker.
#pragma once

#include <corio/channels/detail/batch_semaphore.hpp>
#include <corio/channels/error.hpp>
#include <corio/channels/mpsc/detail/chan.hpp>
#include <corio/channels/mpsc/error.hpp>
#include <corio/result.hpp>
#include <corio/runtime/leaf.hpp>
#include <corio/runtime/time.hpp>
#include <corio/runtime/waker.hpp>

#include <cassert>
#include <cstddef>
#include <limits>
#include <optional>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

namespace corio::stream {
template <class T>
class receiver_stream;
}  // namespace corio::stream

namespace corio::mpsc {

template <class T>
class sender;
template <class T>
class unbounded_sender;
template <class T>
class receiver;
template <class T>
class weak_sender;
template <class T>
class weak_unbounded_sender;
template <class T>
class permit;

template <class T>
std::pair<sender<T>, receiver<T>> channel(std::size_t capacity, const channel_options& opts = {});
template <class T>
std::pair<unbounded_sender<T>, receiver<T>> unbounded_channel(const channel_options& opts = {});

namespace detail {

using ::corio::detail::batch_semaphore;
using ::corio::detail::mpsc::chan;
using ::corio::detail::mpsc::closed_waiter;

// What both kinds of sender share: the strong reference, copy semantics, closed().
template <class T>
class sender_base {
public:
    sender_base(const sender_base& o) noexcept : chan_(o.chan_) {
        if (chan_) {
            chan_->retain();
            chan_->add_sender();
        }
    }
    sender_base(sender_base&& o) noexcept : chan_(std::exchange(o.chan_, nullptr)) {}
    sender_base& operator=(const sender_base& o) noexcept {
        if (this != &o) {
            sender_base copy(o);
            std::swap(chan_, copy.chan_);
        }
        return *this;
    }
    sender_base& operator=(sender_base&& o) noexcept {
        if (this != &o) {
            drop();
            chan_ = std::exchange(o.chan_, nullptr);
        }
        return *this;
    }
    ~sender_base() { drop(); }

    /// False if moved from.
    explicit operator bool() const noexcept { return chan_ != nullptr; }

    /// True once the receiver was destroyed or closed: every send fails from now on.
    bool is_closed() const noexcept { return !chan_ || chan_->is_rx_closed(); }
    /// Whether both handles belong to the same channel.
    bool same_channel(const sender_base& o) const noexcept { return chan_ == o.chan_; }
    /// Identifies the channel (for same_channel between different handle kinds).
    const void* channel_id() const noexcept { return chan_; }

    /// The channel's counters, if it was made `with_metrics` (corio/channels/metrics.hpp).
    std::optional<channel_metrics> metrics() const noexcept {
        return chan_ ? chan_->metrics().snapshot() : std::nullopt;
    }
    /// Strong senders alive (this one included).
    std::size_t strong_count() const noexcept { return chan_ ? chan_->sender_count() : 0; }

    /// `co_await tx.closed()` completes once the receiver is destroyed or closed. Cancel safe.
    class [[nodiscard]] closed_operation : public leaf_awaiter<closed_operation> {
    public:
        explicit closed_operation(chan<T>* c) noexcept : chan_(c) {}
        closed_operation(const closed_operation&) = delete;
        closed_operation& operator=(const closed_operation&) = delete;
        ~closed_operation() { cancel(); }
        bool poll(context& cx) noexcept override {
            polled_ = true;
            return chan_->poll_closed(node_, cx.waker());
        }
        /// Leaves the closed() waiters (the node goes back to idle: chan.hpp, closed_waiter).
        void cancel() noexcept override {
            if (std::exchange(polled_, false)) chan_->cancel_closed(node_);
        }
        void await_resume() const noexcept {}

    private:
        chan<T>* chan_;
        closed_waiter node_;
        bool polled_ = false;
    };
    closed_operation closed() noexcept {
        assert(chan_ && "mpsc sender: closed() on an empty sender");
        return closed_operation(chan_);
    }

    /// Blocking twin of closed(), for plain threads. Precondition: not on a runtime worker.
    void blocking_closed() {
        closed_operation op = closed();
        ::corio::detail::blocking_poll(op);
    }

protected:
    sender_base() noexcept = default;
    explicit sender_base(chan<T>* c) noexcept : chan_(c) {}

    void drop() noexcept {
        if (auto* c = std::exchange(chan_, nullptr)) {
            c->drop_sender();
            c->release();
        }
    }

    chan<T>* chan_ = nullptr;
};

template <class T>
class weak_base {
public:
    weak_base(const weak_base& o) noexcept : chan_(o.chan_) {
        if (chan_) chan_->retain();
    }
    weak_base(weak_base&& o) noexcept : chan_(std::exchange(o.chan_, nullptr)) {}
    weak_base& operator=(weak_base o) noexcept {
        std::swap(chan_, o.chan_);
        return *this;
    }
    ~weak_base() {
        if (chan_) chan_->release();
    }

protected:
    weak_base() noexcept = default;
    explicit weak_base(chan<T>* c) noexcept : chan_(c) {
        if (chan_) chan_->retain();
    }
    chan<T>* chan_ = nullptr;
};

}  // namespace detail

/// A reserved slot of a bounded channel: send() never waits and cannot fail for capacity.
/// Destroying an unused permit returns the slot. Precondition: it does not outlive the sender it
/// was reserved from.
template <class T>
class [[nodiscard]] permit {
public:
    permit() noexcept = default;
    permit(permit&& o) noexcept : chan_(std::exchange(o.chan_, nullptr)) {}
    permit& operator=(permit&& o) noexcept {
        if (this != &o) {
            reset();
            chan_ = std::exchange(o.chan_, nullptr);
        }
        return *this;
    }
    permit(const permit&) = delete;
    permit& operator=(const permit&) = delete;
    ~permit() { reset(); }

    explicit operator bool() const noexcept { return chan_ != nullptr; }

    /// Sends through the reserved slot and spends the permit. Precondition: non-empty.
    void send(T value) {
        assert(chan_ && "mpsc permit: send on an empty permit");
        std::exchange(chan_, nullptr)->push(std::move(value));
    }

private:
    friend class sender<T>;
    explicit permit(detail::chan<T>* c) noexcept : chan_(c) {}
    void reset() noexcept {
        if (auto* c = std::exchange(chan_, nullptr)) c->return_permit();
    }
    detail::chan<T>* chan_ = nullptr;
};

/// The sending half of a bounded channel. Copyable; see the file comment.
template <class T>
class sender : public detail::sender_base<T> {
    using base = detail::sender_base<T>;
    using base::chan_;

public:
    sender() noexcept = default;

    /// `co_await tx.send(v)`: waits for capacity, then queues v. Yields an error carrying v back
    /// if the receiver is gone or closed. Cancel safe; take_value() gets v back from an
    /// abandoned send.
    class [[nodiscard]] send_operation : public leaf_awaiter<send_operation> {
    public:
        send_operation(detail::chan<T>* c, T&& v) noexcept(std::is_nothrow_move_constructible_v<T>)
            : chan_(c), acq_(&c->semaphore(), 1), value_(std::move(v)) {}
        send_operation(const send_operation&) = delete;
        send_operation& operator=(const send_operation&) = delete;

        bool poll(context& cx) noexcept override {
            if (!cx.poll_budget()) return false;
            switch (acq_.poll(cx.waker())) {
                case detail::batch_semaphore::poll_result::pending: return false;
                case detail::batch_semaphore::poll_result::acquired:
                    chan_->push(std::move(*value_));
                    value_.reset();
                    return true;
                case detail::batch_semaphore::poll_result::closed: return true;
            }
            return false;
        }
        /// Leaves the capacity queue; capacity already assigned goes to the next waiting sender.
        /// The value stays (take_value()); polled again, the send queues at the back.
        void cancel() noexcept override { acq_.cancel(); }

        result<void, send_error<T>> await_resume() {
            if (value_) {
                chan_->metrics().dropped();
                send_error<T> err(std::move(*value_));
                value_.reset();
                return unexpected(std::move(err));
            }
            return {};
        }

        /// The value, if it was not sent (failed, or abandoned while waiting: this also leaves
        /// the capacity queue). Empty once the value was sent or taken.
        std::optional<T> take_value() noexcept {
            acq_.cancel();
            return std::exchange(value_, std::nullopt);
        }
        std::optional<T> into_value() noexcept { return take_value(); }

        detail::chan<T>* channel() const noexcept { return chan_; }

    private:
        detail::chan<T>* chan_;
        detail::batch_semaphore::acquirer acq_;
        std::optional<T> value_;  // present until sent; handed back on failure
    };

    send_operation send(T value) noexcept(std::is_nothrow_move_constructible_v<T>) {
        assert(chan_ && "mpsc sender: send on an empty sender");
        return send_operation(chan_, std::move(value));
    }

    /// `co_await tx.send_timeout(v, d)`: send(v), giving up after `d`. Yields
    /// send_timeout_error<T> (timeout or closed) with v handed back. Cancel safe, like send().
    class [[nodiscard]] send_timeout_operation : public leaf_awaiter<send_timeout_operation> {
    public:
        send_timeout_operation(detail::chan<T>* c, T&& v, std::chrono::nanoseconds d)
            : send_(c, std::move(v)), deadline_(corio::sleep(d)) {}
        send_timeout_operation(const send_timeout_operation&) = delete;
        send_timeout_operation& operator=(const send_timeout_operation&) = delete;

        bool poll(context& cx) noexcept override {
            if (send_.poll(cx)) return true;
            if (!deadline_.poll_deadline(cx)) return false;
            timed_out_ = true;
            return true;
        }
        /// As send_operation::cancel; the sleep leaves the timer wheel and keeps its deadline.
        void cancel() noexcept override {
            send_.cancel();
            deadline_.cancel();
        }

        result<void, send_timeout_error<T>> await_resume() {
            using error = send_timeout_error<T>;
            if (timed_out_) {
                // take_value() also leaves the capacity queue, so nothing is sent later.
                std::optional<T> v = send_.take_value();
                send_.channel()->metrics().dropped();
                return unexpected(error(error::kind::timeout, std::move(*v)));
            }
            auto r = send_.await_resume();
            if (r) return {};
            return unexpected(error(error::kind::closed, std::move(r.error().value)));
        }

        /// The value, if it was not sent (as send_operation::take_value).
        std::optional<T> take_value() noexcept { return send_.take_value(); }

    private:
        send_operation send_;
        time::sleep_operation deadline_;
        bool timed_out_ = false;
    };

    template <class Rep, class Period>
    send_timeout_operation send_timeout(T value, std::chrono::duration<Rep, Period> d) {
        assert(chan_ && "mpsc sender: send_timeout on an empty sender");
        return send_timeout_operation(chan_, std::move(value), std::chrono::duration_cast<std::chrono::nanoseconds>(d));
    }

    /// Queues v if there is capacity now; never waits.
    result<void, try_send_error<T>> try_send(T value) {
        assert(chan_ && "mpsc sender: try_send on an empty sender");
        switch (chan_->semaphore().try_acquire(1)) {
            case detail::batch_semaphore::try_result::acquired:
                chan_->push(std::move(value));
                return {};
            case detail::batch_semaphore::try_result::closed:
                chan_->metrics().dropped();
                return unexpected(try_send_error<T>::closed(std::move(value)));
            default:
                chan_->metrics().dropped();
                return unexpected(try_send_error<T>::full(std::move(value)));
        }
    }

    /// `co_await tx.reserve()`: waits for capacity and yields a permit. Cancel safe.
    class [[nodiscard]] reserve_operation : public leaf_awaiter<reserve_operation> {
    public:
        explicit reserve_operation(detail::chan<T>* c) noexcept : chan_(c), acq_(&c->semaphore(), 1) {}
        reserve_operation(const reserve_operation&) = delete;
        reserve_operation& operator=(const reserve_operation&) = delete;
        ~reserve_operation() {
            cancel();
            if (state_ == state::acquired) chan_->return_permit();  // ready but never resumed
        }

        bool poll(context& cx) noexcept override {
            if (!cx.poll_budget()) return false;
            switch (acq_.poll(cx.waker())) {
                case detail::batch_semaphore::poll_result::pending: return false;
                case detail::batch_semaphore::poll_result::acquired: state_ = state::acquired; return true;
                case detail::batch_semaphore::poll_result::closed: state_ = state::closed; return true;
            }
            return false;
        }
        /// Pending: leaves the capacity queue, and capacity already assigned goes to the next
        /// waiting sender. A no-op once ready (an acquired permit belongs to await_resume).
        void cancel() noexcept override {
            if (state_ == state::pending) acq_.cancel();
        }
        result<permit<T>, reserve_error> await_resume() noexcept {
            if (state_ != state::acquired) return unexpected(reserve_error::closed);
            state_ = state::taken;
            return permit<T>(chan_);
        }

    private:
        // pending (never polled, polled pending, or cancelled: acq_ holds any queue place) ->
        // acquired / closed (a ready poll) -> taken (await_resume made the permit).
        enum class state { pending, acquired, closed, taken };
        detail::chan<T>* chan_;
        detail::batch_semaphore::acquirer acq_;
        state state_ = state::pending;
    };

    reserve_operation reserve() noexcept {
        assert(chan_ && "mpsc sender: reserve on an empty sender");
        return reserve_operation(chan_);
    }

    result<permit<T>, try_reserve_error> try_reserve() noexcept {
        assert(chan_ && "mpsc sender: try_reserve on an empty sender");
        switch (chan_->semaphore().try_acquire(1)) {
            case detail::batch_semaphore::try_result::acquired: return permit<T>(chan_);
            case detail::batch_semaphore::try_result::closed: return unexpected(try_reserve_error::closed);
            default: return unexpected(try_reserve_error::full);
        }
    }

    /// Blocking twin of send(), for plain threads. Precondition: not on a runtime worker.
    result<void, send_error<T>> blocking_send(T value) {
        send_operation op(chan_, std::move(value));
        ::corio::detail::blocking_poll(op);
        return op.await_resume();
    }

    /// Blocking twin of reserve(), for plain threads. Precondition: not on a runtime worker.
    result<permit<T>, reserve_error> blocking_reserve() {
        reserve_operation op(chan_);
        ::corio::detail::blocking_poll(op);
        return op.await_resume();
    }

    /// Free capacity now (slots neither queued nor reserved).
    std::size_t capacity() const noexcept { return chan_ ? chan_->semaphore().available_permits() : 0; }
    /// The capacity the channel was created with.
    std::size_t max_capacity() const noexcept { return chan_ ? chan_->max_capacity() : 0; }

    /// A handle that does not keep the channel open; upgrade() gives a sender back while any
    /// sender is alive.
    weak_sender<T> downgrade() const noexcept { return weak_sender<T>(chan_); }

private:
    friend std::pair<sender<T>, receiver<T>> channel<T>(std::size_t, const channel_options&);
    friend class weak_sender<T>;
    explicit sender(detail::chan<T>* c) noexcept : base(c) {}
};

/// The sending half of an unbounded channel. Copyable; send() never waits.
template <class T>
class unbounded_sender : public detail::sender_base<T> {
    using base = detail::sender_base<T>;
    using base::chan_;

public:
    unbounded_sender() noexcept = default;

    /// Queues v, or hands it back if the receiver is gone or closed. Never waits.
    result<void, send_error<T>> send(T value) {
        assert(chan_ && "mpsc unbounded_sender: send on an empty sender");
        if (!chan_->try_inc_unbounded()) {
            chan_->metrics().dropped();
            return unexpected(send_error<T>(std::move(value)));
        }
        chan_->push(std::move(value));
        return {};
    }

    weak_unbounded_sender<T> downgrade() const noexcept { return weak_unbounded_sender<T>(chan_); }

private:
    friend std::pair<unbounded_sender<T>, receiver<T>> unbounded_channel<T>(const channel_options&);
    friend class weak_unbounded_sender<T>;
    explicit unbounded_sender(detail::chan<T>* c) noexcept : base(c) {}
};

/// A bounded sender that does not keep the channel open.
template <class T>
class weak_sender : public detail::weak_base<T> {
    using detail::weak_base<T>::chan_;

public:
    weak_sender() noexcept = default;
    /// A strong sender, unless every strong sender is already gone.
    std::optional<sender<T>> upgrade() const noexcept {
        if (!chan_ || !chan_->try_upgrade()) return std::nullopt;
        chan_->retain();
        return sender<T>(chan_);
    }

private:
    friend class sender<T>;
    explicit weak_sender(detail::chan<T>* c) noexcept : detail::weak_base<T>(c) {}
};

template <class T>
class weak_unbounded_sender : public detail::weak_base<T> {
    using detail::weak_base<T>::chan_;

public:
    weak_unbounded_sender() noexcept = default;
    std::optional<unbounded_sender<T>> upgrade() const noexcept {
        if (!chan_ || !chan_->try_upgrade()) return std::nullopt;
        chan_->retain();
        return unbounded_sender<T>(chan_);
    }

private:
    friend class unbounded_sender<T>;
    explicit weak_unbounded_sender(detail::chan<T>* c) noexcept : detail::weak_base<T>(c) {}
};

/// The receiving half (of a bounded or an unbounded channel). Move-only.
template <class T>
class receiver {
public:
    receiver() noexcept = default;
    receiver(receiver&& o) noexcept : chan_(std::exchange(o.chan_, nullptr)) {}
    receiver& operator=(receiver&& o) noexcept {
        if (this != &o) {
            drop();
            chan_ = std::exchange(o.chan_, nullptr);
        }
        return *this;
    }
    receiver(const receiver&) = delete;
    receiver& operator=(const receiver&) = delete;
    ~receiver() { drop(); }

    explicit operator bool() const noexcept { return chan_ != nullptr; }

    /// `co_await rx.recv()`: the next value, or nullopt once every sender is gone (or the
    /// receiver closed) and the queue is drained. Cancel safe.
    class [[nodiscard]] recv_operation : public leaf_awaiter<recv_operation> {
    public:
        explicit recv_operation(receiver* rx) noexcept : rx_(rx) {}
        recv_operation(const recv_operation&) = delete;
        recv_operation& operator=(const recv_operation&) = delete;
        ~recv_operation() { cancel(); }
        bool poll(context& cx) noexcept override {
            pending_ = !rx_->chan_->poll_recv(cx, out_);
            return !pending_;
        }
        /// Drops the receiver's registered waker; nothing was taken.
        void cancel() noexcept override {
            if (std::exchange(pending_, false)) rx_->chan_->unregister_rx();
        }
        std::optional<T> await_resume() noexcept(std::is_nothrow_move_constructible_v<T>) { return std::move(out_); }

    private:
        receiver* rx_;
        std::optional<T> out_;
        bool pending_ = false;  // the last poll returned false (the channel may hold our waker)
    };
    recv_operation recv() noexcept {
        assert(chan_ && "mpsc receiver: recv on an empty receiver");
        return recv_operation(this);
    }

    /// `co_await rx.recv_many(buf, limit)`: waits for at least one value, then appends up to
    /// `limit` queued values to `buf`; yields how many. 0 means closed and drained (or limit 0).
    /// Cancel safe. `buf` must stay alive while the operation is pending.
    class [[nodiscard]] recv_many_operation : public leaf_awaiter<recv_many_operation> {
    public:
        recv_many_operation(receiver* rx, std::vector<T>* buf, std::size_t limit) noexcept
            : rx_(rx), buf_(buf), limit_(limit) {}
        recv_many_operation(const recv_many_operation&) = delete;
        recv_many_operation& operator=(const recv_many_operation&) = delete;
        ~recv_many_operation() { cancel(); }
        bool poll(context& cx) noexcept override {
            pending_ = !rx_->chan_->poll_recv_many(cx, *buf_, limit_, count_);
            return !pending_;
        }
        /// Drops the receiver's registered waker; nothing was taken.
        void cancel() noexcept override {
            if (std::exchange(pending_, false)) rx_->chan_->unregister_rx();
        }
        std::size_t await_resume() const noexcept { return count_; }

    private:
        receiver* rx_;
        std::vector<T>* buf_;
        std::size_t limit_;
        std::size_t count_ = 0;
        bool pending_ = false;  // as recv_operation
    };
    recv_many_operation recv_many(std::vector<T>& buf, std::size_t limit) noexcept {
        assert(chan_ && "mpsc receiver: recv_many on an empty receiver");
        return recv_many_operation(this, &buf, limit);
    }

    /// Never waits: a value, try_recv_error::empty, or try_recv_error::closed (every sender gone
    /// or receiver closed, and drained). A send that has claimed its slot but not yet finished
    /// writing it is waited for (briefly), so a completed send is never reported as empty.
    result<T, try_recv_error> try_recv() {
        assert(chan_ && "mpsc receiver: try_recv on an empty receiver");
        for (;;) {
            switch (chan_->peek()) {
                case ::corio::detail::mpsc::peek_result::value: {
                    T v = chan_->take();
                    chan_->add_permits(1);
                    return v;
                }
                case ::corio::detail::mpsc::peek_result::closed: return unexpected(try_recv_error::closed);
                case ::corio::detail::mpsc::peek_result::empty: break;
            }
            if (chan_->rx_closed() && chan_->is_idle()) return unexpected(try_recv_error::closed);
            if (!chan_->busy()) return unexpected(try_recv_error::empty);
            std::this_thread::yield();
        }
    }

    /// Blocking twin of recv(), for plain threads. Precondition: not on a runtime worker.
    std::optional<T> blocking_recv() {
        recv_operation op(this);
        ::corio::detail::blocking_poll(op);
        return op.await_resume();
    }

    /// Blocking twin of recv_many(), for plain threads. Precondition: not on a runtime worker.
    std::size_t blocking_recv_many(std::vector<T>& buf, std::size_t limit) {
        recv_many_operation op(this, &buf, limit);
        ::corio::detail::blocking_poll(op);
        return op.await_resume();
    }

    /// Closes the channel for the senders (sends fail, closed() completes) while keeping what is
    /// queued, and what is sent with permits reserved before the close, for receiving.
    void close() noexcept {
        if (chan_) chan_->close_rx();
    }

    /// True once the receiver closed, or every sender is gone.
    bool is_closed() const noexcept { return !chan_ || chan_->rx_closed() || chan_->sender_count() == 0; }
    /// Messages queued or being sent (for a bounded channel: slots in use, reserved ones included).
    std::size_t len() const noexcept { return chan_ ? chan_->len() : 0; }
    /// The channel's counters, if it was made `with_metrics` (corio/channels/metrics.hpp).
    std::optional<channel_metrics> metrics() const noexcept {
        return chan_ ? chan_->metrics().snapshot() : std::nullopt;
    }
    bool is_empty() const noexcept { return len() == 0; }
    /// Bounded: free capacity now; unbounded: max_capacity().
    std::size_t capacity() const noexcept {
        if (!chan_) return 0;
        return chan_->bounded() ? chan_->semaphore().available_permits() : chan_->max_capacity();
    }
    /// Bounded: the capacity it was created with; unbounded: SIZE_MAX.
    std::size_t max_capacity() const noexcept { return chan_ ? chan_->max_capacity() : 0; }
    template <class S>
    bool same_channel(const S& tx) const noexcept {
        return chan_ && static_cast<const void*>(chan_) == tx.channel_id();
    }

private:
    friend std::pair<sender<T>, receiver<T>> channel<T>(std::size_t, const channel_options&);
    friend std::pair<unbounded_sender<T>, receiver<T>> unbounded_channel<T>(const channel_options&);
    friend class ::corio::stream::receiver_stream<T>;  // polls chan_ directly (no pinned operation)
    explicit receiver(detail::chan<T>* c) noexcept : chan_(c) {}

    void drop() noexcept {
        auto* c = std::exchange(chan_, nullptr);
        if (!c) return;
        c->close_rx();
        // Destroy what is queued now and give its capacity back. Values sent later with permits
        // reserved before the close are destroyed with the channel.
        std::size_t n = 0;
        while (c->peek() == ::corio::detail::mpsc::peek_result::value) {
            c->discard();
            ++n;
        }
        if (n) c->add_permits(n);
        c->release();
    }

    detail::chan<T>* chan_ = nullptr;
};

/// A bounded channel with room for `capacity` values. Precondition: capacity > 0 (throws
/// std::invalid_argument otherwise, as Tokio panics).
/// `opts`: e.g. corio::with_metrics to count (corio/channels/metrics.hpp).
template <class T>
std::pair<sender<T>, receiver<T>> channel(std::size_t capacity, const channel_options& opts) {
    if (capacity == 0 || capacity > detail::batch_semaphore::max_permits)
        throw std::invalid_argument("corio::mpsc::channel: capacity must be in 1..max_permits");
    auto* c = new detail::chan<T>(true, capacity, opts);
    return {sender<T>(c), receiver<T>(c)};
}

/// A channel without capacity limit: sends never wait (memory is the limit).
template <class T>
std::pair<unbounded_sender<T>, receiver<T>> unbounded_channel(const channel_options& opts) {
    auto* c = new detail::chan<T>(false, std::numeric_limits<std::size_t>::max(), opts);
    return {unbounded_sender<T>(c), receiver<T>(c)};
}

}  // namespace corio::mpsc
