// The corio workload binary: runs the in-process workloads of docs/workloads.md
// named on the command line (all when none is), one JSON line each, "impl":"corio", so that
// the peers' compare script (docs/performance.md) sets corio beside Tokio and Go.
//
//     build/release/tests/bench/corio_workloads [workload...]
//     WORKLOAD_SCALE=0.05 WORKLOAD_VERBOSE=1 build/release/tests/bench/corio_workloads spawn_many
#include "workload.hpp"

#include <corio/runtime/runtime.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>

namespace bench {
std::vector<workload>& registry() {
    static std::vector<workload> r;
    return r;
}
}  // namespace bench

namespace {

// The order of docs/workloads.md (those corio has so far), with corio's own select_tasks and
// select_tasks_spawned (select_task_workloads.cpp) after select_two.
const char* const canonical_order[] = {
    "spawn_many",       "spawn_join",     "yield_many",       "ping_pong",
    "chained_spawn",    "mpsc_uncontended", "mpsc_contended", "mpsc_unbounded",
    "mpmc_contended",
    "oneshot_rpc",      "broadcast_fanout", "broadcast_lagged", "watch_updates",
    "select_two",       "select_tasks",   "select_tasks_spawned", "timeout_churn",
    "sleep_many",
};

constexpr int warmup = 1;
constexpr int measured = 5;

std::string json_line(const char* name, const bench::sample& s) {
    std::string extra;
    for (auto& [k, v] : s.extra) {
        if (!extra.empty()) extra += ',';
        if (v == std::floor(v) && std::fabs(v) < 1e15) extra += fmt::format("\"{}\":{}", k, static_cast<long long>(v));
        else extra += fmt::format("\"{}\":{:.3f}", k, v);
    }
    return fmt::format(R"({{"impl":"corio","workload":"{}","ops":{},"secs":{:.6f},"ops_per_sec":{:.1f},"extra":{{{}}}}})",
                       name, s.ops, s.secs, static_cast<double>(s.ops) / s.secs, extra);
}

corio::task<bench::sample> run_one(bench::workload_fn fn, double scale) {
    // The iteration is a spawned task, like Tokio's tokio::spawn inside block_on: a worker task.
    auto h = corio::spawn(fn(scale));
    auto r = co_await h;
    if (!r) co_return bench::failed("workload task failed");
    co_return std::move(*r);
}

}  // namespace

int main(int argc, char** argv) {
    double scale = 1.0;
    if (const char* v = std::getenv("WORKLOAD_SCALE"); v && *v) {
        char* end = nullptr;
        scale = std::strtod(v, &end);
        if (!end || *end || !(scale > 0) || !std::isfinite(scale)) {
            fmt::print(stderr, "corio: bad WORKLOAD_SCALE {}\n", v);
            return 2;
        }
    }
    const char* verbose_env = std::getenv("WORKLOAD_VERBOSE");
    const bool verbose = verbose_env && *verbose_env && std::strcmp(verbose_env, "0") != 0;

    auto& reg = bench::registry();
    std::vector<const bench::workload*> chosen;
    auto find = [&](const char* name) -> const bench::workload* {
        for (auto& w : reg)
            if (std::strcmp(w.name, name) == 0) return &w;
        return nullptr;
    };
    if (argc > 1) {
        for (int i = 1; i < argc; ++i) {
            const bench::workload* w = find(argv[i]);
            if (!w) {
                std::string known;
                for (auto& k : reg) known += std::string(" ") + k.name;
                fmt::print(stderr, "corio: unknown workload {}; known:{}\n", argv[i], known);
                return 2;
            }
            chosen.push_back(w);
        }
    } else {
        for (const char* name : canonical_order)
            if (auto* w = find(name)) chosen.push_back(w);
    }

    bool any_failed = false;
    for (const bench::workload* w : chosen) {
        std::vector<bench::sample> samples;
        {
            const char* wenv = std::getenv("CORIO_WORKERS");
            // CORIO_TASK_REGISTRY=1 measures what the task registry costs (docs/performance.md).
            const char* renv = std::getenv("CORIO_TASK_REGISTRY");
            corio::runtime rt({.worker_threads = wenv ? std::strtoul(wenv, nullptr, 10) : 2,
                               .enable_task_registry = renv && renv[0] == '1'});
            for (int iter = 0; iter < warmup + measured; ++iter) {
                bench::sample s = rt.block_on(run_one(w->fn, scale));
                if (!s.error.empty()) {
                    fmt::print(stderr, "corio: {}: CHECK FAILED (iteration {}): {}\n", w->name, iter, s.error);
                    any_failed = true;
                    break;
                }
                if (verbose) fmt::print(stderr, "corio: {}: iteration {}: {:.6f} s\n", w->name, iter, s.secs);
                if (iter >= warmup) samples.push_back(std::move(s));
            }
        }
        if (samples.size() == measured) {
            std::sort(samples.begin(), samples.end(), [](auto& a, auto& b) { return a.secs < b.secs; });
            fmt::print("{}\n", json_line(w->name, samples[measured / 2]));
            std::fflush(stdout);
        }
    }
    return any_failed ? 1 : 0;
}
