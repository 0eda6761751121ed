// corio/runtime/detail/sync_primitives.hpp — the seam under the lock-free cores: the atomics,
// fences and mutex they are built from. std:: in every normal build; Relacy's model-checked
// types when CORIO_MODEL_CHECK is defined (tests/model/).
//
// Why: Relacy (the C++ memory-model checker that Tokio's loom was modelled on) explores thread
// interleavings, and the values each load may return under the C++ memory model, only for
// operations made through its own types. Code written against this header builds against either.
//
// Normal builds: detail::atomic<T> is an alias of std::atomic<T> and detail::mutex of
// std::mutex, so code that uses them compiles to exactly what it did with the std names. Memory
// orders stay std::memory_order_*: the model wrappers accept them.
//
// Plain objects: Relacy sees a data race only on its own rl::var, not on ordinary fields. An
// object whose plain fields the lock-free cores hand from thread to thread (the waker, which
// fills every waker slot) declares CORIO_MODEL_ACCESS(name) and marks each use of itself with
// CORIO_MODEL_READ(name) or CORIO_MODEL_WRITE(name): in model builds that is one rl::var read or
// written, so two uses that the protocol does not order, one of them a write, are a data race;
// in normal builds the three macros expand to nothing.
//
// Model builds: only the tests/model executable defines CORIO_MODEL_CHECK, and it links no corio
// library (those were compiled against std::atomic; mixing the two would break the one-definition
// rule). <relacy/relacy.hpp> defines macros over names the C and C++ libraries use (new, delete,
// malloc, assert, errno, the memory_order_* names, pthread_*, sem_*, futex, ...), which would
// rewrite every header included after it; each is saved before the include and restored after
// it (its CamelCase Windows API names are left: nothing here spells them). relacy_std.hpp, which
// maps std:: names onto Relacy's, clashes with libstdc++ 12 and is not used. The wrappers have
// std's member signatures plus a defaulted call-site argument, so Relacy's failure histories
// name the file and line of each operation in the structure under test.
#pragma once

#include <atomic>
#include <mutex>

#ifndef CORIO_MODEL_CHECK

namespace corio::detail {

template <class T>
using atomic = std::atomic<T>;
using mutex = std::mutex;
using std::atomic_thread_fence;

}  // namespace corio::detail

#define CORIO_MODEL_ACCESS(name)
#define CORIO_MODEL_READ(name) ((void)0)
#define CORIO_MODEL_WRITE(name) ((void)0)

#else  // CORIO_MODEL_CHECK

#include <cassert>
#include <cerrno>

// X(name) for every macro <relacy/relacy.hpp> defines over a name outside its own namespace.
#define CORIO_RELACY_CLOBBERS(X)                                                                        \
    X(new) X(delete) X(malloc) X(calloc) X(realloc) X(free) X(assert) X(errno)                          \
    X(EINVAL) X(ETIMEDOUT) X(EBUSY) X(EINTR) X(EAGAIN) X(EWOULDBLOCK) X(_XOPEN_SOURCE)                  \
    X(memory_order_relaxed) X(memory_order_consume) X(memory_order_acquire)                             \
    X(memory_order_release) X(memory_order_acq_rel) X(memory_order_seq_cst)                             \
    X(sched_yield) X(pthread_yield) X(pthread_t) X(pthread_attr_t) X(pthread_create) X(pthread_join)   \
    X(pthread_mutex_t) X(pthread_mutexattr_t) X(pthread_mutex_init) X(pthread_mutex_destroy)           \
    X(pthread_mutex_lock) X(pthread_mutex_try_lock) X(pthread_mutex_timedlock)                          \
    X(pthread_mutex_unlock) X(pthread_mutexattr_init) X(pthread_mutexattr_destroy)                      \
    X(pthread_mutexattr_settype) X(PTHREAD_MUTEX_NORMAL) X(PTHREAD_MUTEX_RECURSIVE)                     \
    X(PTHREAD_MUTEX_ERRORCHECK) X(PTHREAD_MUTEX_DEFAULT) X(pthread_rwlock_t) X(pthread_rwlock_init)    \
    X(pthread_rwlock_destroy) X(pthread_rwlock_rdlock) X(pthread_rwlock_tryrdlock)                      \
    X(pthread_rwlock_wrlock) X(pthread_rwlock_trywrlock) X(pthread_rwlock_unlock) X(pthread_cond_t)    \
    X(pthread_condattr_t) X(pthread_cond_init) X(pthread_cond_destroy) X(pthread_cond_signal)          \
    X(pthread_cond_broadcast) X(pthread_cond_wait) X(pthread_cond_timedwait) X(sem_t) X(sem_init)      \
    X(sem_destroy) X(sem_wait) X(sem_trywait) X(sem_post) X(sem_getvalue) X(futex) X(FUTEX_WAIT)       \
    X(FUTEX_WAKE) X(CONDITION_VARIABLE) X(CONDITION_VARIABLE_LOCKMODE_SHARED) X(CRITICAL_SECTION)      \
    X(HANDLE) X(INFINITE) X(MAXIMUM_WAIT_OBJECTS) X(SRWLOCK) X(WAIT_FAILED) X(WAIT_IO_COMPLETION)      \
    X(WAIT_OBJECT_0) X(WAIT_TIMEOUT) X(WIN32_LEAN_AND_MEAN) X(_CRT_SECURE_NO_WARNINGS) X(_WIN32_WINNT)
#define CORIO_RELACY_PRAGMA(p) _Pragma(#p)
#define CORIO_RELACY_PUSH(m) CORIO_RELACY_PRAGMA(push_macro(#m))
#define CORIO_RELACY_POP(m) CORIO_RELACY_PRAGMA(pop_macro(#m))

CORIO_RELACY_CLOBBERS(CORIO_RELACY_PUSH)
#include <relacy/relacy.hpp>
CORIO_RELACY_CLOBBERS(CORIO_RELACY_POP)

#undef CORIO_RELACY_CLOBBERS
#undef CORIO_RELACY_PRAGMA
#undef CORIO_RELACY_PUSH
#undef CORIO_RELACY_POP

namespace corio::detail {

namespace model {

// The call site of an operation, for Relacy's histories. The builtins in default arguments
// evaluate at the caller (std::source_location needs __builtin_source_location, which clang 14
// lacks).
struct site {
    const char* file;
    unsigned line;
    const char* func;
    site(const char* f = __builtin_FILE(), unsigned l = __builtin_LINE(),
         const char* fn = __builtin_FUNCTION()) noexcept
        : file(f), line(l), func(fn) {}
    rl::debug_info info() const noexcept { return rl::debug_info(func, file, line); }
};

constexpr rl::memory_order order(std::memory_order mo) noexcept {
    switch (mo) {
        case std::memory_order_relaxed: return rl::mo_relaxed;
        case std::memory_order_consume: return rl::mo_consume;
        case std::memory_order_acquire: return rl::mo_acquire;
        case std::memory_order_release: return rl::mo_release;
        case std::memory_order_acq_rel: return rl::mo_acq_rel;
        case std::memory_order_seq_cst: return rl::mo_seq_cst;
    }
    return rl::mo_seq_cst;
}

}  // namespace model

// std::atomic's interface over rl::atomic. Construction (like std::atomic's) is not an atomic
// operation; the default constructor value-initialises, as std::atomic's does since C++20.
template <class T>
class atomic {
public:
    atomic() noexcept : a_(T{}) {}
    atomic(T v) noexcept : a_(v) {}
    atomic(const atomic&) = delete;
    atomic& operator=(const atomic&) = delete;

    T load(std::memory_order mo = std::memory_order_seq_cst, model::site s = {}) const noexcept {
        return a_.load(model::order(mo), s.info());
    }
    void store(T v, std::memory_order mo = std::memory_order_seq_cst, model::site s = {}) noexcept {
        a_.store(v, model::order(mo), s.info());
    }
    T exchange(T v, std::memory_order mo = std::memory_order_seq_cst, model::site s = {}) noexcept {
        return a_.exchange(v, model::order(mo), s.info());
    }
    bool compare_exchange_weak(T& expected, T desired, std::memory_order success, std::memory_order failure,
                               model::site s = {}) noexcept {
        const rl::debug_info i = s.info();
        return a_.compare_exchange_weak(expected, desired, model::order(success), i, model::order(failure), i);
    }
    bool compare_exchange_strong(T& expected, T desired, std::memory_order success, std::memory_order failure,
                                 model::site s = {}) noexcept {
        const rl::debug_info i = s.info();
        return a_.compare_exchange_strong(expected, desired, model::order(success), i, model::order(failure),
                                          i);
    }
    bool compare_exchange_weak(T& expected, T desired, std::memory_order mo = std::memory_order_seq_cst,
                               model::site s = {}) noexcept {
        return a_.compare_exchange_weak(expected, desired, model::order(mo), s.info());
    }
    bool compare_exchange_strong(T& expected, T desired, std::memory_order mo = std::memory_order_seq_cst,
                                 model::site s = {}) noexcept {
        return a_.compare_exchange_strong(expected, desired, model::order(mo), s.info());
    }
    T fetch_add(T v, std::memory_order mo = std::memory_order_seq_cst, model::site s = {}) noexcept {
        return a_.fetch_add(v, model::order(mo), s.info());
    }
    T fetch_sub(T v, std::memory_order mo = std::memory_order_seq_cst, model::site s = {}) noexcept {
        return a_.fetch_sub(v, model::order(mo), s.info());
    }
    T fetch_and(T v, std::memory_order mo = std::memory_order_seq_cst, model::site s = {}) noexcept {
        return a_.fetch_and(v, model::order(mo), s.info());
    }
    T fetch_or(T v, std::memory_order mo = std::memory_order_seq_cst, model::site s = {}) noexcept {
        return a_.fetch_or(v, model::order(mo), s.info());
    }
    T fetch_xor(T v, std::memory_order mo = std::memory_order_seq_cst, model::site s = {}) noexcept {
        return a_.fetch_xor(v, model::order(mo), s.info());
    }

private:
    mutable rl::atomic<T> a_;
};

inline void atomic_thread_fence(std::memory_order mo, model::site s = {}) noexcept {
    rl::atomic_thread_fence(model::order(mo), s.info());
}

// The rl::var behind CORIO_MODEL_ACCESS. A copy of the object is a new object: copying or
// assigning the tracker does not touch the source's var (the object's own code marks that).
class plain_access {
public:
    plain_access() : v_(0) {}
    plain_access(const plain_access&) : v_(0) {}
    plain_access& operator=(const plain_access&) noexcept { return *this; }
    void read(model::site s = {}) const { (void)v_(s.info()).load(); }
    void write(model::site s = {}) { v_(s.info()) = 0; }

private:
    rl::var<int> v_;
};

// std::mutex's interface over rl::mutex (so std::lock_guard works on it unchanged).
class mutex {
public:
    mutex() = default;
    mutex(const mutex&) = delete;
    mutex& operator=(const mutex&) = delete;
    void lock(model::site s = {}) { m_.lock(s.info()); }
    bool try_lock(model::site s = {}) { return m_.try_lock(s.info()); }
    void unlock(model::site s = {}) { m_.unlock(s.info()); }

private:
    rl::mutex m_;
};

}  // namespace corio::detail

#define CORIO_MODEL_ACCESS(name) ::corio::detail::plain_access name;
#define CORIO_MODEL_READ(name) (name).read()
#define CORIO_MODEL_WRITE(name) (name).write()

#endif  // CORIO_MODEL_CHECK
