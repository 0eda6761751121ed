// runtime_stress_support.hpp — what the runtime stress tests share: a frame-destruction counter
// (a guard passed by value into a coroutine's frame counts that frame's destruction, whether or
// not it ever ran) and a wait without a time bound of its own (the hang_guard has one).
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <thread>
#include <utility>
#include <vector>

namespace corio::testing {

// Waits (without a time bound of its own: the hang_guard has one) until `pred` holds.
template <class Pred>
inline void wait_until(Pred pred) {
    while (!pred()) std::this_thread::yield();
}

// Counts frame destructions. Passed by value as a coroutine parameter it lives in the frame, so it
// also counts frames that were destroyed before they ever ran.
struct frame_counters {
    explicit frame_counters(std::size_t n) : per_id(n) {}
    std::atomic<std::size_t> created{0};
    std::atomic<std::size_t> destroyed{0};
    std::vector<std::atomic<std::uint32_t>> per_id;  // destructions of the frame of task `id`
};

class frame_guard {
public:
    frame_guard(frame_counters* c, std::size_t id) noexcept : c_(c), id_(id) {
        c_->created.fetch_add(1, std::memory_order_relaxed);
    }
    frame_guard(frame_guard&& o) noexcept : c_(std::exchange(o.c_, nullptr)), id_(o.id_) {}
    frame_guard& operator=(frame_guard&&) = delete;
    ~frame_guard() {
        if (!c_) return;
        c_->per_id[id_].fetch_add(1, std::memory_order_relaxed);
        c_->destroyed.fetch_add(1, std::memory_order_acq_rel);
    }

private:
    frame_counters* c_;
    std::size_t id_;
};

inline void expect_each_frame_destroyed_once(const frame_counters& c, std::size_t n) {
    EXPECT_EQ(c.created.load(), n);
    EXPECT_EQ(c.destroyed.load(), n);
    std::size_t bad = 0;
    for (std::size_t i = 0; i < n; ++i) bad += c.per_id[i].load() != 1;
    EXPECT_EQ(bad, 0u) << "frames not destroyed exactly once";
}

}  // namespace corio::testing
