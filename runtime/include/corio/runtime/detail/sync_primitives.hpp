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
// Model builds: only the tests/model executable defines CORIO_MODEL_CHECK, and it links no corio
// library (those were compiled against std::atomic; mixing the two would break the one-definition
// rule). <relacy/relacy.hpp> defines macros for new, delete, malloc, assert and the
// memory_order_* names that would rewrite every header included after it; they are undefined
// again below. (relacy_std.hpp, which maps std:: names onto Relacy's, clashes with libstdc++ 12.)
// The wrappers have std's member signatures plus a defaulted call-site argument, so Relacy's
// failure histories name the file and line of each operation in the structure under test.
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

#else  // CORIO_MODEL_CHECK

#include <relacy/relacy.hpp>

#undef new
#undef delete
#undef malloc
#undef calloc
#undef realloc
#undef free
#undef memory_order_relaxed
#undef memory_order_consume
#undef memory_order_acquire
#undef memory_order_release
#undef memory_order_acq_rel
#undef memory_order_seq_cst
#undef assert
#include <cassert>  // the standard assert again (relacy.hpp replaced it with RL_ASSERT)

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
        return a_.compare_exchange_strong(expected, desired, model::order(success), i, model::order(failure), i);
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

#endif  // CORIO_MODEL_CHECK
