// Pitfall — a broadcast subscriber that arrives late misses what was already sent.
//
// A broadcast receiver made by subscribe() sees the values sent from then on (Tokio's rule):
//
//     tx.send(started);  tx.send(ready);              // announced to whoever listens now
//     corio::spawn(monitor(tx.subscribe()));           // WRONG if the monitor needs them
//
// The monitor never learns that the service started: those values were delivered to the
// receivers of the moment, and nothing keeps them for a newcomer. When late subscribers need
// recent history, make the channel with broadcast::replay(n): subscribe() then starts with the
// last n values sent, then the live ones, in order (the lag rules are unchanged).
//
// Here a service announces 3 startup events, then a monitor subscribes, then 2 requests are
// announced. current_thread: same output on every run.
//
//     late_subscriber            # both, side by side
//     late_subscriber --wrong    # plain channel: the monitor gets 2 of 5
//     late_subscriber --right    # replay(3): the monitor gets all 5
#include <corio/channels/broadcast.hpp>
#include <corio/runtime/join_handle.hpp>
#include <corio/runtime/runtime.hpp>
#include <corio/runtime/task.hpp>

#include <fmt/core.h>
#include <fmt/ranges.h>

#include <array>
#include <cstring>
#include <exception>
#include <string>
#include <utility>
#include <vector>

namespace {

constexpr std::array<const char*, 3> startup = {"config loaded", "cache warmed", "listening"};
constexpr std::array<const char*, 2> live = {"request 1", "request 2"};
constexpr std::size_t total = startup.size() + live.size();

// Reads until the channel closes; yields what it got.
corio::task<std::vector<std::string>> collect(corio::broadcast::receiver<std::string> rx) {
    std::vector<std::string> got;
    for (;;) {
        auto r = co_await rx.recv();
        if (r) {
            got.push_back(std::move(*r));
        } else if (r.error().is_closed()) {
            break;
        }  // lagged cannot happen here (capacity 8, 5 values); a real loop would count it
    }
    co_return got;
}

corio::task<void> run(bool right) {
    const char* who = right ? "right" : "wrong";
    // WRONG: a plain channel. RIGHT: replay(3) keeps the last 3 values for late subscribers.
    auto [tx, audit_rx] = right ? corio::broadcast::channel<std::string>(8, corio::broadcast::replay(startup.size()))
                                : corio::broadcast::channel<std::string>(8);
    // The audit log subscribed from the start (the receiver channel() returns): it gets everything.
    corio::join_handle<std::vector<std::string>> audit = corio::spawn(collect(std::move(audit_rx)));
    for (const char* e : startup) (void)tx.send(e);
    // The monitor joins after startup.
    corio::join_handle<std::vector<std::string>> monitor = corio::spawn(collect(tx.subscribe()));
    for (const char* e : live) (void)tx.send(e);
    { auto closed = std::move(tx); }  // the last sender: both receivers drain, then see Closed
    std::vector<std::string> audit_got = (co_await audit).value();
    std::vector<std::string> monitor_got = (co_await monitor).value();
    fmt::print("{}: audit log (subscribed from the start) received {} of {} events\n", who, audit_got.size(), total);
    fmt::print("{}: monitor (subscribed after startup) received {} of {} events: {}\n", who, monitor_got.size(), total,
               fmt::join(monitor_got, ", "));
    if (right)
        fmt::print("right: the monitor saw the startup events first, replayed, then the live ones\n");
    else
        fmt::print("wrong: the monitor never saw the {} startup events: they were sent before it subscribed\n",
                   total - monitor_got.size());
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
        fmt::print("late_subscriber: {} startup events, then a monitor subscribes, then {} live events\n",
                   startup.size(), live.size());
        corio::runtime rt({.flavor = corio::runtime_flavor::current_thread});
        if (wrong) rt.block_on(run(false));
        if (right) rt.block_on(run(true));
        if (wrong && right)
            fmt::print("contrast: subscribe() sees only later values; broadcast::replay(n) gives a late subscriber the "
                       "last n first\n");
        return 0;
    } catch (const std::exception& e) {
        fmt::print(stderr, "late_subscriber: {}\n", e.what());
        return 1;
    }
}
