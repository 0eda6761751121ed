// Channel metrics: what went through a channel, reported while it runs.
//
// A channel made `with_metrics` counts messages sent, received and dropped, broadcast lag, and
// the high-water mark of its length; `tx.metrics()` / `rx.metrics()` return a snapshot from any
// handle (std::nullopt for a channel made without metrics, which costs nothing). Here a bursty
// producer feeds a steady consumer over a bounded mpsc channel and sheds load with try_send
// when it is full; a broadcast feed has one subscriber that lags. A reporter task prints both
// channels' counters every 100 ms, the way a service would export them.
//
// current_thread with a paused clock: the run is instant and its numbers are the same every time.
//
//     ./build/release/samples/patterns/metrics/metrics
#include <corio/channels/broadcast.hpp>
#include <corio/channels/metrics.hpp>
#include <corio/channels/mpsc.hpp>
#include <corio/runtime/runtime.hpp>
#include <corio/runtime/time.hpp>

#include "common/log.hpp"

#include <fmt/core.h>

#include <chrono>
#include <exception>
#include <optional>
#include <string>
#include <utility>

using namespace std::chrono_literals;

namespace {

void print_row(const std::string& when, const corio::channel_metrics& j, const corio::channel_metrics& f) {
    fmt::print("{:>5} jobs: sent {:3} received {:3} dropped {:3} high_water {:2} | feed: sent {:3} received {:3} lagged {:3}\n",
               when, j.sent, j.received, j.dropped, j.high_water, f.sent, f.received, f.lagged);
}

// Bursts of 20 jobs every 50 ms; a full channel drops the job (try_send) instead of waiting.
corio::task<void> producer(corio::mpsc::sender<int> jobs, corio::broadcast::sender<int> feed) {
    int n = 0;
    for (int burst = 0; burst < 6; ++burst) {
        for (int i = 0; i < 20; ++i) {
            (void)jobs.try_send(n);  // a drop is counted by the channel
            (void)feed.send(n);
            ++n;
        }
        co_await corio::sleep(50ms);
    }
}

// Takes 4 ms per job: 12.5 jobs per 50 ms against bursts of 20. Returns the channel's final counters.
corio::task<corio::channel_metrics> consumer(corio::mpsc::receiver<int> jobs) {
    while (co_await jobs.recv()) co_await corio::sleep(4ms);
    // Named first: g++ 12 miscompiles `co_return *jobs.metrics();` (a temporary in co_return).
    const corio::channel_metrics m = *jobs.metrics();
    co_return m;
}

// Reads the feed in 10 ms naps; capacity 16 against bursts of 20: it lags every burst.
corio::task<corio::channel_metrics> subscriber(corio::broadcast::receiver<int> rx) {
    for (;;) {
        auto r = co_await rx.recv();
        if (!r && r.error().is_closed()) {
            const corio::channel_metrics m = *rx.metrics();  // named first (g++ 12)
            co_return m;
        }
        co_await corio::sleep(10ms);
    }
}

corio::task<void> reporter(corio::mpsc::sender<int> jobs, corio::broadcast::sender<int> feed, int reports) {
    for (int i = 1; i <= reports; ++i) {
        co_await corio::sleep(100ms);
        print_row(fmt::format("{}ms", i * 100), *jobs.metrics(), *feed.metrics());
    }
}

corio::task<void> run() {
    fmt::print("metrics: mpsc::channel<int>(32, with_metrics) fed in bursts of 20 every 50 ms, drained at 4 ms/job;\n"
               "broadcast::channel<int>(16, with_metrics) read by a subscriber that naps 10 ms per message\n");
    auto [jobs_tx, jobs_rx] = corio::mpsc::channel<int>(32, corio::with_metrics);
    auto [feed_tx, feed_rx] = corio::broadcast::channel<int>(16, corio::with_metrics);
    auto [plain_tx, plain_rx] = corio::mpsc::channel<int>(1);
    fmt::print("a channel made without metrics reports: {}\n", plain_tx.metrics() ? "counters" : "nothing (nullopt)");

    auto sub = corio::spawn(subscriber(std::move(feed_rx)));
    auto cons = corio::spawn(consumer(std::move(jobs_rx)));
    auto rep = corio::spawn(reporter(jobs_tx, feed_tx, 3));
    (co_await corio::spawn(producer(jobs_tx, feed_tx))).value();
    (co_await rep).value();
    { auto gone = std::move(jobs_tx); }  // the channels close; the receivers drain and report
    { auto gone = std::move(feed_tx); }
    const corio::channel_metrics jobs = (co_await cons).value();
    const corio::channel_metrics feed = (co_await sub).value();
    print_row("end", jobs, feed);
    fmt::print("jobs: sent + dropped = {} of 120 offered; received = sent: {}\n", jobs.sent + jobs.dropped,
               jobs.received == jobs.sent ? "yes" : "NO");
    fmt::print("feed: received + lagged = {} of 120 sent\n", feed.received + feed.lagged);
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
        corio_samples::log::error("metrics: {}", e.what());
        return 1;
    }
}
