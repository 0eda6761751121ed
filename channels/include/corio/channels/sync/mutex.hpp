/// \file
/// corio/channels/sync/mutex.hpp — a fair async mutex that owns the value it protects (Tokio's
/// sync::Mutex).
///
///     corio::sync::mutex<std::vector<int>> m;
///     {
///         auto guard = co_await m.lock();     // mutex_guard<std::vector<int>>
///         guard->push_back(1);
///         co_await something();               // fine: holding it across co_await is the point
///     }                                       // unlocked here (RAII)
///
/// When to use it: only when the lock must be held across a co_await. For short critical sections
/// that never suspend, a std::mutex is cheaper and correct. Never hold a std::mutex (or any
/// blocking lock) across a co_await: the task may resume on another worker, and a worker that
/// blocks on a lock held by a suspended task can deadlock the runtime.
///
/// Fairness: lock() waiters are served first come, first served (a semaphore with one permit,
///   corio::detail::batch_semaphore); try_lock() never barges past a queued waiter.
/// Cancel safety: `co_await m.lock()` is cancel safe: cancelled or destroyed while queued (a
///   losing select / race / timeout operand, an aborted task), it leaves the queue, and if the
///   lock had just been handed to it, it is passed on to the next waiter (or released) before
///   cancel() returns, so a select handler may lock the same mutex. Its place in the queue is lost
///   (polled again, it queues at the back). A lock operation whose poll reported ready owns the
///   lock until await_resume() turns it into a guard; cancel() leaves that lock alone.
/// Memory ordering: everything done under a guard happens-before the next lock() that acquires.
/// Resumption: waiters are woken through their waker after the internal lock is released; an
///   unlock never resumes anyone inline.
/// Thread safety: every member may be called from any thread; a guard may be destroyed on another
///   thread or worker than the one that locked. Preconditions (debug assertions): the mutex
///   outlives its guards and pending lock() awaiters. blocking_lock() must not be called on a
///   runtime worker.
#pragma once

#include <corio/channels/detail/batch_semaphore.hpp>
#include <corio/runtime/leaf.hpp>

#include <optional>
#include <type_traits>
#include <utility>

namespace corio::sync {

template <class T>
class mutex;

/// Exclusive access to the value of a mutex; unlocks when destroyed. Move-only.
template <class T>
class [[nodiscard]] mutex_guard {
public:
    /// Moves the lock; `o` no longer holds it.
    mutex_guard(mutex_guard&& o) noexcept : m_(std::exchange(o.m_, nullptr)) {}
    /// Unlocks what this guard holds (if anything), then takes over `o`'s lock.
    mutex_guard& operator=(mutex_guard&& o) noexcept {
        if (this != &o) {
            unlock();
            m_ = std::exchange(o.m_, nullptr);
        }
        return *this;
    }
    mutex_guard(const mutex_guard&) = delete;
    mutex_guard& operator=(const mutex_guard&) = delete;
    ~mutex_guard() { unlock(); }

    /// Precondition: the guard holds the lock (not moved from, not unlocked).
    T& operator*() const noexcept { return m_->value_; }
    /// Pointer access to the protected value. Precondition: the guard holds the lock.
    T* operator->() const noexcept { return &m_->value_; }

    /// Releases the lock early; the guard is empty afterwards.
    void unlock() noexcept {
        if (auto* m = std::exchange(m_, nullptr)) m->sem_.release(1);
    }
    /// True until the guard is moved from or unlocked.
    bool owns_lock() const noexcept { return m_ != nullptr; }

private:
    friend class mutex<T>;
    explicit mutex_guard(mutex<T>* m) noexcept : m_(m) {}
    mutex<T>* m_;
};

/// A fair async mutex that owns the value it protects (Tokio's sync::Mutex). Use it only when the
/// lock must be held across a co_await; for short sections that never suspend a std::mutex is
/// cheaper. lock() waiters are served first come, first served, and try_lock() never barges past
/// one. Everything done under a guard happens-before the next lock() that acquires. Every member
/// may be called from any thread; the mutex outlives its guards and pending lock()s.
template <class T>
class mutex {
public:
    /// A mutex protecting a T built from `args`.
    template <class... Args>
        requires std::is_constructible_v<T, Args&&...>
    explicit mutex(Args&&... args) noexcept(std::is_nothrow_constructible_v<T, Args&&...>)
        : value_(std::forward<Args>(args)...) {}
    mutex(const mutex&) = delete;
    mutex& operator=(const mutex&) = delete;

    /// Awaiter of lock(): a leaf whose semaphore node is the waiter in the queue.
    class [[nodiscard]] lock_operation final : public leaf_awaiter<lock_operation> {
    public:
        /// Made by lock(); not called directly.
        explicit lock_operation(mutex* m) noexcept : m_(m), acq_(&m->sem_, 1) {}
        lock_operation(const lock_operation&) = delete;
        lock_operation& operator=(const lock_operation&) = delete;

        ~lock_operation() override { cancel(); }
        /// What the pending operation waits for, in words, for runtime::dump() (corio/runtime/dump.hpp).
        void describe(std::string& out) const override { out += "lock of mutex (held by another task)"; }

        /// Takes the lock if it is free and nobody is queued; else queues (FIFO) with the task's
        /// waker.
        bool poll(context& cx) noexcept override {
            if (done_) return true;
            if (!cx.poll_budget()) return false;
            // The semaphore is never closed, so acquired is the only ready outcome.
            done_ = acq_.poll(cx.waker()) == ::corio::detail::batch_semaphore::poll_result::acquired;
            return done_;
        }
        /// Leaves the queue, passing on a lock handed to the node since the last poll; a no-op
        /// once a poll reported ready (the lock is then await_resume()'s).
        void cancel() noexcept override {
            if (!done_) acq_.cancel();
        }
        /// The guard of the lock this operation acquired.
        mutex_guard<T> await_resume() noexcept { return mutex_guard<T>(m_); }

    private:
        mutex* m_;
        ::corio::detail::batch_semaphore::acquirer acq_;
        // Owned by the polling side: false (idle, or queued in acq_) -> true when a poll acquires
        // the lock; never reset, so cancel() and a repeated poll see the lock as await_resume()'s.
        bool done_ = false;
    };

    /// `co_await m.lock()` yields a guard once the lock is ours (FIFO among waiters).
    [[nodiscard]] lock_operation lock() noexcept { return lock_operation(this); }

    /// The guard if the lock is free now and nobody is queued; never waits.
    std::optional<mutex_guard<T>> try_lock() noexcept {
        if (sem_.try_acquire(1) != ::corio::detail::batch_semaphore::try_result::acquired) return std::nullopt;
        return mutex_guard<T>(this);
    }

    /// Blocking twin of lock(), for plain threads (not on a runtime worker).
    mutex_guard<T> blocking_lock() {
        lock_operation op(this);
        ::corio::detail::blocking_poll(op);
        return op.await_resume();
    }

    /// Direct access without locking, through exclusive access to the mutex itself.
    T& get_mut() noexcept { return value_; }

private:
    friend class mutex_guard<T>;
    // The lock: one permit. Its own atomic word and list carry the invariants (free <=> one
    // permit in the count and nobody queued; hand-over to the oldest waiter under its lock).
    ::corio::detail::batch_semaphore sem_{1};
    // Access: only through a guard (whose holder owns the permit) or get_mut(). The permit's
    // acq_rel hand-over orders successive holders' accesses.
    T value_;
};

}  // namespace corio::sync
