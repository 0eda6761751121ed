// Pitfall: select starvation. A biased select whose first branch is always ready never looks at
// the others.
//
// A worker loop selects over a busy job queue (always full) and a control channel carrying one
// "stop" message. Wrong: select_biased with the job queue first — the job branch wins every
// time, so the stop message sits unread while jobs keep flowing (here for all 200 iterations).
// Right: the default fair select (random start each time: a busy branch cannot starve the
// others), or select_biased with the control branch FIRST, which is the way to give priority.
//
//     ./build/release/samples/patterns/pitfalls/select_starvation/select_starvation [--wrong|--right]
#include <corio/channels/mpsc.hpp>
#include <corio/runtime/runtime.hpp>
#include <corio/runtime/select.hpp>

#include "common/log.hpp"

#include <fmt/core.h>

#include <cstring>
#include <exception>
#include <string>

namespace {

constexpr int iterations = 200;

enum class order { biased_jobs_first, fair, biased_control_first };

// Returns the iteration at which the stop message was handled, or -1.
corio::task<int> worker_loop(order o) {
    auto [jobs_tx, jobs] = corio::mpsc::channel<int>(1024);
    auto [control_tx, control] = corio::mpsc::channel<int>(1);
    for (int i = 0; i < 1000; ++i) (void)jobs_tx.try_send(i);  // always more work than we look at
    (void)control_tx.try_send(0);                               // "stop"
    int stopped_at = -1, jobs_done = 0;
    for (int it = 0; it < iterations && stopped_at < 0; ++it) {
        auto on_job = [&](int) { ++jobs_done; };
        auto on_stop = [&](int) { stopped_at = it; };
        switch (o) {
            case order::biased_jobs_first:
                co_await corio::select_biased(corio::branch(jobs.recv()).when_some(on_job),
                                              corio::branch(control.recv()).when_some(on_stop));
                break;
            case order::fair:
                co_await corio::select(corio::branch(jobs.recv()).when_some(on_job),
                                       corio::branch(control.recv()).when_some(on_stop));
                break;
            case order::biased_control_first:
                co_await corio::select_biased(corio::branch(control.recv()).when_some(on_stop),
                                              corio::branch(jobs.recv()).when_some(on_job));
                break;
        }
    }
    fmt::print("  {} jobs handled before the loop ended\n", jobs_done);
    co_return stopped_at;
}

void show(const char* label, int stopped_at) {
    if (stopped_at < 0) fmt::print("{}: the stop message was never handled in {} iterations (starved)\n", label, iterations);
    else fmt::print("{}: the stop message was handled at iteration {}\n", label, stopped_at);
}

corio::task<void> run(bool wrong, bool right) {
    if (wrong) {
        fmt::print("wrong: select_biased(jobs, control) with a job queue that is never empty\n");
        show("wrong", co_await worker_loop(order::biased_jobs_first));
    }
    if (right) {
        fmt::print("right: fair select(jobs, control)\n");
        const int fair_at = co_await worker_loop(order::fair);
        show("right (fair)", fair_at);
        fmt::print("right: select_biased(control, jobs): priority to the control channel\n");
        show("right (biased, control first)", co_await worker_loop(order::biased_control_first));
    }
}

}  // namespace

int main(int argc, char** argv) {
    bool wrong = true, right = true;
    if (argc == 2 && std::strcmp(argv[1], "--wrong") == 0) right = false;
    else if (argc == 2 && std::strcmp(argv[1], "--right") == 0) wrong = false;
    else if (argc != 1) {
        fmt::print(stderr, "usage: {} [--wrong|--right]\n", argv[0]);
        return 2;
    }
    try {
        corio::runtime rt({.flavor = corio::runtime_flavor::current_thread});
        rt.block_on(run(wrong, right));
        return 0;
    } catch (const std::exception& e) {
        corio_samples::log::error("select_starvation: {}", e.what());
        return 1;
    }
}
