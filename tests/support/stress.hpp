// support/stress.hpp — what every stress test shares: the iteration scale and the hang guard.
//
// Iteration counts are `iterations(normal, tsan)`: the first in ordinary builds, the second under
// ThreadSanitizer (which runs ~10× slower), times CORIO_STRESS_SCALE (the environment variable,
// else the CMake cache value baked in as CORIO_STRESS_SCALE_DEFAULT). A hang_guard aborts the
// process with the test's counters if it has not finished in time: a lost wake-up must fail the
// test, not stall CI until the ctest timeout.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CORIO_STRESS_TSAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__) && !defined(CORIO_STRESS_TSAN)
#define CORIO_STRESS_TSAN 1
#endif
#ifndef CORIO_STRESS_TSAN
#define CORIO_STRESS_TSAN 0
#endif
#ifndef CORIO_STRESS_SCALE_DEFAULT
#define CORIO_STRESS_SCALE_DEFAULT 1.0
#endif

namespace corio::testing {

inline double stress_scale() {
    static const double s = [] {
        if (const char* e = std::getenv("CORIO_STRESS_SCALE")) {
            double v = std::strtod(e, nullptr);
            if (v > 0) return v;
        }
        return double(CORIO_STRESS_SCALE_DEFAULT);
    }();
    return s;
}

// `normal` iterations, or `tsan` under ThreadSanitizer, times the scale; at least 1.
inline std::size_t iterations(std::size_t normal, std::size_t tsan) {
    const double v = (CORIO_STRESS_TSAN ? double(tsan) : double(normal)) * stress_scale();
    return v < 1 ? 1 : static_cast<std::size_t>(v);
}

class hang_guard {
public:
    hang_guard(std::string name, std::function<std::string()> dump,
               std::chrono::seconds limit = std::chrono::seconds(240))
        : name_(std::move(name)), dump_(std::move(dump)), thread_([this, limit] { watch(limit); }) {}
    hang_guard(const hang_guard&) = delete;
    hang_guard& operator=(const hang_guard&) = delete;
    ~hang_guard() {
        {
            std::lock_guard lock(mutex_);
            done_ = true;
        }
        cv_.notify_all();
        thread_.join();
    }

private:
    void watch(std::chrono::seconds limit) {
        std::unique_lock lock(mutex_);
        if (cv_.wait_for(lock, limit, [this] { return done_; })) return;
        std::fprintf(stderr, "\nHANG: stress test %s did not finish within %llds; state: %s\n", name_.c_str(),
                     static_cast<long long>(limit.count()), dump_ ? dump_().c_str() : "(none)");
        std::fflush(stderr);
        std::abort();
    }

    std::string name_;
    std::function<std::string()> dump_;
    std::mutex mutex_;
    std::condition_variable cv_;
    bool done_ = false;
    std::thread thread_;
};

}  // namespace corio::testing
