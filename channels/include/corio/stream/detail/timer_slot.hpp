// corio/stream/detail/timer_slot.hpp — an optional deadline that a stream can carry through a move.
//
// A time::sleep_operation is pinned once polled (the timer wheel points at it). Streams with a
// deadline (chunks_timeout, throttle, timeout) keep theirs in a timer_slot instead, so they stay
// movable between polls: moving cancels the source's sleep (unlinking it from the wheel) and
// builds a new one with the same deadline, which fires at the same tick. A sleep that had fired
// is rebuilt with its past deadline and fires again at its first poll: nothing is lost.
#pragma once

#include <corio/runtime/time.hpp>
#include <corio/stream/detail/op_slot.hpp>

namespace corio::stream::detail {

class timer_slot {
public:
    timer_slot() noexcept = default;
    timer_slot(timer_slot&& o) noexcept {
        if (o.slot_) {
            const time::instant at = o.slot_->deadline();
            o.slot_.reset();
            set(at);
        }
    }
    timer_slot& operator=(timer_slot&&) = delete;

    /// Arms (or moves) the deadline to `at`.
    void set(time::instant at) noexcept {
        if (slot_) slot_->reset(at);  // moves a registered sleep, re-arms a fired one
        else slot_.emplace([at] { return time::sleep_operation(at); });
    }
    /// Disarms: a registered sleep leaves the wheel.
    void reset() noexcept { slot_.reset(); }
    /// Withdraws a registered sleep from the wheel (a stream's cancel_next), keeping the deadline:
    /// the sleep is rebuilt as by a move (its destructor withdraws it). A fired sleep is kept as
    /// it is (nothing of it is registered); an unarmed slot stays unarmed.
    void cancel() noexcept {
        if (!slot_ || slot_->is_elapsed()) return;
        const time::instant at = slot_->deadline();
        slot_.reset();
        set(at);
    }
    explicit operator bool() const noexcept { return static_cast<bool>(slot_); }

    /// Precondition: armed. True once the deadline has passed; otherwise cx's waker is registered.
    /// Ignores the cooperative budget, as corio::timeout does for its deadline.
    bool poll(context& cx) noexcept { return slot_->poll_deadline(cx); }

private:
    detail::op_slot<time::sleep_operation> slot_;
};

}  // namespace corio::stream::detail
