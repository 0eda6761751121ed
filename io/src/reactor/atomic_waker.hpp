// atomic_waker: one waker slot that one side registers and any thread wakes, without a lock
// (Tokio's sync/task/atomic_waker.rs). The io reactor keeps one per op cell (uring) and two per
// registered descriptor (epoll: reader, writer). Same protocol as the mpsc receiver's slot
// (channels/include/corio/channels/mpsc/detail/atomic_waker.hpp), which io cannot depend on.
//
// Protocol for the registering side: register, then re-check the condition (never
// check-then-register): a wake that lands between the check and the register is then either
// seen by the re-check or wakes the new waker.
#pragma once

#include <corio/runtime/waker.hpp>

#include <atomic>
#include <cstdint>
#include <utility>

namespace corio::detail::io {

class atomic_waker {
public:
    // state_ — who may touch waker_.
    // Bits:     registering (0): the registering side owns waker_ (it is replacing it).
    //           waking (1):      a waker owns waker_ (it is taking it out).
    // Values:   0 (waiting): nobody touches waker_; either side may claim it with an RMW.
    // Access:   waker_ belongs to whoever moved state_ from waiting to registering or waking.
    //           One registering side at a time (the task that owns the op / half).
    // Ordering: claims acquire, hand-backs release; the waking side's fetch_or is acq_rel so its
    //           release publishes the completion (op result, readiness) to a later registration.
    static constexpr std::uint32_t waiting = 0;
    static constexpr std::uint32_t registering = 1;
    static constexpr std::uint32_t waking = 2;

    void register_by_ref(waker_ref w) noexcept {
        std::uint32_t cur = waiting;
        if (state_.compare_exchange_strong(cur, registering, std::memory_order_acq_rel, std::memory_order_acquire)) {
            waker old;
            if (!waker_.will_wake(w)) old = std::exchange(waker_, w.clone());
            cur = registering;
            if (state_.compare_exchange_strong(cur, waiting, std::memory_order_acq_rel, std::memory_order_acquire))
                return;
            // A wake arrived while we held the slot: wake on its behalf and hand the slot back.
            waker mine = std::move(waker_);
            state_.exchange(waiting, std::memory_order_acq_rel);
            if (mine) std::move(mine).wake();
            return;
        }
        if (cur == waking) w.wake_by_ref();  // a wake in progress may have missed us
    }

    void wake() noexcept {
        if (state_.fetch_or(waking, std::memory_order_acq_rel) == waiting) {
            waker w = std::move(waker_);
            state_.fetch_and(~waking, std::memory_order_release);
            if (w) std::move(w).wake();
        }
    }

    // Drops a registered waker (teardown, single-threaded by then).
    void reset() noexcept { waker_.reset(); }

private:
    std::atomic<std::uint32_t> state_{waiting};
    waker waker_;  // access: state_
};

}  // namespace corio::detail::io
