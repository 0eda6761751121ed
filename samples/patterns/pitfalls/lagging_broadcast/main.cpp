// Pitfall — a broadcast receiver that ignores Lagged.
//
// recv() on a broadcast receiver has two errors: Closed (the stream is over) and Lagged(n) (you
// fell behind and n values were overwritten; the stream goes on). The tempting loop
//
//     for (;;) { auto r = co_await rx.recv(); if (!r) break; handle(*r); }     // WRONG
//
// treats both as the end. A receiver that lags once silently stops, although the publisher is
// still sending. The right loop branches on the error: count (or log, or resynchronise on) a
// lag and keep receiving; only Closed ends it.
//
// Here a publisher sends 20 events, one per ms, on broadcast::channel<int>(4); the receiver
// needs 5 ms per event, so it lags. current_thread with a paused clock: instant, same counts
// on every run.
//
//     lagging_broadcast            # both, side by side
//     lagging_broadcast --wrong    # only the wrong loop
//     lagging_broadcast --right    # only the right loop
#include <corio/channels/broadcast.hpp>
#include <corio/runtime/join_handle.hpp>
#include <corio/runtime/runtime.hpp>
#include <corio/runtime/task.hpp>
#include <corio/runtime/time.hpp>

#include "common/log.hpp"

#include <fmt/core.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <exception>
#include <utility>

using namespace std::chrono_literals;

namespace {

constexpr int events = 20;

corio::task<void> publisher(corio::broadcast::sender<int> tx) {
    for (int e = 1; e <= events; ++e) {
        (void)tx.send(e);  // never waits: the oldest unread event is overwritten
        co_await corio::sleep(1ms);
    }
}

// WRONG: any error ends the loop, so the first Lagged looks like the end of the stream.
corio::task<void> wrong_receiver(corio::broadcast::receiver<int> rx) {
    int received = 0;
    for (;;) {
        auto r = co_await rx.recv();
        if (!r) {
            fmt::print("wrong: stopped after {} of {} events on \"{}\", taking it for the end of the stream;\n"
                       "wrong: the publisher kept sending, and the rest was never read\n",
                       received, events, r.error());
            co_return;
        }
        ++received;
        co_await corio::sleep(5ms);
    }
}

// RIGHT: Lagged is counted and the loop goes on; only Closed ends it.
corio::task<void> right_receiver(corio::broadcast::receiver<int> rx) {
    int received = 0;
    std::uint64_t missed = 0;
    for (;;) {
        auto r = co_await rx.recv();
        if (r) {
            ++received;
            co_await corio::sleep(5ms);
        } else if (r.error().is_lagged()) {
            missed += r.error().skipped();
            fmt::print("right: Lagged({}): noted, carrying on\n", r.error().skipped());
        } else {  // r.error().is_closed()
            fmt::print("right: Closed after {} received + {} missed (reported by Lagged) = {} of {} events\n", received,
                       missed, static_cast<std::uint64_t>(received) + missed, events);
            co_return;
        }
    }
}

corio::task<void> run(bool right) {
    auto [tx, rx] = corio::broadcast::channel<int>(4);
    corio::join_handle<void> receiver = right ? corio::spawn(right_receiver(std::move(rx)))
                                              : corio::spawn(wrong_receiver(std::move(rx)));
    corio::join_handle<void> publisher_done = corio::spawn(publisher(std::move(tx)));
    (co_await publisher_done).value();  // value() rethrows if the task failed
    (co_await receiver).value();
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
        fmt::print("lagging_broadcast: {} events, one per ms, on broadcast::channel<int>(4); the receiver needs 5 ms "
                   "per event\n",
                   events);
        corio::runtime rt({.flavor = corio::runtime_flavor::current_thread, .start_paused = true});
        if (wrong) rt.block_on(run(false));
        if (right) rt.block_on(run(true));
        if (wrong && right)
            fmt::print("contrast: the wrong loop quit at the first lag; the right one accounted for all {} events\n",
                       events);
        return 0;
    } catch (const std::exception& e) {
        corio_samples::log::error("lagging_broadcast: {}", e.what());
        return 1;
    }
}
