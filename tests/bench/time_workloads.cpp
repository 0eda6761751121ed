// timeout_churn and sleep_many (docs/workloads.md; the Tokio peer is the
// reference for what is timed and checked).
#include "workload.hpp"

#include <corio/runtime/runtime.hpp>
#include <corio/runtime/time.hpp>
#include <corio/runtime/yield_now.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <vector>

namespace {

using bench::clock;

// One task, n iterations of timeout(1 s, yield_now()): every timer is created, registered (the
// yield is pending on its first poll) and cancelled; none may expire.
corio::task<bench::sample> timeout_churn(double scale) {
    const std::uint64_t n = bench::scaled(1'000'000, scale);
    auto t0 = clock::now();
    std::uint64_t expired = 0;
    for (std::uint64_t i = 0; i < n; ++i) {
        auto r = co_await corio::timeout(std::chrono::seconds(1), corio::yield_now());
        if (!r) ++expired;
    }
    bench::sample s = bench::make_sample(n, t0);
    if (expired != 0) co_return bench::failed(fmt::format("{} timeouts expired", expired));
    s.extra.emplace_back("expired", 0.0);
    co_return s;
}

// Returns how late the sleep ended (nullopt: it woke early).
corio::task<std::optional<std::chrono::nanoseconds>> one_sleep(std::uint64_t i) {
    const auto d = std::chrono::milliseconds(i % 10 + 1);
    const auto start = std::chrono::steady_clock::now();
    co_await corio::sleep(d);
    const auto slept = std::chrono::steady_clock::now() - start;
    if (slept < d) co_return std::nullopt;
    co_return std::chrono::duration_cast<std::chrono::nanoseconds>(slept - d);
}

corio::task<bench::sample> sleep_many(double scale) {
    const std::uint64_t n = bench::scaled(100'000, scale);
    auto t0 = clock::now();
    std::vector<corio::join_handle<std::optional<std::chrono::nanoseconds>>> handles;
    handles.reserve(n);
    for (std::uint64_t i = 0; i < n; ++i) handles.push_back(corio::spawn(one_sleep(i)));
    std::uint64_t early = 0;
    std::chrono::nanoseconds max_late{0};
    for (auto& h : handles) {
        auto r = co_await h;
        if (!r) co_return bench::failed("task failed");
        if (*r) max_late = std::max(max_late, **r);
        else ++early;
    }
    bench::sample s = bench::make_sample(n, t0);
    if (early != 0) co_return bench::failed(fmt::format("{} tasks woke before their duration", early));
    // Not an integer: main.cpp prints non-integral values with 3 decimals.
    s.extra.emplace_back("max_late_ms", std::chrono::duration<double, std::milli>(max_late).count() + 1e-9);
    co_return s;
}

// Diagnostic, not a peers workload (run it by name): timeout_churn without the timer, to
// separate the cost of the yield round trip from the cost of the timer.
corio::task<bench::sample> yield_churn(double scale) {
    const std::uint64_t n = bench::scaled(1'000'000, scale);
    auto t0 = clock::now();
    for (std::uint64_t i = 0; i < n; ++i) co_await corio::yield_now();
    co_return bench::make_sample(n, t0);
}

bench::registrar r0("timeout_churn", timeout_churn);
bench::registrar r2("yield_churn", yield_churn);
bench::registrar r1("sleep_many", sleep_many);

}  // namespace
