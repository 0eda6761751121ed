// parker: how a worker sleeps without losing a wake-up (Tokio's park.rs).
//
// State:   empty -> parked (the worker, before blocking in the driver) -> empty (after);
//          any -> notified (unpark, from any thread) -> empty (the worker consumes it).
// Rules:   unpark() calls the driver's unpark (a syscall) only when it found `parked`: waking a
//          worker that is running or spinning costs one atomic exchange.
// Ordering: seq_cst, so "push task; unpark" and "set parked; check queues" cannot both miss.
// Spinning: before blocking, the worker spins ~5 µs waiting for `notified`. Blocking and being
//          woken across vCPUs costs ~23 µs here (docs/design/platform.md), so a short spin catches most
//          hand-offs at the price of a cache-line transfer. Not right after a search spin
//          (worker::spin_for_work), nor while io is in flight (driver::io_pending: the spin
//          would not see a completion).
#pragma once

#include "futex.hpp"

#include <corio/runtime/detail/driver.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>

namespace corio::detail {

// The default driver: a futex word.
class thread_driver final : public driver {
public:
    void park(std::optional<std::chrono::nanoseconds> timeout) override {
        if (token_.exchange(0, std::memory_order_acquire) != 0) return;
        if (timeout && timeout->count() == 0) return;
        futex_wait(token_, 0, timeout);
        token_.store(0, std::memory_order_relaxed);
    }
    void unpark() noexcept override {
        token_.store(1, std::memory_order_release);
        futex_wake(token_, 1);
    }

private:
    std::atomic<std::uint32_t> token_{0};
};

class parker {
public:
    explicit parker(std::unique_ptr<driver> d) : driver_(std::move(d)) {}

    // spin: wait ~5 µs for a notification before blocking (a worker that spun searching already
    // did; see worker::spin_for_work).
    void park(std::optional<std::chrono::nanoseconds> timeout = std::nullopt, bool spin = true) {
        std::uint32_t s = notified;
        if (state_.compare_exchange_strong(s, empty, std::memory_order_seq_cst)) return;
        if (spin && (!timeout || timeout->count() > 0) && !driver_->io_pending()) {
            for (int i = 0; i < spin_iterations; ++i) {
                if (state_.load(std::memory_order_relaxed) == notified) {
                    state_.exchange(empty, std::memory_order_seq_cst);
                    return;
                }
                cpu_relax();
            }
        }
        s = empty;
        if (!state_.compare_exchange_strong(s, parked, std::memory_order_seq_cst)) {
            state_.exchange(empty, std::memory_order_seq_cst);  // it was notified
            return;
        }
        driver_->park(timeout);
        state_.exchange(empty, std::memory_order_seq_cst);
    }

    void unpark() noexcept {
        if (state_.exchange(notified, std::memory_order_seq_cst) == parked) driver_->unpark();
    }

    driver& get_driver() noexcept { return *driver_; }

private:
    static constexpr std::uint32_t empty = 0, parked = 1, notified = 2;
    static constexpr int spin_iterations = 200;
    std::atomic<std::uint32_t> state_{empty};
    std::unique_ptr<driver> driver_;
};

}  // namespace corio::detail
