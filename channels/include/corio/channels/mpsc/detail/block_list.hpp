// corio/channels/mpsc/detail/block_list.hpp — the mpsc queue: Tokio's lock-free linked list of
// 32-slot blocks (tokio sync/mpsc/list.rs, block.rs), many producers, one consumer.
//
// Why this and not a mutex-guarded ring: a send is two uncontended-path RMWs (claim a slot with
// fetch_add on tail_position_, publish it with fetch_or on the block's ready bitmap) and a receive
// is one acquire load, with no lock that a preempted producer could hold while the other vCPU
// spins or sleeps (docs/design/channels.md, "Locks": no pure spinlocks on 2 cores, and a
// mutex-guarded queue costs ~70 ns per message here). Blocks are recycled by the consumer, so steady state
// allocates nothing. Per-producer FIFO follows from slot order: a producer's second send claims
// its slot after its first.
//
// Slot lifecycle: claimed by fetch_add (index i), written, then published by setting bit i%32 of
// the block's ready_slots_; the consumer reads slot `index_` only after seeing its ready bit. The
// last sender's close() claims one more slot and sets tx_closed in that slot's block instead of a
// ready bit: a consumer that reaches an unready slot in a block with tx_closed has read every
// value (every send finished before the last sender went away).
//
// Seam: the atomics are detail::atomic (sync_primitives.hpp), model-checked by tests/model, which
// builds with CORIO_TEST_SMALL_BLOCKS: 2-slot blocks (as Tokio's loom builds use), so that a short
// run crosses, releases and recycles blocks.
#pragma once

#include <corio/runtime/detail/sync_primitives.hpp>

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <new>
#include <thread>
#include <utility>

namespace corio::detail::mpsc {

#ifndef CORIO_TEST_SMALL_BLOCKS
#define CORIO_TEST_SMALL_BLOCKS 0
#endif

inline constexpr std::size_t block_cap = CORIO_TEST_SMALL_BLOCKS ? 2 : 32;
inline constexpr std::size_t block_mask = ~(block_cap - 1);
inline constexpr std::size_t slot_mask = block_cap - 1;

inline constexpr std::size_t start_index(std::size_t slot) noexcept { return slot & block_mask; }
inline constexpr std::size_t offset(std::size_t slot) noexcept { return slot & slot_mask; }

template <class T>
struct block {
    // ready_slots_ — publication of slots and of the block's end of life.
    // Bits:     ready (0..31): slot i holds a value. Set once per slot by the producer that claimed
    //                          it, after writing the value (release); read by the consumer (acquire)
    //                          before it reads the value.
    //           released (32): the tail moved past this block; observed_tail_position_ holds the
    //                          tail_position_ seen by the thread that moved it (written before,
    //                          published by this release). Once the consumer's index reaches it, no
    //                          producer can touch the block any more, and it may be recycled.
    //           tx_closed (33): the last sender's close marker lies in this block.
    // Reset:    only by the consumer when recycling (reclaim()), when no producer can reach it.
    static constexpr std::uint64_t ready_mask = (std::uint64_t{1} << block_cap) - 1;
    static constexpr std::uint64_t released = std::uint64_t{1} << block_cap;
    static constexpr std::uint64_t tx_closed = released << 1;

    // Written by whoever links the block (grow/try_push) before the CAS that publishes it on a
    // next_ pointer; read by threads that reached the block through an acquire load.
    std::size_t start_index_;
    // Null until the next block is linked, by one CAS (acq_rel), never changed after (until
    // recycling).
    detail::atomic<block*> next_{nullptr};
    detail::atomic<std::uint64_t> ready_slots_{0};
    std::size_t observed_tail_position_ = 0;  // access: see `released`
    alignas(T) unsigned char storage_[block_cap][sizeof(T)];

    explicit block(std::size_t start) noexcept : start_index_(start) {}

    T* slot(std::size_t off) noexcept { return std::launder(reinterpret_cast<T*>(storage_[off])); }

    bool is_final() const noexcept { return (ready_slots_.load(std::memory_order_acquire) & ready_mask) == ready_mask; }

    // Tokio's Block::grow: links a fresh block after this one; if another thread linked one
    // first, the fresh block is appended further down the chain instead of being freed. Returns
    // this block's successor.
    block* grow() {
        block* fresh = new block(start_index_ + block_cap);
        block* expected = nullptr;
        if (next_.compare_exchange_strong(expected, fresh, std::memory_order_acq_rel, std::memory_order_acquire))
            return fresh;
        block* next = expected;
        block* cur = next;
        for (;;) {
            fresh->start_index_ = cur->start_index_ + block_cap;
            block* e = nullptr;
            if (cur->next_.compare_exchange_strong(e, fresh, std::memory_order_acq_rel, std::memory_order_acquire))
                return next;
            cur = e;
        }
    }

    // Consumer, recycling: the block is unreachable for producers.
    void reclaim() noexcept {
        start_index_ = 0;
        next_.store(nullptr, std::memory_order_relaxed);
        ready_slots_.store(0, std::memory_order_relaxed);
    }

    // Tries to link `b` after this block. Returns null on success, else the block already there.
    block* try_push(block* b) noexcept {
        b->start_index_ = start_index_ + block_cap;
        block* e = nullptr;
        if (next_.compare_exchange_strong(e, b, std::memory_order_acq_rel, std::memory_order_acquire)) return nullptr;
        return e;
    }
};

// Producers' side.
template <class T>
class list_tx {
public:
    explicit list_tx(block<T>* first) noexcept : block_tail_(first) {}

    /// Claims the next slot and writes `v` into it. Never waits for the consumer.
    template <class U>
    void push(U&& v) {
        // seq_cst on the claim and on block_tail_ (here and in find_block's CAS/reload) makes the
        // release bookkeeping sound: a producer that still sees an old tail block claimed a slot
        // below that block's observed_tail_position_, so the consumer cannot recycle any block
        // the producer may still walk through before it has read that slot.
        const std::size_t slot = tail_position_.fetch_add(1, std::memory_order_seq_cst);
        block<T>* b = find_block(slot);
        ::new (static_cast<void*>(b->storage_[offset(slot)])) T(std::forward<U>(v));
        b->ready_slots_.fetch_or(std::uint64_t{1} << offset(slot), std::memory_order_release);
    }

    /// The last sender's close marker (see the file comment).
    void close() {
        const std::size_t slot = tail_position_.fetch_add(1, std::memory_order_seq_cst);
        block<T>* b = find_block(slot);
        b->ready_slots_.fetch_or(block<T>::tx_closed, std::memory_order_release);
    }

    std::size_t tail_position() const noexcept { return tail_position_.load(std::memory_order_acquire); }

    // Consumer: gives a drained block back for reuse (appended after the current tail, at most 3
    // tries), or frees it.
    void reclaim_block(block<T>* b) noexcept {
        b->reclaim();
        block<T>* cur = block_tail_.load(std::memory_order_acquire);
        for (int i = 0; i < 3; ++i) {
            block<T>* next = cur->try_push(b);
            if (!next) return;
            cur = next;
        }
        delete b;
    }

private:
    block<T>* find_block(std::size_t slot) {
        const std::size_t start = start_index(slot);
        const std::size_t off = offset(slot);
        block<T>* b = block_tail_.load(std::memory_order_seq_cst);
        // Only a producer whose slot lies far enough ahead tries to move the tail: one that is
        // `distance` blocks ahead at offset < distance (Tokio's heuristic, spreading the work).
        bool try_updating_tail = (start - b->start_index_) / block_cap > off;
        for (;;) {
            if (b->start_index_ == start) return b;
            block<T>* next = b->next_.load(std::memory_order_acquire);
            if (!next) next = b->grow();
            try_updating_tail = try_updating_tail && b->is_final();
            if (try_updating_tail) {
                block<T>* expected = b;
                if (block_tail_.compare_exchange_strong(expected, next, std::memory_order_seq_cst,
                                                        std::memory_order_relaxed)) {
                    // Every slot claimed so far may still be written into a block at or before
                    // `b`; the consumer recycles `b` only once it has read them all.
                    const std::size_t tail = tail_position_.fetch_add(0, std::memory_order_seq_cst);
                    b->observed_tail_position_ = tail;
                    b->ready_slots_.fetch_or(block<T>::released, std::memory_order_release);
                } else {
                    try_updating_tail = false;
                }
            }
            b = next;
        }
    }

    // block_tail_: a block at or before the one holding tail_position_; moved forward by one CAS
    // at a time by producers (above), read by the consumer to append recycled blocks.
    alignas(64) detail::atomic<block<T>*> block_tail_;
    // tail_position_: the next slot index to claim; only ever increases (fetch_add).
    alignas(64) detail::atomic<std::size_t> tail_position_{0};
};

enum class peek_result { value, closed, empty };

// Consumer's side: owned by the one receiver (never touched concurrently).
template <class T>
class list_rx {
public:
    explicit list_rx(block<T>* first) noexcept : head_(first), free_head_(first) {}

    /// What lies at the read position: a value (take() it), the close marker, or nothing yet (a
    /// slot may be claimed and still being written: that producer wakes the receiver afterwards).
    peek_result peek(list_tx<T>& tx) noexcept {
        if (!try_advancing_head()) return peek_result::empty;
        reclaim_blocks(tx);
        const std::uint64_t bits = head_->ready_slots_.load(std::memory_order_acquire);
        if (bits & (std::uint64_t{1} << offset(index_))) return peek_result::value;
        if (bits & block<T>::tx_closed) return peek_result::closed;
        return peek_result::empty;
    }

    /// Precondition: peek() just returned value.
    T take() noexcept {
        T* p = head_->slot(offset(index_));
        T v = std::move(*p);
        p->~T();
        ++index_;
        return v;
    }

    /// Destroys the value at the read position. Precondition: peek() just returned value.
    void discard() noexcept {
        head_->slot(offset(index_))->~T();
        ++index_;
    }

    std::size_t index() const noexcept { return index_; }

    /// Frees every block. Precondition: every value was taken or discarded.
    void free_blocks() noexcept {
        block<T>* b = free_head_;
        while (b) {
            block<T>* next = b->next_.load(std::memory_order_acquire);
            delete b;
            b = next;
        }
        head_ = free_head_ = nullptr;
    }

private:
    bool try_advancing_head() noexcept {
        const std::size_t want = start_index(index_);
        for (;;) {
            if (head_->start_index_ == want) return true;
            block<T>* next = head_->next_.load(std::memory_order_acquire);
            if (!next) return false;
            head_ = next;
        }
    }

    void reclaim_blocks(list_tx<T>& tx) noexcept {
        while (free_head_ != head_) {
            block<T>* b = free_head_;
            const std::uint64_t bits = b->ready_slots_.load(std::memory_order_acquire);
            if (!(bits & block<T>::released)) return;
            if (b->observed_tail_position_ > index_) return;
            free_head_ = b->next_.load(std::memory_order_relaxed);
            tx.reclaim_block(b);
        }
    }

    block<T>* head_;       // the block holding index_ (or before it, until advanced)
    std::size_t index_ = 0;
    block<T>* free_head_;  // the oldest block not yet recycled
};

}  // namespace corio::detail::mpsc
