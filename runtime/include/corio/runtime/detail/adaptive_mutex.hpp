// corio/runtime/detail/adaptive_mutex.hpp — the mutex of the short critical sections that tasks on
// different workers contend for (waiter lists, semaphores, the idle set).
//
// std::mutex on glibc sleeps in the kernel the moment it finds the lock taken. The sections here
// last tens of nanoseconds, and a contended lock costs a futex wait and a futex wake (~2 syscalls
// and a sleep of the waiting worker, docs/design/platform.md: ~23 µs to wake a thread on the other core) where
// spinning for the holder's few instructions costs a cache-line transfer. glibc's adaptive mutex
// spins first (up to 100 rounds, adapting to how long it had to spin before) and then sleeps, so
// a preempted holder does not burn the other core (docs/design/channels.md, "Locks: short, adaptive, never pure spinning": no pure spinlocks on 2
// cores). Rust's std Mutex, which Tokio's channels use, spins the same way before parking.
// ThreadSanitizer understands it (it intercepts pthread_mutex_*).
#pragma once

#include <pthread.h>

namespace corio::detail {

class adaptive_mutex {
public:
    adaptive_mutex() noexcept = default;
    adaptive_mutex(const adaptive_mutex&) = delete;
    adaptive_mutex& operator=(const adaptive_mutex&) = delete;
    ~adaptive_mutex() { ::pthread_mutex_destroy(&m_); }

    void lock() noexcept { ::pthread_mutex_lock(&m_); }
    bool try_lock() noexcept { return ::pthread_mutex_trylock(&m_) == 0; }
    void unlock() noexcept { ::pthread_mutex_unlock(&m_); }

private:
#if defined(PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP)
    ::pthread_mutex_t m_ = PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP;
#else
    ::pthread_mutex_t m_ = PTHREAD_MUTEX_INITIALIZER;
#endif
};

}  // namespace corio::detail
