// corio/channels/broadcast.hpp — every receiver gets every value (a copy each), with bounded lag.
//
//     auto [tx, rx] = corio::broadcast::channel<event>(1024);
//     auto rx2 = tx.subscribe();                        // sees values sent from now on
//     tx.send(ev);                                      // -> receiver count, or the value back
//     for (;;) {
//         auto r = co_await rx.recv();
//         if (r) handle(*r);
//         else if (r.error().is_lagged()) note_skipped(r.error().skipped());
//         else break;                                   // closed: all senders gone, backlog drained
//     }
//
// A channel is a ring of `capacity` slots (rounded up to a power of two) shared by every sender
// and receiver (Tokio's sync/broadcast.rs). A send writes the next slot, overwriting the oldest
// value, and never waits: capacity bounds each receiver's backlog, not the sender. A receiver
// that falls more than the ring's length behind has lost values: its next recv() yields
// recv_error::lagged(n) with n the count skipped, and it continues from the oldest value still
// held. T must be copyable; each receiver gets its own copy. A slot's value is destroyed once
// every receiver that was subscribed when it was sent has read it (or skipped past it, or left).
// Senders are copyable (each copy is a sender; the channel closes when the last is destroyed);
// receivers are move-only (resubscribe() makes a new one at the tail).
//
// Disconnection: when the last sender is destroyed, receivers drain their backlog, then recv()
//   yields recv_error::closed. send() with no receivers fails and hands the value back.
// Errors: broadcast::recv_error {closed, lagged(skipped)}, broadcast::try_recv_error {empty,
//   closed, lagged(skipped)}, broadcast::send_error<T> (= corio::send_error<T>, value handed back).
// Cancel safety: recv() is cancel safe: a pending recv that is cancelled (cancel(), or destroyed:
//   select, timeout, abort) has consumed nothing, unlinks itself and drops its waker; polled
//   again (or the next recv()) it yields the same value.
// Memory ordering: everything a sender did before send(v) is visible to a receiver that got v.
// Resumption: waiting receivers are woken through their wakers after the channel's lock is
//   released; send() never resumes anyone inline.
// Thread safety: handles may live on different workers or plain threads; each handle is used by
//   one task (or thread) at a time. Preconditions (debug assertions): a receiver is not moved or
//   destroyed while a recv() on it is pending; operations are made on non-empty handles.
// T's copy constructor should not throw (an exception from it is rethrown by the recv, and that
//   value counts as received); its move constructor and destructor run under the channel's lock.
#pragma once

#include <corio/channels/detail/rw_lock.hpp>
#include <corio/channels/detail/waiter_list.hpp>
#include <corio/channels/error.hpp>
#include <corio/channels/metrics.hpp>
#include <corio/result.hpp>
#include <corio/runtime/leaf.hpp>
#include <corio/runtime/waker.hpp>

#include <fmt/format.h>

#include <atomic>
#include <bit>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

namespace corio {

namespace broadcast {

/// send(): every receiver is gone; the value comes back.
template <class T>
using send_error = ::corio::send_error<T>;

/// recv(): the channel is closed and drained, or this receiver lagged and `skipped()` values were
/// lost (the receiver then continues from the oldest value still held).
class recv_error {
public:
    enum class kind { closed, lagged };

    static constexpr recv_error closed() noexcept { return recv_error(kind::closed, 0); }
    static constexpr recv_error lagged(std::uint64_t skipped) noexcept { return recv_error(kind::lagged, skipped); }

    constexpr kind what_kind() const noexcept { return kind_; }
    constexpr bool is_closed() const noexcept { return kind_ == kind::closed; }
    constexpr bool is_lagged() const noexcept { return kind_ == kind::lagged; }
    constexpr std::uint64_t skipped() const noexcept { return skipped_; }  // 0 unless lagged
    friend constexpr bool operator==(const recv_error&, const recv_error&) noexcept = default;

private:
    constexpr recv_error(kind k, std::uint64_t n) noexcept : kind_(k), skipped_(n) {}
    kind kind_;
    std::uint64_t skipped_;
};

/// try_recv(): nothing new yet (empty), or as recv_error.
class try_recv_error {
public:
    enum class kind { empty, closed, lagged };

    static constexpr try_recv_error empty() noexcept { return try_recv_error(kind::empty, 0); }
    static constexpr try_recv_error closed() noexcept { return try_recv_error(kind::closed, 0); }
    static constexpr try_recv_error lagged(std::uint64_t skipped) noexcept {
        return try_recv_error(kind::lagged, skipped);
    }

    constexpr kind what_kind() const noexcept { return kind_; }
    constexpr bool is_empty() const noexcept { return kind_ == kind::empty; }
    constexpr bool is_closed() const noexcept { return kind_ == kind::closed; }
    constexpr bool is_lagged() const noexcept { return kind_ == kind::lagged; }
    constexpr std::uint64_t skipped() const noexcept { return skipped_; }
    friend constexpr bool operator==(const try_recv_error&, const try_recv_error&) noexcept = default;

private:
    constexpr try_recv_error(kind k, std::uint64_t n) noexcept : kind_(k), skipped_(n) {}
    kind kind_;
    std::uint64_t skipped_;
};

inline std::string to_string(const recv_error& e) {
    return e.is_closed() ? std::string("channel closed") : fmt::format("channel lagged by {}", e.skipped());
}
inline std::string to_string(const try_recv_error& e) {
    switch (e.what_kind()) {
        case try_recv_error::kind::empty: return "channel empty";
        case try_recv_error::kind::closed: return "channel closed";
        default: return fmt::format("channel lagged by {}", e.skipped());
    }
}

}  // namespace broadcast

namespace detail {

// One slot of the ring (Tokio's Slot, each under its own RwLock).
//
// Access:   pos_ and val_ are written by a sender holding lock_ exclusively (and the tail mutex);
//           receivers read them under lock_ shared. The one exception: the receiver whose
//           decrement takes rem_ to 0 destroys val_ under the shared lock; every other receiver
//           that may read val_ was counted in rem_ and has already copied it (a reader copies,
//           then decrements), and a receiver that was not counted never reads val_ (it either
//           subscribed later, so its position is past this slot, or it sees pos_ != its position).
// Ordering: rem_ is set (relaxed) under the exclusive lock, published by the unlock. The
//           decrement is acq_rel so the reader that takes it to 0 sees every other reader's copy
//           complete before it destroys val_.
template <class T>
struct alignas(64) broadcast_slot {  // one cache line each: a send does not disturb readers of the neighbouring slot
    rw_lock lock_;
    std::atomic<std::size_t> rem_{0};  // receivers that still have to read val_
    std::uint64_t pos_ = 0;            // the send position this slot holds
    std::optional<T> val_;
};

// The tail: where the next send goes. Guarded by broadcast_shared::tail_mutex_.
struct broadcast_tail {
    std::uint64_t pos = 0;    // position of the next send
    std::size_t rx_cnt = 1;   // receivers alive
    bool closed = false;      // set once, when the last sender goes
    waiter_list waiters;      // pending recv() operations
};

enum class broadcast_status { ok, empty, closed, lagged };

// The one allocation of a broadcast channel.
//
// Lock order: tail_mutex_, then a slot's lock_. A receiver that must take the tail mutex first
//   drops its slot lock and takes both again in this order (Tokio's recv_ref).
// Protocol (recv, register then re-check): a receiver that finds its slot not yet written takes
//   the tail mutex, re-reads the slot under it and links its waiter only if the slot is still
//   empty for it. A send writes the slot and pops the waiters under the same mutex, so the
//   waiter is either linked before the send (and woken) or sees the value.
template <class T>
class broadcast_shared {
public:
    broadcast_shared(std::size_t len, const channel_options& opts) : len_(len), mask_(len - 1), metrics_(opts) {
        // Lifetime: storage_ is a plain allocation with room to align the slots by hand, and the
        // slots are constructed in it here and destroyed in the destructor. Not `new slot[len]`:
        // glibc serves an over-aligned request this large with a fresh mmap every time (its
        // dynamic mmap threshold does not apply to aligned allocations), which costs a page fault
        // per 4 KiB at every channel creation (~11 ms for 131,072 slots here).
        std::size_t space = len * sizeof(broadcast_slot<T>) + alignof(broadcast_slot<T>);
        storage_ = ::operator new(space);
        void* p = storage_;
        buffer_ = static_cast<broadcast_slot<T>*>(
            std::align(alignof(broadcast_slot<T>), len * sizeof(broadcast_slot<T>), p, space));
        std::uninitialized_default_construct_n(buffer_, len);
        // Slot i starts as if it held position i - len: empty for a receiver at position i.
        for (std::size_t i = 0; i < len; ++i) buffer_[i].pos_ = static_cast<std::uint64_t>(i) - len;
    }
    ~broadcast_shared() {
        std::destroy_n(buffer_, len_);
        ::operator delete(storage_);
    }
    broadcast_shared(const broadcast_shared&) = delete;
    broadcast_shared& operator=(const broadcast_shared&) = delete;

    void* storage_;
    broadcast_slot<T>* buffer_;  // len_ slots in storage_
    const std::size_t len_;
    const std::size_t mask_;
    std::mutex tail_mutex_;
    broadcast_tail tail_;  // guarded by tail_mutex_
    // Senders alive. acq_rel: the last one closes the channel under tail_mutex_, which orders it.
    std::atomic<std::size_t> num_tx_{1};
    // Metrics (metrics.hpp); null tests when off. tail_mirror_ copies tail_.pos (written under
    // tail_mutex_, relaxed, only when metrics are on) so that a receiver can sample its backlog
    // for high_water without taking the tail lock.
    const metrics_slot metrics_;
    std::atomic<std::uint64_t> tail_mirror_{0};

    // Metrics: a receiver got the value at position `pos`.
    void count_received(std::uint64_t pos) const noexcept {
        if (auto* c = metrics_.get()) [[unlikely]] {
            c->on_received();
            const std::uint64_t tail = tail_mirror_.load(std::memory_order_relaxed);
            if (tail > pos) c->observe_len(tail - pos);
        }
    }

    // Lifetime: one reference per handle. acq_rel: whoever frees the state sees every write made
    // under the other references.
    void retain() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
    void release() noexcept {
        if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
    }

    // Tokio's new_receiver: a receiver that starts at the tail.
    std::uint64_t add_receiver() noexcept {
        std::lock_guard lock(tail_mutex_);
        ++tail_.rx_cnt;
        return tail_.pos;
    }

    // Tokio's send. Returns the receiver count, or 0 (value untouched) if there are none.
    template <class U>
    std::size_t send(U& value) {
        std::unique_lock lock(tail_mutex_);
        const std::size_t rem = tail_.rx_cnt;
        if (rem == 0) {
            metrics_.dropped();
            return 0;
        }
        const std::uint64_t pos = tail_.pos++;
        if (auto* c = metrics_.get()) [[unlikely]] {
            c->on_sent();
            tail_mirror_.store(tail_.pos, std::memory_order_relaxed);
        }
        broadcast_slot<T>& slot = buffer_[pos & mask_];
        {
            std::unique_lock slot_lock(slot.lock_);
            slot.pos_ = pos;
            slot.rem_.store(rem, std::memory_order_relaxed);  // published by the unlock
            slot.val_.emplace(std::move(value));
        }
        if (tail_.waiters.empty()) return rem;
        wake_all_and_unlock(lock, tail_.waiters);
        return rem;
    }

    // The last sender: closes and wakes every waiter.
    void close() noexcept {
        std::unique_lock lock(tail_mutex_);
        tail_.closed = true;
        wake_all_and_unlock(lock, tail_.waiters);
    }

    // Tokio's recv_ref for the receiver at `next`. ok: `guard` holds `slot` shared and `next` has
    // advanced (the caller copies the value, then calls release_slot). lagged: `next` moved to
    // the oldest value held, `missed` set. empty: if `w`, it is linked with a waker for `r` (an
    // older waker that wakes someone else is moved to `old`, to be dropped unlocked by the
    // caller).
    broadcast_status recv_ref(std::uint64_t& next, std::shared_lock<detail::rw_lock>& guard,
                              broadcast_slot<T>*& slot_out, std::uint64_t& missed, list_waiter* w,
                              const waker_ref* r, waker& old) noexcept {
        broadcast_slot<T>& slot = buffer_[next & mask_];
        guard = std::shared_lock(slot.lock_);
        if (slot.pos_ == next) {
            ++next;
            slot_out = &slot;
            return broadcast_status::ok;
        }
        // Lock order: drop the slot, take the tail, then the slot again.
        guard.unlock();
        std::unique_lock tail_lock(tail_mutex_);
        guard.lock();
        if (slot.pos_ == next) {  // written meanwhile
            ++next;
            slot_out = &slot;
            return broadcast_status::ok;
        }
        if (slot.pos_ + len_ == next) {
            // Empty for this receiver.
            guard.unlock();
            if (tail_.closed) return broadcast_status::closed;
            if (w) {
                if (!w->queued_.load(std::memory_order_relaxed)) {
                    // Not linked: the node is ours (list_waiter's Access rule).
                    if (!w->waker_.will_wake(*r)) {
                        old = std::move(w->waker_);
                        w->waker_ = r->clone();
                    }
                    tail_.waiters.push_front(w);
                } else if (!w->waker_.will_wake(*r)) {
                    old = std::move(w->waker_);
                    w->waker_ = r->clone();
                }
            }
            return broadcast_status::empty;
        }
        // Overwritten: the receiver is more than len_ behind. Jump to the oldest value held.
        guard.unlock();
        const std::uint64_t oldest = tail_.pos - len_;
        assert(oldest != next);
        missed = oldest - next;
        next = oldest;
        return broadcast_status::lagged;
    }

    // After copying the value of a slot returned by recv_ref (guard still held).
    static void release_slot(broadcast_slot<T>& slot, std::shared_lock<detail::rw_lock>& guard) noexcept {
        if (slot.rem_.fetch_sub(1, std::memory_order_acq_rel) == 1) slot.val_.reset();
        guard.unlock();
    }

    // Unlinks a waiter if it is linked and drops its waker (a pending recv() cancelled or
    // destroyed). Afterwards the node is the owner's (list_waiter's Access rule) and empty.
    void remove_waiter(list_waiter& w) noexcept {
        if (w.is_queued()) {
            std::lock_guard lock(tail_mutex_);
            if (w.queued_.load(std::memory_order_relaxed)) tail_.waiters.remove(&w);
        }
        w.waker_.reset();  // not queued: ours (a notifier that popped it has moved it out already)
    }

private:
    std::atomic<std::size_t> refs_{2};
};

}  // namespace detail

namespace broadcast {

template <class T>
class sender;
template <class T>
class receiver;

template <class T>
std::pair<sender<T>, receiver<T>> channel(std::size_t capacity, const channel_options& opts = {});

/// The sending half. Copyable; the channel closes when the last sender is destroyed.
template <class T>
class sender {
public:
    sender() noexcept = default;
    sender(const sender& o) noexcept : shared_(o.shared_) { retain(); }
    sender(sender&& o) noexcept : shared_(std::exchange(o.shared_, nullptr)) {}
    sender& operator=(const sender& o) noexcept {
        if (this != &o) {
            drop();
            shared_ = o.shared_;
            retain();
        }
        return *this;
    }
    sender& operator=(sender&& o) noexcept {
        if (this != &o) {
            drop();
            shared_ = std::exchange(o.shared_, nullptr);
        }
        return *this;
    }
    ~sender() { drop(); }

    explicit operator bool() const noexcept { return shared_ != nullptr; }

    /// Sends `value` to every current receiver; yields how many there are. Fails, handing the
    /// value back, when there are none. Never waits: the oldest value is overwritten (receivers
    /// that had not read it will see lagged). Precondition (all sender operations): non-empty.
    result<std::size_t, send_error<T>> send(T value) {
        assert(shared_);
        const std::size_t n = shared_->send(value);
        if (n == 0) return unexpected(send_error<T>(std::move(value)));
        return n;
    }

    /// A receiver of every value sent from now on.
    [[nodiscard]] receiver<T> subscribe() const noexcept {
        assert(shared_);
        shared_->retain();
        return receiver<T>(shared_, shared_->add_receiver());
    }

    std::size_t receiver_count() const noexcept {
        assert(shared_);
        std::lock_guard lock(shared_->tail_mutex_);
        return shared_->tail_.rx_cnt;
    }

    bool same_channel(const sender& o) const noexcept { return shared_ == o.shared_; }

    /// The channel's counters, if it was made `with_metrics` (corio/channels/metrics.hpp).
    std::optional<channel_metrics> metrics() const noexcept {
        return shared_ ? shared_->metrics_.snapshot() : std::nullopt;
    }

private:
    friend std::pair<sender<T>, receiver<T>> channel<T>(std::size_t capacity, const channel_options& opts);
    explicit sender(detail::broadcast_shared<T>* s) noexcept : shared_(s) {}

    void retain() noexcept {
        if (shared_) {
            shared_->retain();
            // Relaxed: made from a live sender, so the count cannot be 0 meanwhile.
            shared_->num_tx_.fetch_add(1, std::memory_order_relaxed);
        }
    }
    void drop() noexcept {
        if (auto* s = std::exchange(shared_, nullptr)) {
            if (s->num_tx_.fetch_sub(1, std::memory_order_acq_rel) == 1) s->close();
            s->release();
        }
    }

    detail::broadcast_shared<T>* shared_ = nullptr;
};

/// The receiving half. Move-only; destroying it gives up its unread values.
template <class T>
class receiver {
public:
    receiver() noexcept = default;
    receiver(receiver&& o) noexcept : shared_(std::exchange(o.shared_, nullptr)), next_(o.next_) {}
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

    explicit operator bool() const noexcept { return shared_ != nullptr; }

    /// Receiver-side; not concurrently with other receiver-side operations. Yields the next
    /// value, recv_error::lagged(n) if n values were lost to overwriting (the receiver then goes
    /// on from the oldest value held), or recv_error::closed once the last sender is gone and the
    /// backlog is drained. Cancel safe.
    class [[nodiscard]] recv_operation : public leaf_awaiter<recv_operation> {
    public:
        explicit recv_operation(receiver* rx) noexcept : rx_(rx) {}
        recv_operation(const recv_operation&) = delete;
        recv_operation& operator=(const recv_operation&) = delete;
        ~recv_operation() { cancel(); }

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

    /// A new receiver at the tail: it sees values sent from now on, not this one's backlog.
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
    bool is_empty() const noexcept { return len() == 0; }

    /// The channel's counters, if it was made `with_metrics` (corio/channels/metrics.hpp).
    std::optional<channel_metrics> metrics() const noexcept {
        return shared_ ? shared_->metrics_.snapshot() : std::nullopt;
    }

    std::size_t receiver_count() const noexcept {
        if (!shared_) return 0;
        std::lock_guard lock(shared_->tail_mutex_);
        return shared_->tail_.rx_cnt;
    }

private:
    friend class sender<T>;
    friend std::pair<sender<T>, receiver<T>> channel<T>(std::size_t capacity, const channel_options& opts);
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

/// Creates a channel whose receivers each hold up to `capacity` (rounded up to a power of two)
/// unread values. Throws std::invalid_argument if capacity is 0 or too large.
/// `opts`: e.g. corio::with_metrics to count (corio/channels/metrics.hpp).
template <class T>
std::pair<sender<T>, receiver<T>> channel(std::size_t capacity, const channel_options& opts) {
    static_assert(std::is_copy_constructible_v<T>, "broadcast values are copied to each receiver");
    if (capacity == 0) throw std::invalid_argument("corio::broadcast::channel: capacity must be > 0");
    if (capacity > (std::size_t{1} << (sizeof(std::size_t) * 8 - 2)))
        throw std::invalid_argument("corio::broadcast::channel: capacity too large");
    auto* s = new detail::broadcast_shared<T>(std::bit_ceil(capacity), opts);
    return {sender<T>(s), receiver<T>(s, 0)};
}

}  // namespace broadcast
}  // namespace corio

template <>
struct fmt::formatter<corio::broadcast::recv_error> : fmt::formatter<std::string_view> {
    template <class FormatContext>
    auto format(const corio::broadcast::recv_error& e, FormatContext& ctx) const {
        return fmt::formatter<std::string_view>::format(to_string(e), ctx);
    }
};

template <>
struct fmt::formatter<corio::broadcast::try_recv_error> : fmt::formatter<std::string_view> {
    template <class FormatContext>
    auto format(const corio::broadcast::try_recv_error& e, FormatContext& ctx) const {
        return fmt::formatter<std::string_view>::format(to_string(e), ctx);
    }
};
