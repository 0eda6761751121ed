// corio/channels/detail/adaptive_mutex_word.hpp — a spin-then-sleep mutex in one 32-bit word, for
// critical sections of a few dozen instructions taken once or twice per message (mpmc's channel).
//
// Why not detail::adaptive_mutex (glibc's PTHREAD_MUTEX_ADAPTIVE_NP)? Same policy, but glibc's
// lock and unlock dispatch on the mutex kind, keep an owner and a user count, and adapt a spin
// estimate: ~30 instructions each, uncontended, against ~4 here (one CAS in, one exchange out).
// Under callgrind that was about a quarter of mpmc_contended's instructions per message
// (docs/design/mpmc.md, "Performance"). This is the futex mutex of Drepper's "Futexes are tricky"
// (mutex #3) with the spin of Rust's std Mutex (what flume runs on): spin while the holder runs,
// then sleep in the kernel so that a preempted holder does not cost the other core (no pure
// spinlocks on 2 cores: docs/design/channels.md).
//
// Word:     0 unlocked; 1 locked, nobody sleeps; 2 locked, somebody may sleep on the word.
//           Only lock() sets 2 (before it sleeps); only unlock() clears to 0.
// Protocol: lock(): CAS 0 -> 1; else spin (bounded) while the word is 1, retrying the CAS when it
//           reads 0; then exchange(2) until that returns 0, sleeping on the word while it is 2.
//           Once a locker has slept (or may sleep), it takes the lock with 2, not 1, so the
//           unlock that follows wakes whoever else may still sleep: no wake is lost, at the cost
//           of a spare wake now and then.
//           unlock(): exchange(0); if it was 2, wake one sleeper.
// Ordering: the acquiring CAS/exchange are acquire and the unlock's exchange is release, so the
//           next holder sees every write made under the lock (what ThreadSanitizer checks too:
//           it sees the atomics). The sleep is std::atomic::wait (a futex on Linux; libstdc++
//           spins and yields a few rounds more first), which returns at once if the word is no
//           longer 2; notify_one makes no system call unless a thread waits on the word.
// Meets Lockable (std::unique_lock, std::lock_guard).
#pragma once

#include <atomic>
#include <cstdint>

namespace corio::detail {

class adaptive_mutex_word {
public:
    adaptive_mutex_word() noexcept = default;
    adaptive_mutex_word(const adaptive_mutex_word&) = delete;
    adaptive_mutex_word& operator=(const adaptive_mutex_word&) = delete;

    void lock() noexcept {
        std::uint32_t expected = unlocked;
        if (word_.compare_exchange_strong(expected, locked, std::memory_order_acquire, std::memory_order_relaxed))
            [[likely]]
            return;
        lock_contended();
    }
    bool try_lock() noexcept {
        std::uint32_t expected = unlocked;
        return word_.compare_exchange_strong(expected, locked, std::memory_order_acquire, std::memory_order_relaxed);
    }
    void unlock() noexcept {
        if (word_.exchange(unlocked, std::memory_order_release) == contended) [[unlikely]]
            word_.notify_one();
    }

private:
    static constexpr std::uint32_t unlocked = 0, locked = 1, contended = 2;
    // Rust std's figure: the holders here run a few dozen instructions, so 100 pauses cover a
    // running holder; a preempted one is not coming back soon and is better slept on.
    static constexpr int spin_limit = 100;

    [[gnu::noinline]] void lock_contended() noexcept {
        std::uint32_t s = word_.load(std::memory_order_relaxed);
        for (int spins = 0; spins < spin_limit; ++spins) {
            if (s == unlocked) {
                if (word_.compare_exchange_weak(s, locked, std::memory_order_acquire, std::memory_order_relaxed))
                    return;
                continue;  // s reloaded by the failed CAS
            }
            if (s == contended) break;  // somebody already sleeps: queue up behind them
            pause();
            s = word_.load(std::memory_order_relaxed);
        }
        // Taking it with `contended` (see Protocol): our unlock will wake the next sleeper.
        while (word_.exchange(contended, std::memory_order_acquire) != unlocked)
            word_.wait(contended, std::memory_order_relaxed);
    }

    static void pause() noexcept {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
    }

    std::atomic<std::uint32_t> word_{unlocked};
};

}  // namespace corio::detail
