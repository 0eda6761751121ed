// corio/channels/mpmc/detail/chan.hpp — the one allocation shared by an mpmc channel's handles:
// a FIFO of values and two waiter lists (pending receivers, pending senders) under one short
// adaptive mutex, as Go's hchan and flume's Chan (docs/design/mpmc.md gives the argument).
//
// Protocols (every one under mutex_; wakers collected under it and woken after it is released):
//   send     bounded with a free slot, or unbounded: push the value at the back and notify the
//            oldest waiting receiver. Bounded and full, or rendezvous (capacity 0): link the
//            send's node at the back of senders_ (its value stays in the awaiter); a rendezvous
//            send also notifies the oldest waiting receiver, which will come and take it.
//   recv     take the front value; if a sender waits (the queue was full), move the oldest
//            sender's value into the freed back slot and mark that sender delivered. Queue empty
//            but a sender waits (rendezvous): take the oldest sender's value directly. Nothing:
//            the end if every sender is gone or the channel closed, else link the node.
//   notify   unlink the oldest waiting receiver, mark it notified, wake it: it comes and takes a
//            value. Receivers are woken, never handed a value, so a receive cancelled after its
//            wake has taken nothing, and each consumer takes values in queue order.
//   Fast paths: poll_send and poll_recv inline the one case of their protocol in which nothing
//            else applies (send: a free slot, not waiting, nobody to notify; recv: a value
//            queued, no sender to refill from, the node holding nothing), and hand the held lock
//            to poll_send_locked / poll_recv_locked, the whole protocol, otherwise. The first
//            branches of the whole protocol do the same, so the fast paths change no outcome.
// Invariants (under mutex_):
//   I1  bounded, capacity > 0: senders_ non-empty => queue_.size() == capacity_. A sender waits
//       only on a full queue, and a receive that frees a slot refills it from the oldest sender.
//   I2  capacity 0: queue_ is empty. Values move from a sender's node to a receiver directly.
//   I3  receivers_ non-empty => every queued value (and, capacity 0, every waiting sender) has a
//       notified receiver that will take it or pass the notification on (cancel forwards it).
//   I4  rx_closed_ => senders_ is empty (close refuses every waiting sender).
#pragma once

#include <corio/channels/detail/adaptive_mutex_word.hpp>
#include <corio/channels/metrics.hpp>
#include <corio/channels/mpmc/detail/ring.hpp>
#include <corio/channels/mpmc/detail/waiters.hpp>
#include <corio/runtime/detail/intrusive_list.hpp>
#include <corio/runtime/waker.hpp>

#include <array>
#include <atomic>
#include <cstddef>
#include <mutex>
#include <optional>
#include <utility>

namespace corio::detail::mpmc {

enum class poll_status { pending, ready, closed };
enum class try_status { ok, empty_or_full, closed };

template <class T>
class chan {
    using lock_t = std::unique_lock<adaptive_mutex_word>;

public:
    // capacity: SIZE_MAX for unbounded (bounded_ false), 0 for rendezvous.
    chan(bool bounded, std::size_t capacity, const channel_options& opts)
        : capacity_(capacity), bounded_(bounded), metrics_(opts) {}
    chan(const chan&) = delete;
    chan& operator=(const chan&) = delete;

    // ---- lifetime and handle counts ---------------------------------------------------------
    // refs_: one per handle (sender, unbounded sender, receiver). Relaxed increments (a handle is
    // copied only from a live one); acq_rel decrement so that whoever frees sees every write made
    // under the other references. tx_count_ / rx_count_ change under mutex_ (the last of either
    // kind closes the channel under it); the atomics let queries read them without the lock.
    void retain() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
    void release() noexcept {
        if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
    }
    void add_sender() noexcept {
        lock_t lock(mutex_);
        tx_count_.store(tx_count_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    }
    void add_receiver() noexcept {
        lock_t lock(mutex_);
        rx_count_.store(rx_count_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    }
    /// The last sender gone: receivers drain the queue, then see the end. Wakes every waiting one.
    void drop_sender() noexcept {
        lock_t lock(mutex_);
        const std::size_t n = tx_count_.load(std::memory_order_relaxed) - 1;
        tx_count_.store(n, std::memory_order_relaxed);
        if (n == 0) wake_all_receivers(lock);
    }
    /// The last receiver gone: sends fail from now on (waiting ones get their value back) and the
    /// queued values are destroyed, here, outside the lock (counted as dropped).
    void drop_receiver() noexcept {
        lock_t lock(mutex_);
        const std::size_t n = rx_count_.load(std::memory_order_relaxed) - 1;
        rx_count_.store(n, std::memory_order_relaxed);
        if (n != 0) return;
        ring<T> doomed = std::exchange(queue_, ring<T>{});
        close_locked(lock);  // unlocks
        metrics_.dropped(doomed.size());
    }
    /// receiver::close(): sends fail from now on (waiting ones get their value back); what is
    /// queued can still be received, then every receiver sees the end.
    void close() noexcept {
        lock_t lock(mutex_);
        if (rx_closed_.load(std::memory_order_relaxed)) return;
        close_locked(lock);
        lock.lock();
        wake_all_receivers(lock);
    }

    // ---- queries (relaxed: a snapshot) -----------------------------------------------------
    bool bounded() const noexcept { return bounded_; }
    std::size_t max_capacity() const noexcept { return capacity_; }
    std::size_t len() const noexcept { return queue_.size(); }  // ring::size() is a relaxed atomic
    bool is_rx_closed() const noexcept { return rx_closed_.load(std::memory_order_acquire); }
    std::size_t sender_count() const noexcept { return tx_count_.load(std::memory_order_relaxed); }
    std::size_t receiver_count() const noexcept { return rx_count_.load(std::memory_order_relaxed); }
    const metrics_slot& metrics() const noexcept { return metrics_; }

    // ---- sending ---------------------------------------------------------------------------

    /// The send protocol. ready: the value was queued or taken (value is empty). closed: the
    /// value is still in `value`. pending: `node` is linked with `w`.
    /// The fast path (inline): room in the queue and nobody to wake; the rest is poll_send_locked.
    poll_status poll_send(send_waiter<T>& node, std::optional<T>& value, waker_ref w) noexcept {
        if (node.delivered_.load(std::memory_order_acquire)) {
            node.delivered_.store(false, std::memory_order_relaxed);  // the owner's, after acquire
            return poll_status::ready;
        }
        mutex_.lock();
        // Not delivered meanwhile (that would leave the node unlinked and the value gone), not
        // waiting (I1: it would have to stay behind itself), a free slot, no receiver to notify.
        if (!node.delivered_.load(std::memory_order_relaxed) && !rx_closed_.load(std::memory_order_relaxed) &&
            !senders_.contains(&node) && (!bounded_ || queue_.size() < capacity_) && receivers_.empty())
            [[likely]] {
            push_locked(std::move(*value));
            value.reset();
            mutex_.unlock();
            return poll_status::ready;
        }
        return poll_send_locked(node, value, w);
    }

    /// Undoes a pending send: unlinks the node and drops its waker. A node already delivered
    /// stays delivered (the send happened; its next poll reports ready). Out of line, as
    /// cancel_recv: the operations' destructors call cancel(), and inlined, this slow path made
    /// every completed operation's destructor save and restore six registers.
    [[gnu::noinline]] void cancel_send(send_waiter<T>& node) noexcept {
        waker old;
        lock_t lock(mutex_);
        if (senders_.contains(&node)) senders_.remove(&node);
        old = std::move(node.waker_);
        node.value_ = nullptr;
    }

    /// try_send / unbounded send: never waits. empty_or_full: bounded and no free slot (or
    /// capacity 0: there is never a slot to leave a value in).
    try_status try_send(T& value) noexcept {
        lock_t lock(mutex_);
        if (rx_closed_.load(std::memory_order_relaxed)) return try_status::closed;
        if (bounded_ && queue_.size() >= capacity_) return try_status::empty_or_full;
        push_locked(std::move(value));
        waker to_wake = notify_one_locked();
        lock.unlock();
        std::move(to_wake).wake();
        return try_status::ok;
    }

private:
    // poll_send with mutex_ held (released here): every case.
    [[gnu::noinline]] poll_status poll_send_locked(send_waiter<T>& node, std::optional<T>& value,
                                                   waker_ref w) noexcept {
        waker to_wake, old;
        lock_t lock(mutex_, std::adopt_lock);
        if (node.delivered_.load(std::memory_order_relaxed)) {  // delivered meanwhile
            node.delivered_.store(false, std::memory_order_relaxed);
            return poll_status::ready;
        }
        if (rx_closed_.load(std::memory_order_relaxed)) {
            if (senders_.contains(&node)) senders_.remove(&node);
            old = std::move(node.waker_);
            return poll_status::closed;
        }
        const bool linked = senders_.contains(&node);
        if (!linked && (!bounded_ || queue_.size() < capacity_)) {  // I1: no sender waits here
            push_locked(std::move(*value));
            value.reset();
            to_wake = notify_one_locked();
            lock.unlock();
            std::move(to_wake).wake();
            return poll_status::ready;
        }
        if (!node.waker_.will_wake(w)) old = std::exchange(node.waker_, w.clone());
        if (!linked) {
            node.value_ = &value;
            senders_.push_back(&node);
            if (capacity_ == 0) to_wake = notify_one_locked();  // a receiver comes to take it
        }
        lock.unlock();
        std::move(to_wake).wake();
        return poll_status::pending;
    }

public:
    // ---- receiving -------------------------------------------------------------------------

    /// The receive protocol. ready: `out` holds a value. closed: the end (every sender gone or
    /// the channel closed, and nothing left). pending: `node` is linked with `w`.
    /// The fast path (inline): a value queued, no sender waiting to refill the slot, and the node
    /// holding nothing (not linked, no waker); the rest is poll_recv_locked.
    poll_status poll_recv(recv_waiter& node, std::optional<T>& out, waker_ref w) noexcept {
        mutex_.lock();
        if (!queue_.empty() && senders_.empty() && !receivers_.contains(&node) && !node.waker_) [[likely]] {
            node.notified_ = false;
            queue_.pop_front_into(out);
            metrics_.received();
            mutex_.unlock();
            return poll_status::ready;
        }
        return poll_recv_locked(node, out, w);
    }

    /// Undoes a pending recv: unlinks the node and drops its waker; a notification it had been
    /// given goes to the next waiting receiver (I3). Nothing was taken. Out of line (cancel_send).
    [[gnu::noinline]] void cancel_recv(recv_waiter& node) noexcept {
        waker old, forward;
        lock_t lock(mutex_);
        if (receivers_.contains(&node)) {
            receivers_.remove(&node);
        } else if (std::exchange(node.notified_, false) && (!queue_.empty() || !senders_.empty())) {
            forward = notify_one_locked();
        }
        old = std::move(node.waker_);
        lock.unlock();
        std::move(forward).wake();
    }

    /// try_recv: ok (out holds a value), empty_or_full (nothing now), closed (the end).
    try_status try_recv(std::optional<T>& out) noexcept {
        take_wakes to_wake;
        lock_t lock(mutex_);
        if (take_locked(out, to_wake)) {
            lock.unlock();
            std::move(to_wake).wake();
            return try_status::ok;
        }
        if (tx_count_.load(std::memory_order_relaxed) == 0 || rx_closed_.load(std::memory_order_relaxed))
            return try_status::closed;
        return try_status::empty_or_full;
    }

private:
    // poll_recv with mutex_ held (released here): every case.
    [[gnu::noinline]] poll_status poll_recv_locked(recv_waiter& node, std::optional<T>& out, waker_ref w) noexcept {
        take_wakes to_wake;
        waker old;
        lock_t lock(mutex_, std::adopt_lock);
        node.notified_ = false;
        if (take_locked(out, to_wake)) {
            if (receivers_.contains(&node)) receivers_.remove(&node);
            if (node.waker_) old = std::move(node.waker_);  // usually empty: notify took it
            lock.unlock();
            std::move(to_wake).wake();
            return poll_status::ready;
        }
        if (tx_count_.load(std::memory_order_relaxed) == 0 || rx_closed_.load(std::memory_order_relaxed)) {
            if (receivers_.contains(&node)) receivers_.remove(&node);
            old = std::move(node.waker_);
            return poll_status::closed;
        }
        if (!node.waker_.will_wake(w)) old = std::exchange(node.waker_, w.clone());
        if (!receivers_.contains(&node)) receivers_.push_back(&node);
        return poll_status::pending;
    }

    ~chan() = default;  // release() deletes; what is still queued goes with it

    // What a take wakes once the lock is released: the sender whose value it took, and the
    // receiver notified of a refill.
    struct take_wakes {
        waker sender, receiver;
        void wake() && noexcept {
            std::move(sender).wake();
            std::move(receiver).wake();
        }
    };

    // Takes the next value into `out` (the front of the queue, refilled from the oldest waiting
    // sender; or, capacity 0, the oldest sender's value). The common case (a value queued, no
    // sender waiting) stays inline; the two sender cases are out of line.
    bool take_locked(std::optional<T>& out, take_wakes& to_wake) noexcept {
        if (!queue_.empty()) [[likely]] {
            queue_.pop_front_into(out);
            if (!senders_.empty()) [[unlikely]] refill_locked(to_wake);  // I1: the queue was full
            metrics_.received();
            return true;
        }
        if (!senders_.empty()) {  // I2: rendezvous, straight from the sender
            take_from_sender_locked(out, to_wake);
            return true;
        }
        return false;
    }

    // A take freed a slot of a full queue while senders wait: the oldest one's value fills it.
    [[gnu::noinline]] void refill_locked(take_wakes& to_wake) noexcept {
        send_waiter<T>* s = senders_.pop_front();
        push_locked(std::move(**s->value_));
        deliver_locked(*s, to_wake.sender);
        // The refill is a new value in the queue: like a send, it notifies a waiting receiver
        // (I3). Without this, a receiver that stops after this take would leave the refill queued
        // while another receiver sleeps.
        to_wake.receiver = notify_one_locked();
    }

    [[gnu::noinline]] void take_from_sender_locked(std::optional<T>& out, take_wakes& to_wake) noexcept {
        send_waiter<T>* s = senders_.pop_front();
        out.emplace(std::move(**s->value_));
        metrics_.sent();
        deliver_locked(*s, to_wake.sender);
        metrics_.received();
    }

    // The sender's value is gone (moved by the caller): empty it, take the waker, and publish.
    void deliver_locked(send_waiter<T>& s, waker& to_wake) noexcept {
        s.value_->reset();
        s.value_ = nullptr;
        to_wake = std::move(s.waker_);
        s.delivered_.store(true, std::memory_order_release);  // last touch: see send_waiter
    }

    void push_locked(T&& v) noexcept {
        queue_.push_back(std::move(v));
        metrics_.sent_with_len([this] { return queue_.size(); });
    }

    // Unlinks the oldest waiting receiver, marks it notified and returns its waker (empty if none).
    waker notify_one_locked() noexcept {
        recv_waiter* r = receivers_.pop_front();
        if (!r) return {};
        r->notified_ = true;
        return std::move(r->waker_);
    }

    // Sets rx_closed_ and refuses every waiting sender (I4); returns with `lock` released, the
    // refused senders woken (in batches of 32, outside the lock).
    void close_locked(lock_t& lock) noexcept {
        rx_closed_.store(true, std::memory_order_release);
        for (;;) {
            std::array<waker, 32> wakers;
            std::size_t k = 0;
            while (k < wakers.size()) {
                send_waiter<T>* s = senders_.pop_front();
                if (!s) break;
                s->value_ = nullptr;
                wakers[k++] = std::move(s->waker_);
            }
            const bool more = !senders_.empty();
            lock.unlock();
            for (std::size_t i = 0; i < k; ++i) std::move(wakers[i]).wake();
            if (!more) return;
            lock.lock();
        }
    }

    // Notifies every waiting receiver (the end, or a close); returns with `lock` released.
    // Receivers that register meanwhile see the end themselves (it is set before this runs).
    void wake_all_receivers(lock_t& lock) noexcept {
        for (;;) {
            std::array<waker, 32> wakers;
            std::size_t k = 0;
            while (k < wakers.size() && !receivers_.empty()) wakers[k++] = notify_one_locked();
            const bool more = !receivers_.empty();
            lock.unlock();
            for (std::size_t i = 0; i < k; ++i) std::move(wakers[i]).wake();
            if (!more) return;
            lock.lock();
        }
    }

    // Layout: the fields every operation reads but (nearly) never writes come first, in one
    // cache line that each core keeps a shared copy of; the lock and everything written under it
    // start the next line, so that an operation dirties the lines the other core has to fetch
    // anyway on a lock hand-off: mutex_ (8 with padding), queue_ (32) and receivers_ (24) fill it;
    // senders_ starts the one after (a fast path reads only its head, and writes it only while
    // senders wait). The length that len() reads without the lock is the ring's own size
    // (ring.hpp); a separate counter among the read-mostly fields made every send and receive
    // invalidate the other core's copy of that line.
    const std::size_t capacity_;
    const bool bounded_;
    const metrics_slot metrics_;  // set at construction; read by both sides
    std::atomic<std::size_t> refs_{2};
    std::atomic<std::size_t> tx_count_{1};   // written under mutex_
    std::atomic<std::size_t> rx_count_{1};   // written under mutex_
    std::atomic<bool> rx_closed_{false};     // set once, under mutex_; never cleared

    alignas(64) adaptive_mutex_word mutex_;
    // Guarded by mutex_: the values (oldest at the front), the receivers waiting (oldest first),
    // and the senders waiting with their values (oldest first).
    ring<T> queue_;
    intrusive_list<recv_waiter, &recv_waiter::hook_> receivers_;
    intrusive_list<send_waiter<T>, &send_waiter<T>::hook_> senders_;
};

}  // namespace corio::detail::mpmc
