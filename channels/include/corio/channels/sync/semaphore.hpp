/// \file
/// corio/channels/sync/semaphore.hpp — an async counting semaphore, fair, closable (Tokio's
/// sync::Semaphore).
///
///     corio::sync::semaphore sem(3);
///     auto permit = (co_await sem.acquire()).value();    // RAII: released when destroyed
///     auto sem2 = std::make_shared<corio::sync::semaphore>(3);
///     auto owned = (co_await corio::sync::semaphore::acquire_owned(sem2)).value();
///
/// Fairness: waiters are served first come, first served; an acquire_many(n) at the front of the
/// queue holds back later small acquires until it has its n (so it is never starved).
/// Errors: acquire fails with acquire_error::closed once close() was called (queued acquires are
///   woken with it). try_acquire fails with try_acquire_error::{no_permits, closed}.
/// Cancel safety: an acquire is cancel safe: cancelled or destroyed while queued (a losing select
///   / race / timeout operand, an aborted task) it leaves the queue and gives back the permits
///   already assigned to it, which go to the next waiter before cancel() returns; its place in the
///   queue is lost (polled again, it queues at the back). An acquire whose poll reported ready owns
///   its permits (or its closed error) until await_resume(); cancel() leaves them alone.
/// Memory ordering: a permit release happens-before the acquire that receives that permit.
/// Resumption: waiters are woken through their waker after the internal lock is released.
/// Thread safety: all members may be called from any thread. Preconditions (debug assertions):
///   the semaphore outlives its (non-owned) permits and pending acquires; n <= max_permits.
#pragma once

#include <corio/channels/detail/batch_semaphore.hpp>
#include <corio/result.hpp>
#include <corio/runtime/leaf.hpp>

#include <fmt/format.h>

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>

namespace corio::sync {

/// acquire(): the semaphore was closed (close()); queued acquires are woken with it.
enum class acquire_error { closed };
/// try_acquire(): closed, or no_permits (not enough free permits now, or others are queued).
enum class try_acquire_error { closed, no_permits };

/// "semaphore closed": what fmt prints.
constexpr std::string_view to_string(acquire_error) noexcept { return "semaphore closed"; }
/// "semaphore closed" or "no permits available": what fmt prints.
constexpr std::string_view to_string(try_acquire_error e) noexcept {
    return e == try_acquire_error::closed ? "semaphore closed" : "no permits available";
}

class semaphore;

/// Permits borrowed from a semaphore; given back when destroyed (unless forget()).
/// Precondition: the semaphore outlives the permit.
class [[nodiscard]] semaphore_permit {
public:
    semaphore_permit() noexcept = default;
    /// Moves the permits; `o` is left holding none.
    semaphore_permit(semaphore_permit&& o) noexcept
        : sem_(std::exchange(o.sem_, nullptr)), n_(std::exchange(o.n_, 0)) {}
    /// Gives back what this holds, then takes over `o`'s permits.
    semaphore_permit& operator=(semaphore_permit&& o) noexcept {
        if (this != &o) {
            release();
            sem_ = std::exchange(o.sem_, nullptr);
            n_ = std::exchange(o.n_, 0);
        }
        return *this;
    }
    ~semaphore_permit() { release(); }

    /// How many permits this holds (0 once moved from or forgotten).
    std::size_t num_permits() const noexcept { return n_; }
    /// Keeps the permits out of the semaphore for good (they are not given back).
    void forget() noexcept {
        sem_ = nullptr;
        n_ = 0;
    }
    /// Adds the permits of `other` (of the same semaphore) to this one.
    void merge(semaphore_permit&& other) noexcept {
        if (!sem_) sem_ = other.sem_;
        n_ += std::exchange(other.n_, 0);
        other.sem_ = nullptr;
    }

private:
    friend class semaphore;
    semaphore_permit(semaphore* s, std::size_t n) noexcept : sem_(s), n_(n) {}
    inline void release() noexcept;
    semaphore* sem_ = nullptr;
    std::size_t n_ = 0;
};

/// Permits that keep their semaphore alive (acquire_owned).
class [[nodiscard]] owned_semaphore_permit {
public:
    owned_semaphore_permit() noexcept = default;
    /// Moves the permits (and the semaphore reference); `o` is left holding none.
    owned_semaphore_permit(owned_semaphore_permit&& o) noexcept
        : sem_(std::move(o.sem_)), n_(std::exchange(o.n_, 0)) {}
    /// Gives back what this holds, then takes over `o`'s permits.
    owned_semaphore_permit& operator=(owned_semaphore_permit&& o) noexcept {
        if (this != &o) {
            release();
            sem_ = std::move(o.sem_);
            n_ = std::exchange(o.n_, 0);
        }
        return *this;
    }
    ~owned_semaphore_permit() { release(); }

    /// How many permits this holds (0 once moved from or forgotten).
    std::size_t num_permits() const noexcept { return n_; }
    /// The semaphore the permits belong to (null once moved from or forgotten).
    const std::shared_ptr<semaphore>& semaphore_ptr() const noexcept { return sem_; }
    /// Drops the permits without giving them back: the semaphore has that many fewer for good.
    void forget() noexcept {
        sem_.reset();
        n_ = 0;
    }

private:
    friend class semaphore;
    owned_semaphore_permit(std::shared_ptr<semaphore> s, std::size_t n) noexcept : sem_(std::move(s)), n_(n) {}
    inline void release() noexcept;
    std::shared_ptr<semaphore> sem_;
    std::size_t n_ = 0;
};

/// An async counting semaphore, fair and closable (Tokio's sync::Semaphore). Waiters are served
/// first come, first served; an acquire_many(n) at the front holds back later small acquires until
/// it has its n. Acquires are cancel safe: a cancelled one gives the permits already assigned to it
/// to the next waiter. A permit release happens-before the acquire that receives it. Every member
/// may be called from any thread.
class semaphore {
public:
    /// The most permits a semaphore can hold or one acquire can ask for.
    static constexpr std::size_t max_permits = ::corio::detail::batch_semaphore::max_permits;

    /// A semaphore with `permits` free permits (at most max_permits).
    explicit semaphore(std::size_t permits) noexcept : sem_(permits) {}
    semaphore(const semaphore&) = delete;
    semaphore& operator=(const semaphore&) = delete;

    /// Permits free now.
    std::size_t available_permits() const noexcept { return sem_.available_permits(); }
    /// True once close() was called.
    bool is_closed() const noexcept { return sem_.is_closed(); }
    /// Adds `n` permits (to the oldest waiters first).
    void add_permits(std::size_t n) noexcept { sem_.release(n); }
    /// Closes the semaphore: queued and later acquires fail with closed; held permits stay valid.
    void close() noexcept { sem_.close(); }

    /// Awaiter of acquire()/acquire_many(): a leaf whose node is the waiter in the queue.
    class [[nodiscard]] acquire_operation : public leaf_awaiter<acquire_operation> {
    public:
        /// Made by acquire() or acquire_many(); not called directly.
        acquire_operation(semaphore* s, std::size_t n) noexcept : sem_(s), acq_(&s->sem_, n) {}
        acquire_operation(const acquire_operation&) = delete;
        acquire_operation& operator=(const acquire_operation&) = delete;
        ~acquire_operation() override { cancel(); }
        /// What the pending operation waits for, in words, for runtime::dump() (corio/runtime/dump.hpp).
        void describe(std::string& out) const override {
            fmt::format_to(std::back_inserter(out), "acquire on semaphore ({} permits available)",
                           sem_->available_permits());
        }

        /// Takes the permits if enough are free and nobody is queued ahead; else queues (FIFO) with
        /// the task's waker.
        bool poll(context& cx) noexcept override {
            if (!cx.poll_budget()) return false;
            switch (acq_.poll(cx.waker())) {
                case ::corio::detail::batch_semaphore::poll_result::pending: return false;
                case ::corio::detail::batch_semaphore::poll_result::acquired: ok_ = true; return true;
                case ::corio::detail::batch_semaphore::poll_result::closed: ok_ = false; return true;
            }
            return false;
        }
        /// Leaves the queue, giving back the permits assigned since the last poll; a no-op after
        /// a ready poll (the acquirer is idle then).
        void cancel() noexcept override { acq_.cancel(); }
        /// The permits, or acquire_error::closed if the semaphore was closed first.
        result<semaphore_permit, acquire_error> await_resume() noexcept {
            if (!ok_) return unexpected(acquire_error::closed);
            return semaphore_permit(sem_, acq_.requested());
        }

    private:
        semaphore* sem_;
        ::corio::detail::batch_semaphore::acquirer acq_;
        bool ok_ = false;
    };

    /// Awaiter of acquire_owned(): as acquire_operation, with a permit that owns the semaphore.
    class [[nodiscard]] acquire_owned_operation : public leaf_awaiter<acquire_owned_operation> {
    public:
        /// Made by acquire_owned() or acquire_many_owned(); not called directly.
        acquire_owned_operation(std::shared_ptr<semaphore> s, std::size_t n) noexcept
            : sem_(std::move(s)), acq_(&sem_->sem_, n) {}
        acquire_owned_operation(const acquire_owned_operation&) = delete;
        acquire_owned_operation& operator=(const acquire_owned_operation&) = delete;
        ~acquire_owned_operation() override { cancel(); }

        /// As acquire_operation::poll.
        bool poll(context& cx) noexcept override {
            if (!cx.poll_budget()) return false;
            switch (acq_.poll(cx.waker())) {
                case ::corio::detail::batch_semaphore::poll_result::pending: return false;
                case ::corio::detail::batch_semaphore::poll_result::acquired: ok_ = true; return true;
                case ::corio::detail::batch_semaphore::poll_result::closed: ok_ = false; return true;
            }
            return false;
        }
        /// As acquire_operation::cancel().
        void cancel() noexcept override { acq_.cancel(); }
        /// The owned permits, or acquire_error::closed.
        result<owned_semaphore_permit, acquire_error> await_resume() noexcept {
            if (!ok_) return unexpected(acquire_error::closed);
            return owned_semaphore_permit(sem_, acq_.requested());
        }

    private:
        std::shared_ptr<semaphore> sem_;  // declared before acq_: the node is destroyed first
        ::corio::detail::batch_semaphore::acquirer acq_;
        bool ok_ = false;
    };

    /// `co_await sem.acquire()` yields one permit, or acquire_error::closed.
    acquire_operation acquire() noexcept { return acquire_operation(this, 1); }
    /// `co_await sem.acquire_many(n)` yields n permits at once. Precondition: n <= max_permits.
    acquire_operation acquire_many(std::size_t n) noexcept { return acquire_operation(this, n); }

    /// `co_await semaphore::acquire_owned(s)`: one permit that keeps `s` alive (for a permit that
    /// moves into a spawned task).
    static acquire_owned_operation acquire_owned(std::shared_ptr<semaphore> s) noexcept {
        return acquire_owned_operation(std::move(s), 1);
    }
    /// `co_await semaphore::acquire_many_owned(s, n)`: n permits that keep `s` alive.
    static acquire_owned_operation acquire_many_owned(std::shared_ptr<semaphore> s, std::size_t n) noexcept {
        return acquire_owned_operation(std::move(s), n);
    }

    /// Never waits: one permit if it is free now and nobody is queued, else
    /// try_acquire_error::no_permits or try_acquire_error::closed.
    result<semaphore_permit, try_acquire_error> try_acquire() noexcept { return try_acquire_many(1); }
    /// Never waits: n permits at once, or an error as try_acquire().
    result<semaphore_permit, try_acquire_error> try_acquire_many(std::size_t n) noexcept {
        switch (sem_.try_acquire(n)) {
            case ::corio::detail::batch_semaphore::try_result::acquired: return semaphore_permit(this, n);
            case ::corio::detail::batch_semaphore::try_result::closed: return unexpected(try_acquire_error::closed);
            default: return unexpected(try_acquire_error::no_permits);
        }
    }
    /// Never waits: n owned permits (keeping `s` alive), or an error as try_acquire().
    static result<owned_semaphore_permit, try_acquire_error> try_acquire_owned(std::shared_ptr<semaphore> s,
                                                                              std::size_t n = 1) noexcept {
        switch (s->sem_.try_acquire(n)) {
            case ::corio::detail::batch_semaphore::try_result::acquired: return owned_semaphore_permit(std::move(s), n);
            case ::corio::detail::batch_semaphore::try_result::closed: return unexpected(try_acquire_error::closed);
            default: return unexpected(try_acquire_error::no_permits);
        }
    }

    /// Blocking twin of acquire_many, for plain threads (not on a runtime worker).
    result<semaphore_permit, acquire_error> blocking_acquire(std::size_t n = 1) {
        acquire_operation op(this, n);
        ::corio::detail::blocking_poll(op);
        return op.await_resume();
    }

private:
    ::corio::detail::batch_semaphore sem_;
};

inline void semaphore_permit::release() noexcept {
    if (auto* s = std::exchange(sem_, nullptr)) s->add_permits(std::exchange(n_, 0));
}
inline void owned_semaphore_permit::release() noexcept {
    if (sem_) {
        sem_->add_permits(std::exchange(n_, 0));
        sem_.reset();
    }
}

}  // namespace corio::sync

template <>
struct fmt::formatter<corio::sync::acquire_error> : fmt::formatter<std::string_view> {
    template <class FormatContext>
    auto format(corio::sync::acquire_error e, FormatContext& ctx) const {
        return fmt::formatter<std::string_view>::format(to_string(e), ctx);
    }
};

template <>
struct fmt::formatter<corio::sync::try_acquire_error> : fmt::formatter<std::string_view> {
    template <class FormatContext>
    auto format(corio::sync::try_acquire_error e, FormatContext& ctx) const {
        return fmt::formatter<std::string_view>::format(to_string(e), ctx);
    }
};
