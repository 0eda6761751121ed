// corio/runtime/detail/atomic_waker.hpp — one waker slot that one side registers and any number
// of threads wake, without a lock (Tokio's sync/task/atomic_waker.rs). Used by the mpsc receiver
// (every send wakes it) and by the io reactor (an io_uring op cell's completion, a registered
// descriptor's reader and writer readiness).
//
// Protocol for the registering side: register, then re-check the condition (never
// check-then-register): a wake that lands between the check and the register is then either
// seen by the re-check or wakes the new waker.
#pragma once

#include <corio/runtime/detail/sync_primitives.hpp>
#include <corio/runtime/waker.hpp>

#include <cstdint>
#include <utility>

namespace corio::detail {

class atomic_waker {
public:
    // state_ — who may touch waker_.
    // Bits:     registering (0): the registering side owns waker_ (it is replacing it).
    //           waking (1):      a waker owns waker_ (it is taking it out).
    // Values:   0 (waiting): nobody touches waker_; either side may claim it with an RMW.
    // Access:   waker_ belongs to whoever moved state_ from waiting to registering or waking.
    //           One registering side at a time (the mpsc receiver; the task that owns an io op
    //           or stream half); wakers may be many.
    // Ordering: claims are acquire, hand-backs release, so each owner of waker_ sees the previous
    //           owner's writes. The waking side's fetch_or is acq_rel: its release publishes what
    //           the waker wrote before waking (a slot's ready bit, an op's result, a readiness
    //           count) to a registration that follows it; a registration that precedes it is
    //           caught by the failing CAS below and wakes itself.
    // Seam:     state_ is a detail::atomic (sync_primitives.hpp), model-checked by tests/model.
    static constexpr std::uint32_t waiting = 0;
    static constexpr std::uint32_t registering = 1;
    static constexpr std::uint32_t waking = 2;

    /// Stores `w` (a clone, unless the slot already wakes the same task). If a wake raced with
    /// the registration, `w` is woken at once.
    void register_by_ref(waker_ref w) noexcept {
        std::uint32_t cur = waiting;
        if (state_.compare_exchange_strong(cur, registering, std::memory_order_acq_rel, std::memory_order_acquire)) {
            waker old;
            if (!waker_.will_wake(w)) old = std::exchange(waker_, w.clone());
            cur = registering;
            if (state_.compare_exchange_strong(cur, waiting, std::memory_order_acq_rel, std::memory_order_acquire))
                return;
            // A wake arrived while we held the slot (state is registering|waking): it could not
            // take the waker, so we wake on its behalf and hand the slot back.
            waker mine = std::move(waker_);
            state_.exchange(waiting, std::memory_order_acq_rel);
            if (mine) std::move(mine).wake();
            return;
        }
        if (cur == waking) {
            // A wake is in progress and may have missed the new registration.
            w.wake_by_ref();
        }
        // registering: impossible with one registering side at a time.
    }

    /// Wakes the registered waker, if any (it is taken out: the next wait registers again).
    void wake() noexcept {
        if (waker w = take_waker()) std::move(w).wake();
    }

    waker take_waker() noexcept {
        if (state_.fetch_or(waking, std::memory_order_acq_rel) == waiting) {
            waker w = std::move(waker_);
            state_.fetch_and(~waking, std::memory_order_release);
            return w;
        }
        return {};
    }

    /// Drops a registered waker (teardown, single-threaded by then).
    void reset() noexcept { waker_.reset(); }

private:
    detail::atomic<std::uint32_t> state_{waiting};
    waker waker_;  // access: state_
};

}  // namespace corio::detail
