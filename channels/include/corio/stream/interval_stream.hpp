/// \file
/// corio/stream/interval_stream.hpp — interval ticks as a stream (tokio-stream's IntervalStream).
///
///     auto ticks = corio::stream::interval(100ms);             // first tick at once
///     while (auto t = co_await ticks.next()) refresh(*t);      // t: the tick's scheduled instant
///
/// Yields the scheduled instant of each tick of a time::interval_timer; never ends (combine it with
/// take or take_until to stop). Missed ticks follow the timer's missed_tick_behavior (burst by
/// default; set_missed_tick_behavior changes it).
/// Cancel safety: cancel safe: a tick that had not completed when its next() was cancelled is
///   yielded by the next next(); cancel_next takes the timer out of the wheel (the schedule stays).
/// Movable only before its first poll (the timer is then registered in the wheel), like
///   time::sleep_operation; that is enough to hand it to a combinator by value.
/// Allocation: none.
/// Precondition: polled on a runtime worker (timers need the runtime).
#pragma once

#include <corio/runtime/time.hpp>
#include <corio/stream/stream.hpp>

#include <cassert>
#include <chrono>
#include <optional>

namespace corio::stream {

/// The stream interval(period) returns: the scheduled instant of each tick of a
/// time::interval_timer; never ends. Cancel safe: a tick not yet taken is yielded by the next
/// next().
class interval_stream : public stream_base<interval_stream> {
public:
    /// The tick's scheduled instant.
    using item_type = time::instant;

    /// Ticks at `start`, then every `period`.
    interval_stream(time::instant start, std::chrono::nanoseconds period) noexcept
        : start_(start), period_(period), timer_(start, period) {}
    /// Movable only before its first poll (the timer is then registered in the wheel).
    interval_stream(interval_stream&& o) noexcept : start_(o.start_), period_(o.period_), timer_(o.start_, o.period_) {
        assert(!o.polled_ && "interval_stream: moved after its first poll");
        timer_.set_missed_tick_behavior(o.timer_.behavior());
    }
    interval_stream& operator=(interval_stream&&) = delete;

    /// Ready with the tick's scheduled instant once it is due; else registers the timer in the
    /// wheel.
    bool poll_next(context& cx, std::optional<time::instant>& out) noexcept {
        polled_ = true;
        time::instant t{};
        if (!timer_.poll_tick(cx, t)) return false;
        out.emplace(t);
        return true;
    }

    /// Takes the timer out of the wheel; the schedule stays.
    void cancel_next() noexcept { timer_.cancel_tick(); }

    /// How missed ticks are made up (burst by default): see time::missed_tick_behavior.
    void set_missed_tick_behavior(time::missed_tick_behavior b) noexcept { timer_.set_missed_tick_behavior(b); }
    /// The underlying timer (reset, reset_at, period). Its schedule is not carried by a move.
    time::interval_timer& timer() noexcept { return timer_; }

private:
    time::instant start_;
    std::chrono::nanoseconds period_;
    time::interval_timer timer_;
    bool polled_ = false;
};

/// Ticks now, then every `period` (on the runtime's clock; call it on a worker for the paused one).
inline interval_stream interval(std::chrono::nanoseconds period) noexcept { return interval_stream(time::now(), period); }
/// Ticks at `start`, start + period, ...
inline interval_stream interval_at(time::instant start, std::chrono::nanoseconds period) noexcept {
    return interval_stream(start, period);
}

}  // namespace corio::stream
