// local_queue: a worker's bounded run queue. One producer (the owner), many consumers (the owner
// pops, other workers steal half). Tokio's runtime/scheduler/multi_thread/queue.rs.
//
// State:   head_ packs two u32 positions: `steal` (high) and `real` (low). real is the next slot
//          to pop; steal trails it while a stealer copies slots [steal, real) out. steal == real
//          when nobody is stealing. tail_ is the next slot to push; only the owner writes it.
// Rules:   1. Only the owner writes tail_ and the slots at [tail_, head.steal + capacity).
//          2. A slot in [steal, tail) may be read by the owner (pop) or a stealer only after it
//             claimed it by CAS on head_.
//          3. At most one stealer at a time: a stealer first moves `real` forward, copies, then
//             sets steal = real; others see steal != real and back off.
// Ordering: tail_ store is release, paired with the acquire loads of tail_ in steal: a stealer
//          that sees the new tail sees the slot. head_ CASes are acq_rel: the owner's reuse of a
//          slot happens after the stealer's copy of it (the stealer's final CAS releases it).
//          Slots are relaxed atomics: the head/tail edges order them (TSan sees atomics, not races).
// Seam:    the atomics are detail::atomic (sync_primitives.hpp), model-checked by tests/model.
#pragma once

#include "inject_queue.hpp"

#include <corio/runtime/detail/sync_primitives.hpp>
#include <corio/runtime/detail/task_header.hpp>

#include <array>
#include <cassert>
#include <cstdint>

namespace corio::detail {

#ifndef CORIO_TEST_SMALL_QUEUES
#define CORIO_TEST_SMALL_QUEUES 0
#endif

class local_queue {
public:
    static constexpr std::uint32_t capacity = CORIO_TEST_SMALL_QUEUES ? 4 : 256;
    static constexpr std::uint32_t mask = capacity - 1;

    bool has_tasks() const noexcept { return len() != 0; }
    std::uint32_t len() const noexcept {
        auto [steal, real] = unpack(head_.load(std::memory_order_acquire));
        (void)steal;
        return tail_.load(std::memory_order_acquire) - real;
    }
    // Free slots, as the owner sees them.
    std::uint32_t remaining_slots() const noexcept {
        auto [steal, real] = unpack(head_.load(std::memory_order_acquire));
        (void)real;
        return capacity - (tail_.load(std::memory_order_relaxed) - steal);
    }

    // Owner only. When full, half of the queue plus `t` move to the inject queue in one batch.
    // Returns true if `t` went to the inject queue (an overflow, counted by runtime::metrics()).
    bool push_back(task_header* t, inject_queue& inject) noexcept {
        for (;;) {
            std::uint64_t head = head_.load(std::memory_order_acquire);
            auto [steal, real] = unpack(head);
            // Relaxed: only this thread writes tail_.
            std::uint32_t tail = tail_.load(std::memory_order_relaxed);
            if (tail - steal < capacity) {
                buffer_[tail & mask].store(t, std::memory_order_relaxed);
                // Release: publishes the slot to stealers (rule 2).
                tail_.store(tail + 1, std::memory_order_release);
                return false;
            }
            if (steal != real) {
                // A stealer is about to free room; don't wait for it.
                inject.push(t);
                return true;
            }
            if (push_overflow(t, real, tail, inject)) return true;
            // A stealer moved head meanwhile: there is room now.
        }
    }

    // Owner only.
    task_header* pop() noexcept {
        std::uint64_t head = head_.load(std::memory_order_acquire);
        std::uint32_t idx;
        for (;;) {
            auto [steal, real] = unpack(head);
            std::uint32_t tail = tail_.load(std::memory_order_relaxed);
            if (real == tail) return nullptr;
            std::uint32_t next_real = real + 1;
            // If nobody is stealing, both halves move together (rule 3).
            std::uint64_t next = steal == real ? pack(next_real, next_real) : pack(steal, next_real);
            if (head_.compare_exchange_weak(head, next, std::memory_order_acq_rel, std::memory_order_acquire)) {
                idx = real & mask;
                break;
            }
        }
        return buffer_[idx].load(std::memory_order_relaxed);
    }

    // Called by another worker: moves about half of this queue into `dst` (the caller's own
    // queue) and returns one task to run now, or null.
    task_header* steal_into(local_queue& dst) noexcept {
        std::uint32_t dst_tail = dst.tail_.load(std::memory_order_relaxed);
        auto [dst_steal, dst_real] = unpack(dst.head_.load(std::memory_order_acquire));
        (void)dst_real;
        // Don't steal into a queue that is more than half full: it has work already.
        if (dst_tail - dst_steal > capacity / 2) return nullptr;
        std::uint32_t n = steal_into2(dst, dst_tail);
        if (n == 0) return nullptr;
        // The last stolen task is returned rather than queued.
        --n;
        task_header* ret = dst.buffer_[(dst_tail + n) & mask].load(std::memory_order_relaxed);
        if (n != 0) dst.tail_.store(dst_tail + n, std::memory_order_release);
        return ret;
    }

private:
    static constexpr std::uint64_t pack(std::uint32_t steal, std::uint32_t real) noexcept {
        return (std::uint64_t{steal} << 32) | real;
    }
    struct halves {
        std::uint32_t steal, real;
    };
    static constexpr halves unpack(std::uint64_t v) noexcept {
        return {static_cast<std::uint32_t>(v >> 32), static_cast<std::uint32_t>(v)};
    }

    bool push_overflow(task_header* t, std::uint32_t head, std::uint32_t tail, inject_queue& inject) noexcept {
        constexpr std::uint32_t taken = capacity / 2;
        assert(tail - head == capacity);
        (void)tail;
        std::uint64_t prev = pack(head, head);
        // Claim the older half. Release: pairs with stealers' acquire of head_, so they don't
        // copy the slots we are about to hand off.
        if (!head_.compare_exchange_strong(prev, pack(head + taken, head + taken), std::memory_order_release,
                                           std::memory_order_relaxed))
            return false;
        task_header* first = buffer_[head & mask].load(std::memory_order_relaxed);
        task_header* last = first;
        for (std::uint32_t i = 1; i < taken; ++i) {
            task_header* next = buffer_[(head + i) & mask].load(std::memory_order_relaxed);
            last->queue_next_ = next;
            last = next;
        }
        last->queue_next_ = t;
        t->queue_next_ = nullptr;
        inject.push_batch(first, t, taken + 1);
        return true;
    }

    std::uint32_t steal_into2(local_queue& dst, std::uint32_t dst_tail) noexcept {
        std::uint64_t prev = head_.load(std::memory_order_acquire);
        std::uint64_t next;
        std::uint32_t n;
        for (;;) {
            auto [steal, real] = unpack(prev);
            // Acquire: pairs with the owner's release store of tail_; we see the slots.
            std::uint32_t tail = tail_.load(std::memory_order_acquire);
            if (steal != real) return 0;  // another stealer is at work (rule 3)
            n = tail - real;
            n -= n / 2;
            if (n == 0) return 0;
            next = pack(steal, real + n);
            if (head_.compare_exchange_weak(prev, next, std::memory_order_acq_rel, std::memory_order_acquire)) break;
        }
        assert(n <= capacity / 2);
        std::uint32_t first = unpack(next).steal;
        for (std::uint32_t i = 0; i < n; ++i) {
            task_header* t = buffer_[(first + i) & mask].load(std::memory_order_relaxed);
            dst.buffer_[(dst_tail + i) & mask].store(t, std::memory_order_relaxed);
        }
        // Done copying: release the claimed slots to the owner by setting steal = real.
        prev = next;
        for (;;) {
            std::uint32_t real = unpack(prev).real;
            if (head_.compare_exchange_weak(prev, pack(real, real), std::memory_order_acq_rel,
                                            std::memory_order_acquire))
                return n;
            assert(unpack(prev).steal != unpack(prev).real);
        }
    }

    detail::atomic<std::uint64_t> head_{0};
    detail::atomic<std::uint32_t> tail_{0};
    std::array<detail::atomic<task_header*>, capacity> buffer_{};
};

}  // namespace corio::detail
