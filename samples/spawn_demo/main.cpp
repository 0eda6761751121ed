// spawn_demo — spawn tasks on a two-worker runtime and watch them spread across the workers.
//
// Each task computes a small Collatz sum, yielding (co_await corio::yield_now()) between steps,
// and records the name of the worker thread it ran on at each step ("corio-worker-0" / "-1").
// main awaits every join_handle with `(co_await h).value()` and prints a per-worker tally.
//
//     ./build/release/samples/spawn_demo/spawn_demo            # 8 tasks, 4 yields each
//     ./build/release/samples/spawn_demo/spawn_demo --smoke    # the same, quick; exit code only
//     CORIO_LOG=debug ./build/release/samples/spawn_demo/spawn_demo   # also logs the runtime's options
#include <corio/runtime/join_handle.hpp>
#include <corio/runtime/runtime.hpp>
#include <corio/runtime/task.hpp>
#include <corio/runtime/yield_now.hpp>

#include "common/log.hpp"

#include <fmt/core.h>
#include <pthread.h>

#include <cstdint>
#include <cstring>
#include <exception>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace {

struct task_report {
    int id = 0;
    std::uint64_t value = 0;
    std::vector<std::string> workers;  // the worker thread of each step
};

std::string current_thread_name() {
    char buf[16] = {};
    if (pthread_getname_np(pthread_self(), buf, sizeof buf) != 0) return "?";
    return buf;
}

// Steps of the Collatz sequence from n down to 1: a little arithmetic per task.
std::uint64_t collatz_steps(std::uint64_t n) {
    std::uint64_t steps = 0;
    while (n > 1) {
        n = (n % 2 == 0) ? n / 2 : 3 * n + 1;
        ++steps;
    }
    return steps;
}

// Coroutines take their inputs as parameters (no captures), and each co_await is its own
// statement with no temporaries beside it (see README "Compiler notes").
corio::task<task_report> work(int id, int steps) {
    task_report r;
    r.id = id;
    for (int i = 0; i < steps; ++i) {
        std::uint64_t seed = static_cast<std::uint64_t>(id) * 1000 + static_cast<std::uint64_t>(i) + 27;
        r.value += collatz_steps(seed);
        r.workers.push_back(current_thread_name());
        co_await corio::yield_now();
    }
    r.workers.push_back(current_thread_name());
    co_return r;
}

corio::task<int> run_demo(int tasks, int steps, bool quiet) {
    std::vector<corio::join_handle<task_report>> handles;
    handles.reserve(static_cast<std::size_t>(tasks));
    for (int id = 0; id < tasks; ++id) {
        corio::task<task_report> t = work(id, steps);
        handles.push_back(corio::spawn(std::move(t)));
    }

    std::map<std::string, int> steps_per_worker;
    std::uint64_t total = 0;
    for (auto& h : handles) {
        task_report r = (co_await h).value();
        total += r.value;
        std::string trail;
        for (const std::string& w : r.workers) {
            ++steps_per_worker[w];
            if (!trail.empty()) trail += " -> ";
            trail += w;
        }
        if (!quiet) fmt::print("task {}: value {:>4}  ran on {}\n", r.id, r.value, trail);
    }

    fmt::print("{} tasks, {} steps each, total {}; steps per worker:\n", tasks, steps + 1, total);
    for (const auto& [name, n] : steps_per_worker) fmt::print("  {:<16} {}\n", name, n);
    int workers_used = static_cast<int>(steps_per_worker.size());
    fmt::print("tasks ran on {} worker thread(s)\n", workers_used);
    co_return workers_used;
}

}  // namespace

int main(int argc, char** argv) {
    bool smoke = false;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--smoke") == 0) {
            smoke = true;
        } else {
            fmt::print(stderr, "usage: {} [--smoke]\n", argv[0]);
            return 2;
        }
    }

    try {
        const corio::runtime_options opts{.worker_threads = 2};
        corio_samples::log::debug("spawn_demo: runtime {}", opts);
        corio::runtime rt(opts);
        int workers_used = rt.block_on(run_demo(8, smoke ? 2 : 4, smoke));
        // Spreading depends on timing; one worker taking everything is legal, so only report it.
        if (workers_used < 2) fmt::print("(all tasks happened to run on one worker this time)\n");
        return 0;
    } catch (const std::exception& e) {
        corio_samples::log::error("spawn_demo: {}", e.what());
        return 1;
    }
}
