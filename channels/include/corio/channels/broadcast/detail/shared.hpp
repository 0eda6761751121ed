// corio/channels/broadcast/detail/shared.hpp — the one allocation of a broadcast channel: the ring
// of slots, the tail (next position, receiver count, closed flag, waiting receivers) under its
// mutex, and the send and receive protocols over them (Tokio's sync/broadcast.rs Shared).
#pragma once

#include <corio/channels/broadcast/detail/slot.hpp>
#include <corio/channels/detail/rw_lock.hpp>
#include <corio/channels/detail/waiter_list.hpp>
#include <corio/channels/metrics.hpp>
#include <corio/runtime/waker.hpp>

#include <algorithm>
#include <atomic>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <new>
#include <shared_mutex>
#include <utility>

namespace corio::detail {

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
// Replay hold (replay_ = n > 0, broadcast/replay.hpp): the channel itself counts as one more
//   reader of each of the last n values sent. A send stores rem_ = receivers + 1 and, once it
//   has written position p, gives up the hold on position p - n (release_slot, as a receiver
//   would); with n == len_ the overwrite of that slot ends the hold instead. So, under
//   tail_mutex_, every position in [tail - n, tail) still holds its value with rem_ >= 1.
//   A replaying subscriber (add_receiver) starts at max(tail - n, 0) and, under tail_mutex_,
//   adds itself to rem_ of each slot in [start, tail): it is then counted on every value it will
//   read, exactly as a receiver subscribed at send time would be, and its drop() releases them
//   the same way. The increments need no slot lock: pos_ is only written under tail_mutex_ too
//   (slot.hpp), and rem_ cannot reach 0 meanwhile because the hold is only given up by a send,
//   which needs tail_mutex_. Relaxed suffices for the increment: whoever later takes rem_ to 0
//   does so with an acq_rel RMW on the same counter, which synchronises with every decrement
//   (the release sequence runs through our increment).
// Protocol (recv, register then re-check): a receiver that finds its slot not yet written takes
//   the tail mutex, re-reads the slot under it and links its waiter only if the slot is still
//   empty for it. A send writes the slot and pops the waiters under the same mutex, so the
//   waiter is either linked before the send (and woken) or sees the value.
template <class T>
class broadcast_shared {
public:
    broadcast_shared(std::size_t len, std::size_t replay, const channel_options& opts)
        : len_(len), mask_(len - 1), replay_(replay), metrics_(opts) {
        assert(replay <= len);
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
    const std::size_t replay_;  // values a new subscriber starts with (the replay hold above); 0: none
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

    // Tokio's new_receiver: a receiver that starts at the tail, or with replay at the oldest of
    // the last replay_ values, counted on each of them (the replay hold above). O(replay_).
    std::uint64_t add_receiver() noexcept {
        std::lock_guard lock(tail_mutex_);
        ++tail_.rx_cnt;
        const std::uint64_t start = tail_.pos - std::min<std::uint64_t>(replay_, tail_.pos);
        for (std::uint64_t p = start; p != tail_.pos; ++p) {
            broadcast_slot<T>& slot = buffer_[p & mask_];
            assert(slot.pos_ == p && slot.rem_.load(std::memory_order_relaxed) > 0);
            slot.rem_.fetch_add(1, std::memory_order_relaxed);
        }
        return start;
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
        const std::size_t readers = rem + (replay_ != 0 ? 1 : 0);  // + the replay hold
        if (auto* c = metrics_.get()) [[unlikely]] {
            c->on_sent();
            tail_mirror_.store(tail_.pos, std::memory_order_relaxed);
        }
        broadcast_slot<T>& slot = buffer_[pos & mask_];
        {
            std::unique_lock slot_lock(slot.lock_);
            slot.pos_ = pos;
            slot.rem_.store(readers, std::memory_order_relaxed);  // published by the unlock
            slot.val_.emplace(std::move(value));
        }
        if (replay_ != 0 && replay_ < len_ && pos >= replay_) {
            // Position pos - replay_ has left the replay window: give up the hold on it.
            broadcast_slot<T>& old_slot = buffer_[(pos - replay_) & mask_];
            std::shared_lock<rw_lock> guard(old_slot.lock_);
            assert(old_slot.pos_ == pos - replay_);
            release_slot(old_slot, guard);
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

}  // namespace corio::detail
