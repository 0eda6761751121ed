// time_driver: the runtime's clock and timer wheel, and the driver decorator that drives them
// where workers park (Tokio's runtime/time/{mod,handle,source}.rs, for a multi-thread runtime).
//
// One wheel per runtime, behind one mutex (docs/design/timer-wheel.md, "One wheel behind one mutex": a sharded wheel loses on 2 cores,
// tokio#7226). Every worker's parker owns a time_driver wrapping the futex thread_driver.
//
// Who sleeps on the next deadline (park protocol, all under mutex_):
//   1. A parking worker claims the holder role if nobody holds it; it records itself in holder_
//      and the tick it plans to wake at in next_wake_, then blocks in its inner driver with the
//      timeout to that tick. Other parking workers block without a timeout and list themselves in
//      waiting_.
//   2. Inserting a deadline earlier than next_wake_ unparks the holder, which re-plans. With no
//      holder, an insert unparks one waiting worker, which parks again and becomes the holder:
//      a timer is never left without a worker sleeping on it while workers sleep.
//   3. The holder, on waking, gives the role up and, if timers remain and another worker waits
//      without a timeout, unparks that one (3 and 2 together: no timer starves while the former
//      holder runs a long task).
//   4. The holder (and any worker waking from its driver) fires what is due: entries are taken
//      out of the wheel and their wakers moved out under the mutex; wakers are woken after
//      unlocking, in batches of 32.
// A busy worker fires due timers from its maintenance tick (park(0), every event_interval ticks),
// checking a lock-free hint of the earliest deadline first, so a saturated runtime still fires
// timers within ~61 task polls.
//
// Paused clock (Tokio's time::pause): now() = base + frozen while paused. When the holder finds
// every worker parked with no task queued anywhere (scheduler::is_quiescent) and no unpark
// arrived, it jumps the clock to the next deadline instead of sleeping (auto-advance). A
// spawn_blocking job queued or running holds auto-advance back (scheduler::can_auto_advance,
// Tokio's inhibit_auto_advance): the runtime waits for the job's outcome, not a timer. While some
// worker runs or a job is outstanding, the holder re-checks every millisecond of real time.
#pragma once

#include "../driver.hpp"
#include "wheel.hpp"

#include <corio/runtime/detail/timer_entry.hpp>
#include <corio/runtime/time.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace corio::detail {

class scheduler;
class time_driver;

class time_handle {
public:
    static constexpr std::uint64_t never = ~std::uint64_t{0};

    time_handle(bool start_paused, const scheduler* sched);
    time_handle(const time_handle&) = delete;
    time_handle& operator=(const time_handle&) = delete;

    // The runtime's clock: steady_clock, or the frozen virtual time while paused.
    time::instant now() const noexcept;

    // Entry operations (the owner's side; timer_entry.hpp has the rules).
    bool poll(timer_entry& e, time::instant deadline, waker_ref w, bool check_clock) noexcept;  // true: fired
    void cancel(timer_entry& e) noexcept;
    void reset(timer_entry& e, time::instant deadline) noexcept;

    // Fires every entry due at `now` (a tick), waking in batches outside the lock.
    void process(std::uint64_t now_tick) noexcept;
    void process_if_due() noexcept;

    void pause();
    void resume();
    void advance(std::chrono::nanoseconds d);
    bool is_paused() const noexcept { return paused_.load(std::memory_order_acquire); }
    // Timers in the wheel now (runtime::metrics()). Takes the lock.
    std::size_t armed_timers();

    std::uint64_t deadline_tick(time::instant t) const noexcept;  // rounded up
    std::uint64_t now_tick(time::instant t) const noexcept;       // rounded down
    time::instant tick_time(std::uint64_t tick) const noexcept;

private:
    friend class time_driver;
    void process_locked(std::unique_lock<std::mutex>& lock, std::uint64_t now_tick) noexcept;

    std::mutex mutex_;
    wheel wheel_;                          // guarded by mutex_
    bool holder_claimed_ = false;          // guarded by mutex_
    time_driver* holder_ = nullptr;        // guarded by mutex_: parked with a timeout
    std::uint64_t next_wake_ = never;      // guarded by mutex_: the tick holder_ wakes at
    std::vector<time_driver*> waiting_;    // guarded by mutex_: parked without a timeout
    // The earliest tick that may be due; relaxed: a hint for busy workers, stale only towards
    // "too early" (removals leave it) or briefly "too late" (an insert on another worker).
    std::atomic<std::uint64_t> next_expiration_hint_{never};
    // Firings whose entries left the wheel but whose wakers are not all woken yet (they are woken
    // after unlocking). Raised under mutex_; lowered, release, after the last wake; read under
    // mutex_ by the paused clock's auto-advance, which must not jump while a woken task is not
    // yet queued.
    std::atomic<std::uint32_t> wakes_in_flight_{0};

    const time::instant base_;  // tick 0
    std::atomic<bool> paused_;
    // Nanoseconds since base_: the frozen clock while paused; the offset added to steady_clock
    // after a resume(). Written only under mutex_.
    std::atomic<std::int64_t> frozen_ns_{0};
    std::atomic<std::int64_t> offset_ns_{0};
    const scheduler* sched_;  // asked whether the runtime is quiescent (auto-advance)
};

class time_driver final : public driver {
public:
    time_driver(time_handle& h, std::unique_ptr<driver> inner) : handle_(h), inner_(std::move(inner)) {}
    void shutdown() noexcept override { inner_->shutdown(); }
    bool io_pending() const noexcept override { return inner_->io_pending(); }

    void park(std::optional<std::chrono::nanoseconds> timeout) override;
    void unpark() noexcept override {
        // Release: pairs with the acq_rel exchange in park(): an unpark seen there means
        // "something woke us", so the paused clock must not auto-advance.
        woken_.store(true, std::memory_order_release);
        inner_->unpark();
    }

private:
    void park_as_holder(std::optional<std::chrono::nanoseconds> timeout, std::optional<std::uint64_t> next);

    time_handle& handle_;
    std::unique_ptr<driver> inner_;
    std::atomic<bool> woken_{false};
};

}  // namespace corio::detail
