// Pattern 4 — watch state broadcasting: configuration hot-reload.
//
// An admin task publishes new versions of a config on a watch channel: v2 .. v6, one every
// 10 ms. Three workers follow it. Each reads the current config with borrow() when it starts,
// then loops on changed(), which wakes once per NEW version, and copies the latest value out
// with borrow_and_update(). Applying a config takes each worker a different time; a worker
// that is busy while several versions are published wakes once and sees only the newest: it
// skips the intermediate ones, which is exactly what you want for configuration. When the
// admin drops the sender, changed() still reports the last version first, then closed.
//
// current_thread with a paused clock (start_paused): sleeps advance a virtual clock, so the run
// is instant and identical every time. Production code would use the multi_thread runtime.
//
//     ./build/release/samples/patterns/config_reload/config_reload
#include <corio/channels/watch.hpp>
#include <corio/runtime/join_handle.hpp>
#include <corio/runtime/runtime.hpp>
#include <corio/runtime/task.hpp>
#include <corio/runtime/time.hpp>

#include "common/log.hpp"

#include <fmt/core.h>
#include <fmt/ranges.h>

#include <chrono>
#include <exception>
#include <string>
#include <utility>
#include <vector>

using namespace std::chrono_literals;

namespace {

struct config {
    int version = 1;
    int max_connections = 100;
    std::string log_level = "info";
};

constexpr int last_version = 6;

struct report {
    std::string name;
    std::vector<int> applied;  // the versions this worker applied
    int final_version = 0;
};

corio::task<report> worker(corio::watch::receiver<config> rx, std::string name, std::chrono::milliseconds apply_time) {
    report rep;
    rep.name = std::move(name);
    config current = *rx.borrow();  // the current value; copy it out: the guard holds a read lock
    fmt::print("{}: starting with config v{}\n", rep.name, current.version);
    rep.applied.push_back(current.version);
    for (;;) {
        auto changed = co_await rx.changed();  // wakes once per new version, never for a seen one
        if (!changed) break;                   // the sender is gone and the last version was seen
        current = *rx.borrow_and_update();     // the LATEST value, marked seen; the guard dies here
        fmt::print("{}: applying config v{} (max_connections={}, log_level={})\n", rep.name, current.version,
                   current.max_connections, current.log_level);
        rep.applied.push_back(current.version);
        co_await corio::sleep(apply_time);  // never hold a borrow() guard across a co_await
    }
    rep.final_version = current.version;
    co_return rep;
}

void bump(config& c) {
    ++c.version;
    c.max_connections += 50;
    c.log_level = c.version % 2 == 0 ? "debug" : "info";
}

corio::task<void> admin(corio::watch::sender<config> tx) {
    for (int v = 2; v <= last_version; ++v) {
        co_await corio::sleep(10ms);
        tx.send_modify(bump);  // modify in place under the write lock, then notify the workers
        fmt::print("admin: published v{}\n", v);
    }
    fmt::print("admin: done, dropping the sender\n");
}

corio::task<void> run() {
    fmt::print("config_reload: an admin publishes config v2..v{} on a watch channel, one every 10 ms;\n"
               "3 workers take 1 ms, 15 ms and 45 ms to apply a config\n",
               last_version);
    auto [tx, rx] = corio::watch::channel<config>(config{});
    std::vector<corio::join_handle<report>> workers;
    workers.push_back(corio::spawn(worker(rx, "quick", 1ms)));  // receivers are copyable: one per worker
    workers.push_back(corio::spawn(worker(rx, "steady", 15ms)));
    workers.push_back(corio::spawn(worker(std::move(rx), "sluggish", 45ms)));
    corio::join_handle<void> admin_done = corio::spawn(admin(std::move(tx)));
    (co_await admin_done).value();  // value() rethrows if the task failed

    for (auto& h : workers) {
        report rep = (co_await h).value();
        fmt::print("{}: applied {} of {} versions ({}), final config v{}\n", rep.name, rep.applied.size(), last_version,
                   fmt::join(rep.applied, " "), rep.final_version);
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc > 1) {
        fmt::print(stderr, "usage: {}\n", argv[0]);
        return 2;
    }
    try {
        corio::runtime rt({.flavor = corio::runtime_flavor::current_thread, .start_paused = true});
        rt.block_on(run());
        return 0;
    } catch (const std::exception& e) {
        corio_samples::log::error("config_reload: {}", e.what());
        return 1;
    }
}
