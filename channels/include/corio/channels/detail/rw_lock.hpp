// corio/channels/detail/rw_lock.hpp — a reader-writer lock for exactly one writer at a time.
//
// watch (one sender) and broadcast (writers serialised by the tail mutex) never have two writers
// on one lock, so the lock needs no writer queue: one 32-bit word, a writer bit and a reader count.
// It exists because glibc's pthread_rwlock (std::shared_mutex) parks a writer that meets a reader
// on a futex at once; here a writer waits for readers that hold the lock for a copy (nanoseconds)
// by spinning briefly, then std::atomic::wait (futex) so that a preempted reader does not cost a
// spinning core (no pure spinlocks: on 2 cores the spinner may hold the reader's core). Writers
// have priority: a reader that meets the writer bit backs out and waits, so a stream of readers
// cannot starve the sender.
// Meets the SharedMutex requirements used by std::unique_lock and std::shared_lock.
//
// Word:     writer (bit 31): set by the writer from lock() to unlock(); readers that see it back
//                            out. count (bits 0..30): readers holding the lock, or passing
//                            through (incremented, saw the writer bit, about to decrement).
// Ordering: lock_shared's fetch_add and lock()'s fetch_or/loads are acquire, the unlocks release:
//           a reader sees everything the last writer wrote, the writer sees every reader done.
//           A reader that takes the count to exactly `writer` (the writer is waiting for it)
//           notifies; a writer that unlocks notifies readers waiting for the bit to clear.
#pragma once

#include <atomic>
#include <cassert>
#include <cstdint>

namespace corio::detail {

class rw_lock {
public:
    rw_lock() noexcept = default;
    rw_lock(const rw_lock&) = delete;
    rw_lock& operator=(const rw_lock&) = delete;

    // Precondition: no other writer (the callers serialise writers).
    void lock() noexcept {
        std::uint32_t s = word_.fetch_or(writer, std::memory_order_acquire);
        assert(!(s & writer) && "rw_lock: two writers");
        s |= writer;
        for (int spins = 0; s != writer; ++spins) {
            if (spins < spin_limit) {
                pause();
                s = word_.load(std::memory_order_acquire);
            } else {
                word_.wait(s, std::memory_order_acquire);
                s = word_.load(std::memory_order_acquire);
            }
        }
    }
    void unlock() noexcept {
        word_.fetch_and(~writer, std::memory_order_release);
        // Readers may be waiting for the bit to clear. notify_all is a no-op without waiters
        // (libstdc++ keeps a waiter count), so the common case costs no syscall.
        word_.notify_all();
    }

    void lock_shared() noexcept {
        for (;;) {
            const std::uint32_t s = word_.fetch_add(1, std::memory_order_acquire);
            if (!(s & writer)) return;
            // A writer holds or wants the lock: back out, then wait for the bit to clear.
            if (word_.fetch_sub(1, std::memory_order_relaxed) - 1 == writer) word_.notify_all();
            std::uint32_t cur = word_.load(std::memory_order_relaxed);
            for (int spins = 0; cur & writer; ++spins) {
                if (spins < spin_limit) {
                    pause();
                    cur = word_.load(std::memory_order_relaxed);
                } else {
                    word_.wait(cur, std::memory_order_relaxed);
                    cur = word_.load(std::memory_order_relaxed);
                }
            }
        }
    }
    void unlock_shared() noexcept {
        // The last reader out while the writer waits wakes it (it may be blocked in wait()).
        if (word_.fetch_sub(1, std::memory_order_release) - 1 == writer) word_.notify_all();
    }

private:
    static constexpr std::uint32_t writer = 1u << 31;
    static constexpr int spin_limit = 200;

    static void pause() noexcept {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
    }

    std::atomic<std::uint32_t> word_{0};
};

}  // namespace corio::detail
