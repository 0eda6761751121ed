/// \file
/// corio/channels/sync/rw_lock.hpp — a fair async reader-writer lock that owns its value (Tokio's
/// sync::RwLock).
///
///     corio::sync::rw_lock<config> cfg(initial);
///     { auto r = co_await cfg.read();  use(r->field); }     // shared, up to max_reads at once
///     { auto w = co_await cfg.write(); w->field = 2; }      // exclusive
///
/// Built like Tokio's: a semaphore (corio::detail::batch_semaphore) with max_reads permits; a reader
/// takes one, a writer takes all of them. The semaphore is FIFO: a queued writer holds back every
/// reader that arrives after it (a writer is never starved by a stream of readers), and the
/// readers queued behind a writer all get in together once it leaves.
///
/// As with corio::sync::mutex: hold it across co_await only when you must; never hold a blocking
/// lock (std::mutex, std::shared_mutex) across a co_await.
/// Cancel safety: `co_await read()` and `co_await write()` are cancel safe: cancelled or destroyed
///   while queued they leave the queue and give back the permits already assigned to them (a
///   writer may hold some of the max_reads permits while it waits, or all of them once granted),
///   which go to the next waiters before cancel() returns. Polled again, they queue at the back.
///   An operation whose poll reported ready owns its permits until await_resume(); cancel()
///   leaves them alone.
/// Memory ordering: everything done under a write guard happens-before every later read() or
///   write() that acquires; reads happen-before the next write that acquires.
/// Resumption: waiters are woken through their waker after the internal lock is released.
/// Thread safety: every member may be called from any thread; guards may be destroyed on another
///   thread. Preconditions (debug assertions): the lock outlives its guards and pending awaiters;
///   1 <= max_reads <= max_max_reads. blocking_* must not be called on a runtime worker.
#pragma once

#include <corio/channels/detail/batch_semaphore.hpp>
#include <corio/runtime/leaf.hpp>

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>

namespace corio::sync {

template <class T>
class rw_lock;

/// Shared access to the value of an rw_lock; gives its read permit back when destroyed.
template <class T>
class [[nodiscard]] rw_lock_read_guard {
public:
    /// Moves the read lock; `o` no longer holds it.
    rw_lock_read_guard(rw_lock_read_guard&& o) noexcept : l_(std::exchange(o.l_, nullptr)) {}
    /// Releases what this guard holds (if anything), then takes over `o`'s read lock.
    rw_lock_read_guard& operator=(rw_lock_read_guard&& o) noexcept {
        if (this != &o) {
            unlock();
            l_ = std::exchange(o.l_, nullptr);
        }
        return *this;
    }
    rw_lock_read_guard(const rw_lock_read_guard&) = delete;
    rw_lock_read_guard& operator=(const rw_lock_read_guard&) = delete;
    ~rw_lock_read_guard() { unlock(); }

    /// Precondition: the guard holds the lock.
    const T& operator*() const noexcept { return l_->value_; }
    /// Pointer access to the shared value. Precondition: the guard holds the lock.
    const T* operator->() const noexcept { return &l_->value_; }
    /// Releases the read lock early; the guard is empty afterwards.
    void unlock() noexcept {
        if (auto* l = std::exchange(l_, nullptr)) l->sem_.release(1);
    }
    /// True until the guard is moved from or unlocked.
    bool owns_lock() const noexcept { return l_ != nullptr; }

private:
    friend class rw_lock<T>;
    explicit rw_lock_read_guard(rw_lock<T>* l) noexcept : l_(l) {}
    rw_lock<T>* l_;
};

/// Exclusive access to the value of an rw_lock; gives all permits back when destroyed.
template <class T>
class [[nodiscard]] rw_lock_write_guard {
public:
    /// Moves the write lock; `o` no longer holds it.
    rw_lock_write_guard(rw_lock_write_guard&& o) noexcept : l_(std::exchange(o.l_, nullptr)) {}
    /// Releases what this guard holds (if anything), then takes over `o`'s write lock.
    rw_lock_write_guard& operator=(rw_lock_write_guard&& o) noexcept {
        if (this != &o) {
            unlock();
            l_ = std::exchange(o.l_, nullptr);
        }
        return *this;
    }
    rw_lock_write_guard(const rw_lock_write_guard&) = delete;
    rw_lock_write_guard& operator=(const rw_lock_write_guard&) = delete;
    ~rw_lock_write_guard() { unlock(); }

    /// Precondition: the guard holds the lock.
    T& operator*() const noexcept { return l_->value_; }
    /// Pointer access to the value. Precondition: the guard holds the lock.
    T* operator->() const noexcept { return &l_->value_; }
    /// Releases the write lock early (all permits go to the next waiters); the guard is empty
    /// afterwards.
    void unlock() noexcept {
        if (auto* l = std::exchange(l_, nullptr)) l->sem_.release(l->max_reads_);
    }
    /// True until the guard is moved from or unlocked.
    bool owns_lock() const noexcept { return l_ != nullptr; }

private:
    friend class rw_lock<T>;
    explicit rw_lock_write_guard(rw_lock<T>* l) noexcept : l_(l) {}
    rw_lock<T>* l_;
};

/// A fair async reader-writer lock that owns its value (Tokio's sync::RwLock): a FIFO semaphore of
/// max_reads permits, one per reader, all of them per writer, so a queued writer holds back later
/// readers and is never starved. read() and write() are cancel safe (a cancelled one gives its
/// assigned permits to the next waiters). Everything done under a write guard happens-before every
/// later read() or write() that acquires. Every member may be called from any thread; the lock
/// outlives its guards and pending awaiters.
template <class T>
class rw_lock {
public:
    /// Tokio's MAX_READS.
    static constexpr std::uint32_t default_max_reads = UINT32_MAX >> 3;
    /// The largest max_reads a lock accepts (the semaphore's permit limit).
    static constexpr std::size_t max_max_reads = ::corio::detail::batch_semaphore::max_permits;

    /// A lock holding `value`, admitting at most `max_reads` concurrent readers (1 to
    /// max_max_reads).
    explicit rw_lock(T value = T(), std::size_t max_reads = default_max_reads)
        : max_reads_(max_reads), sem_(max_reads), value_(std::move(value)) {
        assert(max_reads >= 1 && max_reads <= max_max_reads && "rw_lock: max_reads out of range");
    }
    rw_lock(const rw_lock&) = delete;
    rw_lock& operator=(const rw_lock&) = delete;

    /// How many readers may hold the lock at once.
    std::size_t max_reads() const noexcept { return max_reads_; }

    /// Awaiter of read()/write(): a leaf whose semaphore node is the waiter in the queue.
    template <bool Write>
    class [[nodiscard]] lock_operation final : public leaf_awaiter<lock_operation<Write>> {
    public:
        /// Made by read() or write(); not called directly.
        explicit lock_operation(rw_lock* l) noexcept : l_(l), acq_(&l->sem_, Write ? l->max_reads_ : 1) {}
        lock_operation(const lock_operation&) = delete;
        lock_operation& operator=(const lock_operation&) = delete;

        ~lock_operation() override { cancel(); }

        /// Takes the permits (one to read, all to write) if they are free and nobody is queued;
        /// else queues (FIFO) with the task's waker.
        bool poll(context& cx) noexcept override {
            if (done_) return true;
            if (!cx.poll_budget()) return false;
            // Never closed: acquired is the only ready outcome.
            done_ = acq_.poll(cx.waker()) == ::corio::detail::batch_semaphore::poll_result::acquired;
            return done_;
        }
        /// Leaves the queue, giving back the permits assigned to the node since the last poll; a
        /// no-op once a poll reported ready (the permits are then await_resume()'s).
        void cancel() noexcept override {
            if (!done_) acq_.cancel();
        }
        /// The read guard (read_operation) or write guard (write_operation) of the acquired lock.
        auto await_resume() noexcept {
            if constexpr (Write) return rw_lock_write_guard<T>(l_);
            else return rw_lock_read_guard<T>(l_);
        }

    private:
        rw_lock* l_;
        ::corio::detail::batch_semaphore::acquirer acq_;
        // Owned by the polling side: false (idle, or queued in acq_) -> true when a poll acquires;
        // never reset, so cancel() and a repeated poll see the permits as await_resume()'s.
        bool done_ = false;
    };
    /// What read() returns: `co_await` yields an rw_lock_read_guard.
    using read_operation = lock_operation<false>;
    /// What write() returns: `co_await` yields an rw_lock_write_guard.
    using write_operation = lock_operation<true>;

    /// `co_await l.read()`: shared access, FIFO with writers.
    [[nodiscard]] read_operation read() noexcept { return read_operation(this); }
    /// `co_await l.write()`: exclusive access, FIFO with readers.
    [[nodiscard]] write_operation write() noexcept { return write_operation(this); }

    /// Never wait; fail if the lock is not available now or anyone is queued.
    std::optional<rw_lock_read_guard<T>> try_read() noexcept {
        if (sem_.try_acquire(1) != ::corio::detail::batch_semaphore::try_result::acquired) return std::nullopt;
        return rw_lock_read_guard<T>(this);
    }
    /// Never waits: the write guard if no one holds or waits for the lock now, else nullopt.
    std::optional<rw_lock_write_guard<T>> try_write() noexcept {
        if (sem_.try_acquire(max_reads_) != ::corio::detail::batch_semaphore::try_result::acquired)
            return std::nullopt;
        return rw_lock_write_guard<T>(this);
    }

    /// Blocking twins, for plain threads (not on a runtime worker).
    rw_lock_read_guard<T> blocking_read() {
        read_operation op(this);
        ::corio::detail::blocking_poll(op);
        return op.await_resume();
    }
    /// Blocking twin of write(), for plain threads (not on a runtime worker).
    rw_lock_write_guard<T> blocking_write() {
        write_operation op(this);
        ::corio::detail::blocking_poll(op);
        return op.await_resume();
    }

    /// Direct access without locking, through exclusive access to the lock itself.
    T& get_mut() noexcept { return value_; }

private:
    friend class rw_lock_read_guard<T>;
    friend class rw_lock_write_guard<T>;
    const std::size_t max_reads_;
    // max_reads_ permits: a reader holds 1, a writer all. The semaphore's own word and list carry
    // the invariants (FIFO hand-over under its lock; acq_rel permit transfer orders the holders).
    ::corio::detail::batch_semaphore sem_;
    // Access: shared through read guards, exclusive through a write guard or get_mut().
    T value_;
};

}  // namespace corio::sync
