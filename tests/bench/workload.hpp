// workload.hpp — the harness of the workload binary: the conventions of
// docs/workloads.md, "Conventions" (JSON lines, 1 warm-up + 5 measured iterations, median, scaling by
// WORKLOAD_SCALE, a fresh 2-worker runtime per workload, each iteration a spawned task).
#pragma once

#include <corio/runtime/task.hpp>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace bench {

struct sample {
    std::uint64_t ops = 0;
    double secs = 0;
    std::vector<std::pair<std::string, double>> extra;
    std::string error;  // non-empty: a check failed
};

using clock = std::chrono::steady_clock;

inline std::uint64_t scaled(std::uint64_t base, double scale) {
    auto v = static_cast<std::uint64_t>(std::llround(static_cast<double>(base) * scale));
    return v < 1 ? 1 : v;
}

inline sample make_sample(std::uint64_t ops, clock::time_point t0) {
    sample s;
    s.ops = ops;
    s.secs = std::chrono::duration<double>(clock::now() - t0).count();
    return s;
}

inline sample failed(std::string why) {
    sample s;
    s.error = std::move(why);
    return s;
}

using workload_fn = corio::task<sample> (*)(double scale);

struct workload {
    const char* name;
    workload_fn fn;
};

// Each workload file registers its workloads (spawn_workloads.cpp, ...).
std::vector<workload>& registry();
struct registrar {
    registrar(const char* name, workload_fn fn) { registry().push_back({name, fn}); }
};

}  // namespace bench
