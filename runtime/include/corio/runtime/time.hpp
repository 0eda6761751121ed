// corio/runtime/time.hpp — sleep, interval, timeout, and a pausable clock (Tokio's tokio::time).
//
//     co_await corio::sleep(10ms);                           // at least 10 ms later
//     auto r = co_await corio::timeout(100ms, rx.recv());    // result<R, time::elapsed<>>
//     auto iv = corio::interval(1s);                         // first tick completes at once
//     for (;;) { time::instant t = co_await iv.tick(); ... }
//
// Clock: time::instant is a std::chrono::steady_clock time point; time::now() is the runtime's
//   clock (steady_clock, or the frozen virtual clock while paused). Deadlines are rounded up to
//   the next 1 ms tick of the runtime's timer wheel, so a sleep never ends early; it typically ends
//   within ~0.1 ms after that tick on an idle runtime (docs/time.md has measured lateness).
// Paused clock (tests): runtime_options::start_paused, or time::pause() inside the runtime. While
//   paused, time moves only by co_await time::advance(d), or by auto-advance: when every worker is
//   idle, the clock jumps to the next timer. Use worker_threads = 1 (or current_thread) for
//   deterministic order.
// Cancel safety: awaiting a sleep, a tick or a timeout is cancel safe. A sleep_operation cancelled
//   or destroyed while registered unlinks itself from the wheel (on whichever worker does it).
//   timeout (corio/runtime/timeout.hpp) cancels its inner operation before it returns.
// Thread safety: a sleep or interval is used by one task at a time; it may move between workers
//   with its task, and may be fired by any worker. Precondition: a registered sleep does not
//   outlive its runtime.
// Resumption: timers are fired by the worker that parks on the next deadline, or by a busy
//   worker's maintenance tick; the woken task runs on its runtime as usual.
#pragma once

#include <corio/result.hpp>
#include <corio/runtime/detail/timer_entry.hpp>
#include <corio/runtime/leaf.hpp>
#include <corio/runtime/runtime.hpp>
#include <corio/runtime/task.hpp>
#include <corio/runtime/yield_now.hpp>

#include <fmt/format.h>

#include <cassert>
#include <chrono>
#include <concepts>
#include <exception>
#include <iterator>
#include <new>
#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>

namespace corio::time {

/// The clock corio's timers follow: std::chrono::steady_clock, as seen through the runtime (which a
/// paused test moves by hand or automatically).
using clock = std::chrono::steady_clock;
/// A point on the runtime's clock.
using instant = clock::time_point;

}  // namespace corio::time

namespace corio::detail {
class time_handle;
// The time handle of the runtime whose worker is calling, or null.
time_handle* current_time_handle() noexcept;
time::instant time_now(time_handle* h) noexcept;  // steady_clock::now() when h is null
// Out-of-line parts of sleep_operation (runtime/src/time/time_driver.cpp). `h` is resolved to the
// calling worker's runtime if null; polling a sleep outside a runtime aborts.
// check_clock = false: the caller knows the deadline was at least a tick away when it was set,
// so the first poll skips the clock read (the wheel still never fires it early).
bool timer_poll(time_handle*& h, timer_entry& e, time::instant deadline, waker_ref w, bool check_clock) noexcept;
void timer_cancel(time_handle* h, timer_entry& e) noexcept;
void timer_reset(time_handle* h, timer_entry& e, time::instant deadline) noexcept;
void time_pause();
void time_resume();
void time_advance(std::chrono::nanoseconds d);

// now + d without overflow; durations beyond ~100 years are clamped (a practical "never").
template <class Rep, class Period>
time::instant deadline_after(time::instant now, std::chrono::duration<Rep, Period> d) noexcept {
    using namespace std::chrono;
    constexpr double max_secs = 100.0 * 365 * 24 * 3600;
    const double secs = duration<double>(d).count();
    if (!(secs > 0)) return now;
    if (secs >= max_secs) return now + duration_cast<time::clock::duration>(seconds(static_cast<long long>(max_secs)));
    return now + duration_cast<time::clock::duration>(d);
}
}  // namespace corio::detail

namespace corio::time {

/// The runtime's clock when called on a runtime worker (paused-aware), else steady_clock::now().
inline instant now() noexcept { return detail::time_now(detail::current_time_handle()); }

/// A future point in time: waits until `deadline`, then is ready (and stays ready) — Tokio's Sleep.
/// Awaitable any number of times; reset() moves the deadline (and re-arms an elapsed sleep).
/// Not copyable; movable only before its first poll.
class [[nodiscard]] sleep_operation final : public leaf_awaiter<sleep_operation> {
public:
    /// A sleep until `deadline` on the current runtime's timer wheel (sleep_until() makes one).
    explicit sleep_operation(instant deadline) noexcept
        : handle_(detail::current_time_handle()), deadline_(deadline) {}
    /// A sleep on the wheel of `h` (the current runtime's if null). `check_clock` false: the caller
    /// knows the deadline was at least a tick away when set, so the first poll skips the clock read.
    sleep_operation(detail::time_handle* h, instant deadline, bool check_clock = true) noexcept
        : handle_(h), deadline_(deadline), check_clock_(check_clock) {}
    /// Movable only before its first poll (the sleep is then linked into the timer wheel).
    sleep_operation(sleep_operation&& o) noexcept : handle_(o.handle_), deadline_(o.deadline_), check_clock_(o.check_clock_) {
        assert(!o.entry_.registered_ && "a sleep_operation is pinned once polled");
        entry_.fired_.store(o.entry_.fired_.load(std::memory_order_relaxed), std::memory_order_relaxed);
    }
    sleep_operation(const sleep_operation&) = delete;
    sleep_operation& operator=(const sleep_operation&) = delete;
    ~sleep_operation() { cancel(); }

    /// Unlinks a registered sleep from the wheel (its waker is dropped); the deadline stays, and
    /// a later poll registers again. An elapsed sleep stays elapsed.
    void cancel() noexcept override {
        // Acquire: seeing fired means the firer is done with the entry (timer_entry.hpp).
        if (entry_.registered_ && !entry_.fired_.load(std::memory_order_acquire)) detail::timer_cancel(handle_, entry_);
    }

    /// Ready once the deadline has passed (using a unit of the cooperative budget); else registers
    /// the task's waker in the timer wheel.
    bool poll(context& cx) noexcept override {
        if (!poll_deadline(cx)) return false;
        return cx.poll_budget();
    }
    /// Nothing: completing is the event.
    void await_resume() const noexcept {}

    /// The deadline reached or not, registering `cx`'s waker; ignores the coop budget (timeout
    /// polls its deadline even when the inner operation used the budget up, as Tokio does).
    bool poll_deadline(context& cx) noexcept {
        if (entry_.fired_.load(std::memory_order_acquire)) return true;
        if (entry_.registered_ && entry_.waker_data_ == cx.waker().data() && entry_.waker_vt_ == cx.waker().vtable())
            return false;  // registered with this waker: a spurious or early poll
        return detail::timer_poll(handle_, entry_, deadline_, cx.waker(), check_clock_);
    }

    /// The instant this sleep completes at.
    instant deadline() const noexcept { return deadline_; }

    /// "sleep, 2.4s to go" (or overdue, if the timer is late to fire).
    void describe(std::string& out) const override { describe_deadline("sleep", out); }
    /// Appends "<what>, 2.4s to go" (or elapsed, or overdue), against the runtime's clock
    /// (paused-aware); timeout's describe() uses it.
    void describe_deadline(std::string_view what, std::string& out) const {
        const auto left = deadline_ - detail::time_now(handle_);
        out += what;
        if (is_elapsed()) out += ", elapsed";
        else if (left.count() >= 0) fmt::format_to(std::back_inserter(out), ", {} to go", readable(left));
        else fmt::format_to(std::back_inserter(out), ", {} overdue (fires at the next timer tick)", readable(-left));
    }

    /// True once the sleep has completed (fired), until the next reset().
    bool is_elapsed() const noexcept { return entry_.fired_.load(std::memory_order_acquire); }

    /// Moves the deadline; a registered sleep moves in the wheel at once (keeping its waker), an
    /// elapsed one is re-armed. Owner side: not while another task polls it.
    void reset(instant deadline) noexcept {
        deadline_ = deadline;
        check_clock_ = true;
        if (entry_.registered_ || entry_.fired_.load(std::memory_order_relaxed)) detail::timer_reset(handle_, entry_, deadline);
    }

private:
    detail::time_handle* handle_;
    instant deadline_;
    bool check_clock_ = true;
    detail::timer_entry entry_;
};

/// What interval ticks do after falling behind by more than 5 ms (Tokio's MissedTickBehavior).
enum class missed_tick_behavior {
    burst,  // fire the missed ticks as fast as possible, then keep the original schedule
    delay,  // the next tick is one period after the late one completed; the schedule shifts
    skip,   // drop the missed ticks; the next one is on the original schedule's grid
};

/// Ticks every `period` (Tokio's Interval). The first tick completes at `start`.
class interval_timer {
public:
    /// A timer whose first tick completes at `start`, then every `period` after it.
    interval_timer(instant start, std::chrono::nanoseconds period) noexcept : delay_(start), period_(period) {
        assert(period.count() > 0 && "interval period must be non-zero");
    }
    interval_timer(const interval_timer&) = delete;
    interval_timer& operator=(const interval_timer&) = delete;

    /// What tick() returns: `co_await` yields the instant the tick was scheduled for.
    class [[nodiscard]] tick_operation : public leaf_awaiter<tick_operation> {
    public:
        /// Made by tick(); not called directly.
        explicit tick_operation(interval_timer* it) noexcept : it_(it) {}
        /// Ready once the next tick is due (following the missed-tick behaviour); else registers
        /// the task's waker in the timer wheel.
        bool poll(context& cx) noexcept override { return it_->poll_tick(cx, out_); }
        /// Unregisters the interval's timer; the schedule is kept, so no tick is lost.
        void cancel() noexcept override { it_->cancel_tick(); }
        /// What the pending operation waits for, in words, for runtime::dump() (corio/runtime/dump.hpp).
        void describe(std::string& out) const override {
            fmt::format_to(std::back_inserter(out), "interval tick (period {})", readable(it_->period()));
        }
        /// The instant the tick was scheduled for (not when it completed).
        instant await_resume() const noexcept { return out_; }

    private:
        interval_timer* it_;
        instant out_{};
    };

    /// Completes at the next tick. Cancel safe: a tick abandoned before completing is not lost.
    tick_operation tick() noexcept { return tick_operation(this); }
    /// A pending tick is abandoned: its timer leaves the wheel; the next tick() resumes the schedule.
    void cancel_tick() noexcept { delay_.cancel(); }

    /// Restarts the schedule: the next tick is one period from now.
    void reset() noexcept { delay_.reset(detail::deadline_after(now(), period_)); }
    /// The next tick completes at once.
    void reset_immediately() noexcept { delay_.reset(now()); }
    /// The next tick completes at `t`; later ticks follow from there.
    void reset_at(instant t) noexcept { delay_.reset(t); }

    /// What the interval does after falling behind (burst by default).
    missed_tick_behavior behavior() const noexcept { return behavior_; }
    /// Sets what the interval does after falling behind.
    void set_missed_tick_behavior(missed_tick_behavior b) noexcept { behavior_ = b; }
    /// The interval between ticks.
    std::chrono::nanoseconds period() const noexcept { return period_; }

    /// Used by tick_operation and interval_stream; not called directly. Ready (with the tick's
    /// scheduled instant in `out`) once the next tick is due.
    bool poll_tick(context& cx, instant& out) noexcept {
        if (!delay_.poll(cx)) return false;
        const instant timeout = delay_.deadline();
        const instant n = now();
        instant next;
        if (n > timeout + std::chrono::milliseconds(5)) {
            switch (behavior_) {
                case missed_tick_behavior::burst: next = timeout + period_; break;
                case missed_tick_behavior::delay: next = n + period_; break;
                case missed_tick_behavior::skip:
                default: next = n + period_ - (n - timeout) % period_; break;
            }
        } else {
            next = timeout + period_;
        }
        delay_.reset(next);
        out = timeout;
        return true;
    }

private:
    sleep_operation delay_;
    std::chrono::nanoseconds period_;
    missed_tick_behavior behavior_ = missed_tick_behavior::burst;
};

/// The error of a timeout whose deadline won. elapsed<> carries nothing; elapsed<V> carries what
/// the cancelled inner operation handed back (a pending send's value). Every elapsed<V> is an
/// elapsed<>, so `catch (const corio::time::elapsed<>&)` catches all of them.
template <class V = void>
class elapsed;

/// The error of a timeout that carries nothing back; the base of every elapsed<V>, so `catch (const
/// corio::time::elapsed<>&)` catches them all.
template <>
class elapsed<void> : public std::exception {
public:
    /// "deadline has elapsed" (Tokio's Elapsed).
    const char* what() const noexcept override { return "deadline has elapsed"; }
    /// Throws the error: what result<T, elapsed<>>::value() does when the deadline won.
    [[noreturn]] void throw_as_exception() const { throw elapsed<void>{}; }
};

template <class V>
class elapsed : public elapsed<void> {
public:
    /// The error, carrying `v`: what the cancelled inner operation handed back (a pending send's
    /// value).
    explicit elapsed(V v) noexcept(std::is_nothrow_move_constructible_v<V>) : value_(std::move(v)) {}
    /// What the inner operation handed back.
    V& value() & noexcept { return value_; }
    /// What the inner operation handed back, moved out.
    V&& value() && noexcept { return std::move(value_); }
    /// What the inner operation handed back.
    const V& value() const& noexcept { return value_; }

private:
    V value_;
};

}  // namespace corio::time

// fmt: every elapsed<V> reads "deadline has elapsed" (Tokio's Elapsed); the value it carries is
// the caller's to print.
template <class V>
struct fmt::formatter<corio::time::elapsed<V>> : fmt::formatter<std::string_view> {
    template <class FormatContext>
    auto format(const corio::time::elapsed<V>& e, FormatContext& ctx) const {
        return fmt::formatter<std::string_view>::format(e.what(), ctx);
    }
};

namespace corio {

/// Completes at `deadline` (at once if it has passed).
inline time::sleep_operation sleep_until(time::instant deadline) noexcept { return time::sleep_operation(deadline); }

/// Completes `d` from now on the runtime's clock.
template <class Rep, class Period>
time::sleep_operation sleep(std::chrono::duration<Rep, Period> d) noexcept {
    detail::time_handle* h = detail::current_time_handle();
    return time::sleep_operation(h, detail::deadline_after(detail::time_now(h), d), d < std::chrono::milliseconds(1));
}

/// Ticks at `start`, start + period, ... (burst by default).
inline time::interval_timer interval_at(time::instant start, std::chrono::nanoseconds period) noexcept {
    return time::interval_timer(start, period);
}
/// Ticks now, then every `period`.
inline time::interval_timer interval(std::chrono::nanoseconds period) noexcept { return interval_at(time::now(), period); }

}  // namespace corio

namespace corio::time {

/// Freezes the clock of the calling worker's runtime (Tokio's time::pause). Throws
/// std::logic_error outside a runtime or if already paused.
inline void pause() { detail::time_pause(); }
/// Lets the clock run again from where it stood. Throws std::logic_error if not paused.
inline void resume() { detail::time_resume(); }
/// Moves the paused clock forward by `d`, fires what is due, and yields so that the woken tasks
/// run first. Throws std::logic_error if the clock is not paused.
inline task<void> advance(std::chrono::nanoseconds d) {
    detail::time_advance(d);
    co_await yield_now();
}

}  // namespace corio::time

// timeout() and timeout_at() are part of the time API (Tokio's tokio::time::timeout).
#include <corio/runtime/timeout.hpp>
