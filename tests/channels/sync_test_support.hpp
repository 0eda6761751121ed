// sync_test_support.hpp — what the sync primitive tests share: a waker that counts wakes and a
// context around it, for polling a leaf by hand (deterministic, no runtime), and a bounded wait
// for a condition another thread makes true (a hang bound, not a timing assertion).
#pragma once

#include <corio/runtime/leaf.hpp>
#include <corio/runtime/waker.hpp>

#include <atomic>
#include <chrono>
#include <thread>

namespace sync_testing {

using namespace std::chrono_literals;

// A waker that counts wakes, for polling leaves by hand (deterministic, no runtime).
struct counting_waker {
    std::atomic<int> wakes{0};
    static const void* clone(const void* d) noexcept { return d; }
    static void wake(const void* d) noexcept { static_cast<counting_waker*>(const_cast<void*>(d))->wakes++; }
    static void drop(const void*) noexcept {}
    static constexpr corio::waker_vtable vtable{&clone, &wake, &wake, &drop};
    corio::waker_ref ref() noexcept { return {this, &vtable}; }
};

struct manual_cx {
    counting_waker w;
    corio::context cx{w.ref(), nullptr};
};

template <class Pred>
inline bool eventually(Pred pred, std::chrono::milliseconds limit = 5000ms) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (!pred()) {
        if (std::chrono::steady_clock::now() > end) return false;
        std::this_thread::sleep_for(1ms);
    }
    return true;
}

}  // namespace sync_testing
