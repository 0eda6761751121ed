// Graceful shutdown: ctrl-c or SIGTERM -> producers stop -> the consumer drains what is queued
// within a deadline -> exit 0.
//
// Three producers put jobs on a bounded mpsc channel; one consumer, slower than they are, works
// through them, so a backlog is queued when the signal arrives. On SIGINT or SIGTERM the main task
// cancels a cancellation_token. Each producer selects between its next send and the token, so a
// producer blocked on a full channel stops at once (its unsent job is handed back, not lost
// silently) and drops its sender. The consumer's recv() then yields every job still queued and
// ends when the last sender is gone. The drain is bounded by a deadline (corio::timeout): a
// consumer stuck past it is aborted and the program says how much was lost. Here it never is.
//
//     ./build/release/samples/patterns/graceful_shutdown/graceful_shutdown          # press ctrl-c
//     ./build/release/samples/patterns/graceful_shutdown/graceful_shutdown --demo   # signals itself
#include <corio/channels/mpsc.hpp>
#include <corio/channels/sync/cancellation_token.hpp>
#include <corio/runtime/runtime.hpp>
#include <corio/runtime/select.hpp>
#include <corio/runtime/time.hpp>
#include <corio/signal/signal.hpp>

#include "common/log.hpp"

#include <fmt/core.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstring>
#include <exception>
#include <optional>
#include <vector>

#include <unistd.h>

using namespace std::chrono_literals;

namespace {

constexpr int producers = 3;
constexpr std::size_t capacity = 16;
constexpr auto drain_deadline = 5s;

std::atomic<int> produced{0};
std::atomic<int> handed_back{0};

corio::task<void> producer(int id, corio::mpsc::sender<int> tx, corio::sync::cancellation_token stop) {
    for (int seq = 0;; ++seq) {
        std::optional<int> unsent;
        bool stopped = false;
        co_await corio::select(
            corio::branch(tx.send(id * 1'000'000 + seq),
                          [&](corio::result<void, corio::send_error<int>> r) { stopped = !r.has_value(); })
                .unsent_into(unsent),
            corio::branch(stop.cancelled(), [&] { stopped = true; }));
        if (stopped) {
            if (unsent) handed_back.fetch_add(1);  // the send lost the race: nothing was queued
            co_return;                             // dropping tx: the channel closes after the last one
        }
        produced.fetch_add(1);
        co_await corio::sleep(1ms);
    }
}

corio::task<int> consumer(corio::mpsc::receiver<int> rx, corio::sync::cancellation_token stop) {
    int processed = 0, after_stop = 0;
    while (std::optional<int> job = co_await rx.recv()) {
        co_await corio::sleep(2ms);  // the work
        ++processed;
        if (stop.is_cancelled()) ++after_stop;
    }
    fmt::print("consumer: channel closed and drained; {} jobs were finished after the signal\n", after_stop);
    co_return processed;
}

corio::task<void> signal_myself_later() {
    co_await corio::sleep(200ms);
    fmt::print("demo: sending SIGTERM to myself\n");
    std::fflush(stdout);
    ::kill(::getpid(), SIGTERM);
}

corio::task<int> run(bool demo) {
    // Listen before anything can send the signal: a delivery is seen only after listening starts.
    auto term = corio::signal::signal(SIGTERM);
    if (!term) {
        corio_samples::log::error("graceful_shutdown: cannot listen for SIGTERM: {}", term.error().message());
        co_return 1;
    }
    auto interrupt = corio::signal::ctrl_c();
    fmt::print("graceful_shutdown: {} producers -> mpsc::channel({}) -> 1 slower consumer; {}\n", producers, capacity,
               demo ? "signalling myself in 200 ms" : "press ctrl-c (or send SIGTERM) to stop");
    std::fflush(stdout);

    auto [tx, rx] = corio::mpsc::channel<int>(capacity);
    corio::sync::cancellation_token stop;
    std::vector<corio::join_handle<void>> ps;
    for (int i = 0; i < producers; ++i) ps.push_back(corio::spawn(producer(i, tx, stop)));
    { auto gone = std::move(tx); }  // only the producers hold senders now
    auto cons = corio::spawn(consumer(std::move(rx), stop));
    if (demo) corio::spawn(signal_myself_later()).detach();

    const char* which = "";
    co_await corio::select(corio::branch(interrupt, [&](corio::result<void, std::error_code>) { which = "SIGINT"; }),
                           corio::branch(term->recv(), [&](bool) { which = "SIGTERM"; }));
    fmt::print("main: received {}: stopping the producers, draining the queue (deadline {} s)\n", which,
               std::chrono::duration_cast<std::chrono::seconds>(drain_deadline).count());
    stop.cancel();
    for (auto& p : ps) (co_await p).value();

    auto drained = co_await corio::timeout(drain_deadline, cons);
    if (!drained) {
        cons.abort();
        fmt::print("main: the consumer missed the deadline; queued jobs were dropped\n");
        co_return 1;
    }
    const int processed = drained->value();
    fmt::print("main: produced {}, processed {}, {} sends withdrawn unsent\n", produced.load(), processed,
               handed_back.load());
    fmt::print("every produced job was processed: {}\n", processed == produced.load() ? "yes" : "NO");
    co_return processed == produced.load() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    bool demo = false;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--demo") == 0) demo = true;
        else {
            fmt::print(stderr, "usage: {} [--demo]\n", argv[0]);
            return 2;
        }
    }
    try {
        corio::runtime rt;  // multi_thread, one worker per core
        return rt.block_on(run(demo));
    } catch (const std::exception& e) {
        corio_samples::log::error("graceful_shutdown: {}", e.what());
        return 1;
    }
}
