// Pitfall — watch used as a queue.
//
// A watch channel holds ONE value: the latest. changed() wakes a receiver once per new version,
// but if several values are sent while the receiver is busy, it wakes once and sees only the
// last: the others are gone. That is the point of watch (configuration, status: only the current
// state matters) and exactly wrong for a stream of jobs, where every value must be processed.
// For jobs use mpsc (one consumer) or broadcast (every consumer, lag reported).
//
// Here a producer sends jobs 1..10, one per ms; the worker needs 5 ms per job. current_thread
// with a paused clock: instant, same counts on every run.
//
//     watch_as_queue            # both, side by side
//     watch_as_queue --wrong    # jobs over watch
//     watch_as_queue --right    # jobs over mpsc
#include <corio/channels/mpsc.hpp>
#include <corio/channels/watch.hpp>
#include <corio/runtime/join_handle.hpp>
#include <corio/runtime/runtime.hpp>
#include <corio/runtime/task.hpp>
#include <corio/runtime/time.hpp>

#include "common/log.hpp"

#include <fmt/core.h>
#include <fmt/ranges.h>

#include <chrono>
#include <cstring>
#include <exception>
#include <optional>
#include <utility>
#include <vector>

using namespace std::chrono_literals;

namespace {

constexpr int jobs = 10;

// WRONG: jobs sent over watch. Each send replaces the previous value.
corio::task<void> watch_producer(corio::watch::sender<int> tx) {
    for (int job = 1; job <= jobs; ++job) {
        (void)tx.send(job);  // never waits: overwrites a job the worker has not picked up yet
        co_await corio::sleep(1ms);
    }
}

corio::task<std::vector<int>> watch_worker(corio::watch::receiver<int> rx) {
    std::vector<int> done;
    for (;;) {
        auto changed = co_await rx.changed();
        if (!changed) break;  // the producer is gone
        int job = *rx.borrow_and_update();
        done.push_back(job);
        co_await corio::sleep(5ms);
    }
    co_return done;
}

// RIGHT: the same jobs over mpsc: queued until the worker takes them.
corio::task<void> mpsc_producer(corio::mpsc::sender<int> tx) {
    for (int job = 1; job <= jobs; ++job) {
        auto r = co_await tx.send(job);
        if (!r) break;
        co_await corio::sleep(1ms);
    }
}

corio::task<std::vector<int>> mpsc_worker(corio::mpsc::receiver<int> rx) {
    std::vector<int> done;
    while (std::optional<int> job = co_await rx.recv()) {
        done.push_back(*job);
        co_await corio::sleep(5ms);
    }
    co_return done;
}

corio::task<void> run_wrong() {
    auto [tx, rx] = corio::watch::channel<int>(0);  // 0: "no job yet"
    corio::join_handle<std::vector<int>> worker = corio::spawn(watch_worker(std::move(rx)));
    corio::join_handle<void> watch_producer_done = corio::spawn(watch_producer(std::move(tx)));
    (co_await watch_producer_done).value();  // value() rethrows if the task failed
    std::vector<int> done = (co_await worker).value();
    fmt::print("wrong (watch): sent {} jobs, processed {}: {}\n", jobs, done.size(), fmt::join(done, " "));
    fmt::print("wrong (watch): {} jobs were overwritten before the worker looked: watch keeps only the latest value\n",
               jobs - static_cast<int>(done.size()));
}

corio::task<void> run_right() {
    auto [tx, rx] = corio::mpsc::channel<int>(16);
    corio::join_handle<std::vector<int>> worker = corio::spawn(mpsc_worker(std::move(rx)));
    corio::join_handle<void> mpsc_producer_done = corio::spawn(mpsc_producer(std::move(tx)));
    (co_await mpsc_producer_done).value();  // value() rethrows if the task failed
    std::vector<int> done = (co_await worker).value();
    fmt::print("right (mpsc): sent {} jobs, processed {}: {}\n", jobs, done.size(), fmt::join(done, " "));
}

}  // namespace

int main(int argc, char** argv) {
    bool wrong = true, right = true;
    if (argc == 2 && std::strcmp(argv[1], "--wrong") == 0) {
        right = false;
    } else if (argc == 2 && std::strcmp(argv[1], "--right") == 0) {
        wrong = false;
    } else if (argc != 1) {
        fmt::print(stderr, "usage: {} [--wrong | --right]\n", argv[0]);
        return 2;
    }
    try {
        fmt::print("watch_as_queue: a producer sends jobs 1..{}, one per ms; the worker needs 5 ms per job\n", jobs);
        corio::runtime rt({.flavor = corio::runtime_flavor::current_thread, .start_paused = true});
        if (wrong) rt.block_on(run_wrong());
        if (right) rt.block_on(run_right());
        if (wrong && right)
            fmt::print("contrast: watch is for state (only the latest matters); a stream of jobs needs a queue\n");
        return 0;
    } catch (const std::exception& e) {
        corio_samples::log::error("watch_as_queue: {}", e.what());
        return 1;
    }
}
