// Pattern 3 — broadcast fan-out: every subscriber gets every event, unless it falls behind.
//
// A publisher sends 12 events, one every 10 ms, on broadcast::channel<int>(4). Three
// subscribers each receive a copy of every event. Two keep up. The third takes 35 ms per event,
// so it falls more than 4 events behind: the channel overwrites the oldest events (the publisher
// never waits) and the slow subscriber's next recv() yields Lagged(n), n being how many it
// missed. It records that and carries on with the oldest event still held. When the publisher
// drops its sender, each subscriber drains what it still has and then gets Closed.
//
// The runtime is current_thread with a paused clock (start_paused): sleeps advance a virtual
// clock, so the run is instant and prints the same numbers every time. A production service
// would use the default multi_thread runtime; the channel code is the same.
//
//     ./build/release/samples/patterns/fan_out/fan_out
#include <corio/channels/broadcast.hpp>
#include <corio/runtime/join_handle.hpp>
#include <corio/runtime/runtime.hpp>
#include <corio/runtime/task.hpp>
#include <corio/runtime/time.hpp>

#include "common/log.hpp"

#include <fmt/core.h>
#include <fmt/ranges.h>

#include <chrono>
#include <cstdint>
#include <exception>
#include <string>
#include <utility>
#include <vector>

using namespace std::chrono_literals;

namespace {

constexpr int events = 12;
constexpr std::size_t capacity = 4;

struct stats {
    std::string name;
    std::vector<int> received;
    std::uint64_t missed = 0;
};

corio::task<stats> subscriber(corio::broadcast::receiver<int> rx, std::string name, std::chrono::milliseconds per_event) {
    stats s;
    s.name = std::move(name);
    for (;;) {
        corio::result<int, corio::broadcast::recv_error> r = co_await rx.recv();
        if (r) {
            s.received.push_back(*r);
            if (per_event > 0ms) co_await corio::sleep(per_event);  // "processing" the event
            continue;
        }
        if (r.error().is_lagged()) {  // not the end: count it and keep receiving
            s.missed += r.error().skipped();
            fmt::print("{}: Lagged({}): that many events were overwritten before I read them; carrying on\n",
                       s.name, r.error().skipped());
            continue;
        }
        fmt::print("{}: Closed: the publisher is gone and my backlog is drained\n", s.name);  // is_closed()
        co_return s;
    }
}

corio::task<void> publisher(corio::broadcast::sender<int> tx) {
    for (int e = 1; e <= events; ++e) {
        auto r = tx.send(e);  // never waits; yields how many subscribers got it
        if (!r) break;        // no subscribers left
        co_await corio::sleep(10ms);
    }
    fmt::print("publisher: sent {} events, dropping the sender\n", events);
}

corio::task<void> run() {
    fmt::print("fan_out: 1 publisher, 3 subscribers on broadcast::channel<int>({}); {} events, one every 10 ms;\n"
               "the slow subscriber needs 35 ms per event\n",
               capacity, events);
    auto [tx, rx] = corio::broadcast::channel<int>(capacity);
    // Subscribe before publishing: a receiver sees only what is sent after it subscribed.
    corio::broadcast::receiver<int> rx2 = tx.subscribe();
    corio::broadcast::receiver<int> rx3 = tx.subscribe();
    std::vector<corio::join_handle<stats>> subs;
    subs.push_back(corio::spawn(subscriber(std::move(rx), "fast-1", 0ms)));
    subs.push_back(corio::spawn(subscriber(std::move(rx2), "fast-2", 1ms)));
    subs.push_back(corio::spawn(subscriber(std::move(rx3), "slow", 35ms)));
    corio::join_handle<void> publisher_done = corio::spawn(publisher(std::move(tx)));
    (co_await publisher_done).value();  // value() rethrows if the task failed

    for (auto& h : subs) {
        stats s = (co_await h).value();
        fmt::print("{}: received {} + missed {} = {} of {} events: {}\n", s.name, s.received.size(), s.missed,
                   s.received.size() + s.missed, events, fmt::join(s.received, " "));
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
        corio_samples::log::error("fan_out: {}", e.what());
        return 1;
    }
}
