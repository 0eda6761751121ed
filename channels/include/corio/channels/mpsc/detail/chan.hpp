// corio/channels/mpsc/detail/chan.hpp — the one allocation shared by an mpsc channel's handles
// (Tokio's sync/mpsc/chan.rs): the block list, the receiver's waker, the capacity (a
// batch_semaphore when bounded, a message counter when unbounded) and the closed() waiters.
#pragma once

#include <corio/channels/detail/batch_semaphore.hpp>
#include <corio/channels/metrics.hpp>
#include <corio/channels/mpsc/detail/block_list.hpp>
#include <corio/channels/mpsc/detail/closed_waiters.hpp>
#include <corio/runtime/detail/atomic_waker.hpp>
#include <corio/runtime/waker.hpp>

#include <fmt/format.h>

#include <atomic>
#include <cassert>
#include <cstddef>
#include <iterator>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace corio::detail::mpsc {

template <class T>
class chan {
public:
    chan(bool bounded, std::size_t capacity, const channel_options& opts = {})
        : first_(new block<T>(0)), tx_(first_), sem_(bounded ? capacity : 0), max_capacity_(capacity),
          bounded_(bounded), metrics_(opts), rx_(first_) {}
    chan(const chan&) = delete;
    chan& operator=(const chan&) = delete;

    ~chan() {
        // Lifetime: every handle is gone, so every claimed slot was written (a push never waits
        // between claiming and writing) and the last sender's close marker is in the list.
        while (rx_.peek(tx_) == peek_result::value) rx_.discard();
        rx_.free_blocks();
    }

    // ---- lifetime --------------------------------------------------------------------------

    // refs_: one per sender, weak sender and receiver. Relaxed increments (a reference is made
    // only from a live one); acq_rel decrement so that whoever frees sees every write made under
    // the other references (std::shared_ptr's rule).
    void retain() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
    void release() noexcept {
        if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
    }

    // tx_count_: live (strong) senders. Starts at 1. Incremented relaxed by a copy (made from a
    // live sender) and by weak upgrade (a CAS that refuses 0: once it hits 0 the channel is
    // closed for good). The decrement that reaches 0 is acq_rel: it pushes the close marker
    // after every send of every sender (each sender's sends happen-before its decrement).
    void add_sender() noexcept { tx_count_.fetch_add(1, std::memory_order_relaxed); }
    bool try_upgrade() noexcept {
        std::size_t n = tx_count_.load(std::memory_order_relaxed);
        while (n != 0) {
            if (tx_count_.compare_exchange_weak(n, n + 1, std::memory_order_relaxed, std::memory_order_relaxed))
                return true;
        }
        return false;
    }
    void drop_sender() noexcept {
        if (tx_count_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
            tx_.close();
            rx_waker_.wake();
        }
    }
    std::size_t sender_count() const noexcept { return tx_count_.load(std::memory_order_acquire); }

    // ---- capacity --------------------------------------------------------------------------

    bool bounded() const noexcept { return bounded_; }
    std::size_t max_capacity() const noexcept { return max_capacity_; }
    batch_semaphore& semaphore() noexcept { return sem_; }

    // unbounded_state_ (unbounded only): bit 0 = closed (set once by the receiver, never cleared);
    // bits 1.. = messages sent and not yet received (in flight or queued). A send increments it
    // before pushing unless closed (CAS, acq_rel); the receiver decrements after taking (release).
    // With closed set and count 0 nothing more can arrive.
    bool try_inc_unbounded() noexcept {
        std::size_t cur = unbounded_state_.load(std::memory_order_acquire);
        for (;;) {
            if (cur & 1) return false;
            if (unbounded_state_.compare_exchange_weak(cur, cur + 2, std::memory_order_acq_rel,
                                                       std::memory_order_acquire))
                return true;
        }
    }

    /// Receiver: a message was taken (or n of them): return their capacity.
    void add_permits(std::size_t n) noexcept {
        if (bounded_) sem_.release(n);
        else unbounded_state_.fetch_sub(n << 1, std::memory_order_release);
    }

    /// No permit is held and no message is queued or in flight.
    bool is_idle() const noexcept {
        if (bounded_) return sem_.available_permits() == max_capacity_;
        return (unbounded_state_.load(std::memory_order_acquire) >> 1) == 0;
    }
    std::size_t len() const noexcept {
        if (bounded_) return max_capacity_ - sem_.available_permits();
        return unbounded_state_.load(std::memory_order_acquire) >> 1;
    }

    /// For dumps (leaf.hpp, describe): "mpsc channel (3 of 64 queued, 2 senders alive)". Reads
    /// only atomics: callable from any thread.
    void describe(std::string& out) const {
        auto o = std::back_inserter(out);
        if (bounded_) fmt::format_to(o, "mpsc channel ({} of {} queued, ", len(), max_capacity_);
        else fmt::format_to(o, "unbounded mpsc channel ({} queued, ", len());
        fmt::format_to(o, "{} senders alive{})", sender_count(), is_rx_closed() ? ", receiver closed" : "");
    }

    /// The receiver closed (or was destroyed): sends fail from now on.
    bool is_rx_closed() const noexcept {
        if (bounded_) return sem_.is_closed();
        return unbounded_state_.load(std::memory_order_acquire) & 1;
    }

    // ---- sending ---------------------------------------------------------------------------

    /// Precondition: the caller holds a permit (bounded) or counted the message (unbounded); the
    /// permit is consumed by the message.
    template <class U>
    void push(U&& v) {
        tx_.push(std::forward<U>(v));
        metrics_.sent_with_len([this] { return len(); });
        rx_waker_.wake();
    }

    /// Metrics (metrics.hpp): null tests when the channel was made without them.
    const metrics_slot& metrics() const noexcept { return metrics_; }

    /// A reserved permit was dropped unused.
    void return_permit() noexcept {
        sem_.release(1);
        // A receiver that closed waits for outstanding permits before it reports the end.
        if (sem_.is_closed() && is_idle()) rx_waker_.wake();
    }

    // ---- receiver side (one receiver; fields it owns) -------------------------------------

    peek_result peek() noexcept { return rx_.peek(tx_); }
    T take() noexcept {
        metrics_.received();
        return rx_.take();
    }
    // A queued value destroyed unreceived (the receiver went away).
    void discard() noexcept {
        metrics_.dropped();
        rx_.discard();
    }
    void register_rx(waker_ref w) noexcept { rx_waker_.register_by_ref(w); }
    /// Drops the receiver's registered waker (a pending recv cancelled). A send racing with this
    /// may have taken the waker first: it wakes it once (spuriously); either way none is left.
    void unregister_rx() noexcept { (void)rx_waker_.take_waker(); }
    bool rx_closed() const noexcept { return rx_closed_; }
    /// A slot is claimed but not yet readable: a push is in progress.
    bool busy() const noexcept { return tx_.tail_position() != rx_.index(); }

    // The receive protocol (the receiver's operations, and receiver_stream): try, register, try
    // again (never check-then-register). Ready results use one unit of the task's budget.

    bool poll_recv(context& cx, std::optional<T>& out) noexcept {
        switch (peek_registered(cx)) {
            case peek_result::value: return finish_recv(cx, out, true);
            case peek_result::closed: return finish_recv(cx, out, false);
            case peek_result::empty: break;
        }
        // Closed by the receiver: the end comes once no permit is outstanding (a permit holder
        // that sends, or drops its permit, wakes us).
        if (rx_closed_ && is_idle()) return finish_recv(cx, out, false);
        return false;
    }

    bool poll_recv_many(context& cx, std::vector<T>& buf, std::size_t limit, std::size_t& count) noexcept {
        if (limit == 0) return true;
        switch (peek_registered(cx)) {
            case peek_result::value: break;
            case peek_result::closed: return cx.poll_budget();
            case peek_result::empty:
                if (rx_closed_ && is_idle()) return cx.poll_budget();
                return false;
        }
        if (!cx.poll_budget()) return false;
        std::size_t n = 0;
        do {
            buf.push_back(take());
            ++n;
        } while (n < limit && peek() == peek_result::value);
        add_permits(n);
        count = n;
        return true;
    }

    void close_rx() noexcept {
        if (rx_closed_) return;
        rx_closed_ = true;
        if (bounded_) sem_.close();
        else unbounded_state_.fetch_or(1, std::memory_order_acq_rel);
        closed_waiters_.notify_all();
    }

    // ---- closed() waiters ------------------------------------------------------------------

    /// True when the receiver has closed; otherwise `w` is registered in `node`
    /// (closed_waiters.hpp has the protocol).
    bool poll_closed(closed_waiter& node, waker_ref w) noexcept {
        return closed_waiters_.poll(node, w, [this]() noexcept { return is_rx_closed(); });
    }
    /// Leaves the closed() waiters; afterwards the node is as never polled.
    void cancel_closed(closed_waiter& node) noexcept { closed_waiters_.cancel(node); }

private:
    bool finish_recv(context& cx, std::optional<T>& out, bool have_value) noexcept {
        if (!cx.poll_budget()) return false;
        if (have_value) {
            out.emplace(take());
            add_permits(1);
        }
        return true;
    }

    peek_result peek_registered(context& cx) noexcept {
        const peek_result r = peek();
        if (r != peek_result::empty) return r;
        register_rx(cx.waker());
        return peek();
    }

    block<T>* first_;
    list_tx<T> tx_;
    alignas(64) atomic_waker rx_waker_;
    alignas(64) std::atomic<std::size_t> tx_count_{1};
    std::atomic<std::size_t> refs_{2};
    alignas(64) batch_semaphore sem_;  // bounded only; heap-allocated, so the alignment holds
    alignas(64) std::atomic<std::size_t> unbounded_state_{0};
    const std::size_t max_capacity_;
    const bool bounded_;
    const metrics_slot metrics_;  // set at construction; read by both sides

    // Owned by the receiver.
    alignas(64) list_rx<T> rx_;
    bool rx_closed_ = false;

    closed_waiter_list closed_waiters_;  // the senders waiting in closed()
};

}  // namespace corio::detail::mpsc

// The handles (corio::mpsc) name the shared state from their own detail namespace.
namespace corio::mpsc::detail {
using ::corio::detail::batch_semaphore;
using ::corio::detail::mpsc::chan;
using ::corio::detail::mpsc::closed_waiter;
}  // namespace corio::mpsc::detail
