// Capacity planning — size a bounded channel for the bursts it must absorb (capacity.hpp).
//
// The producer sends in bursts: 40 items at 1000/s (one per ms), three bursts 200 ms apart.
// The consumer takes 250/s (4 ms per item). capacity::plan_for computes the peak backlog of a
// burst, (1000 - 250)/s x 40 ms = 30, adds 25% headroom: capacity 38. The run compares a channel
// that is too small (4) with the planned one, for a producer that waits when the channel is full
// (counting its waits) and one that drops (counting its drops).
//
// current_thread with a paused clock (start_paused): the sleeps advance a virtual clock, so the
// run is instant and the counts are the same on every run.
//
//     ./build/release/samples/patterns/capacity_planning/capacity_planning
#include "capacity.hpp"
#include "common/log.hpp"

#include <corio/channels/mpsc.hpp>
#include <corio/runtime/join_handle.hpp>
#include <corio/runtime/runtime.hpp>
#include <corio/runtime/task.hpp>
#include <corio/runtime/time.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <exception>
#include <optional>
#include <utility>

using namespace std::chrono_literals;

namespace {

constexpr int bursts = 3;
constexpr int burst_items = 40;
constexpr auto burst_every = 200ms;
constexpr auto produce_every = 1ms;  // 1000/s during a burst
constexpr auto consume_time = 4ms;   // 250/s

struct outcome {
    int waits = 0;    // sends that found the channel full and had to wait
    int dropped = 0;  // items dropped because the channel was full
    std::size_t peak_queued = 0;
    int received = 0;
    std::chrono::milliseconds longest_burst{};  // how long the producer took for a burst
};

corio::task<int> consumer(corio::mpsc::receiver<int> rx) {
    int received = 0;
    while (std::optional<int> item = co_await rx.recv()) {
        ++received;
        co_await corio::sleep(consume_time);
    }
    co_return received;
}

// Sends `bursts` bursts. Tries try_send first; if the channel is full it either waits with
// send() (counting a wait) or drops the item (counting a drop).
corio::task<outcome> producer(corio::mpsc::sender<int> tx, bool drop_when_full) {
    outcome o;
    const corio::time::instant start = corio::time::now();
    for (int b = 0; b < bursts; ++b) {
        co_await corio::sleep_until(start + b * burst_every);
        const corio::time::instant burst_start = corio::time::now();
        for (int i = 0; i < burst_items; ++i) {
            auto r = tx.try_send(i);
            if (!r && r.error().is_full()) {
                if (drop_when_full) {
                    ++o.dropped;
                } else {
                    ++o.waits;
                    int item = r.error().value;
                    auto waited = co_await tx.send(item);  // wait for room: the burst stretches
                    if (!waited) co_return o;
                }
            } else if (!r) {
                co_return o;  // closed
            }
            o.peak_queued = std::max(o.peak_queued, tx.max_capacity() - tx.capacity());
            co_await corio::sleep(produce_every);
        }
        auto took = std::chrono::duration_cast<std::chrono::milliseconds>(corio::time::now() - burst_start);
        o.longest_burst = std::max(o.longest_burst, took);
    }
    co_return o;
}

corio::task<outcome> run_one(std::size_t capacity, bool drop_when_full) {
    auto [tx, rx] = corio::mpsc::channel<int>(capacity);
    corio::join_handle<int> done = corio::spawn(consumer(std::move(rx)));
    outcome o = co_await producer(std::move(tx), drop_when_full);
    o.received = (co_await done).value();
    co_return o;
}

corio::task<void> run() {
    const capacity::load load{.produce_per_sec = 1000, .consume_per_sec = 250, .burst = 40ms};
    const capacity::plan plan = capacity::plan_for(load);
    fmt::print("capacity_planning: {} bursts of {} items at {}/s, {} ms apart; the consumer takes {}/s\n", bursts,
               burst_items, load.produce_per_sec, burst_every.count(), load.consume_per_sec);
    fmt::print("plan: peak backlog = (P - C) x B = ({} - {})/s x {} ms = {}\n", load.produce_per_sec,
               load.consume_per_sec, load.burst.count(), plan.peak_backlog);
    fmt::print("plan: capacity = ceil(peak x 1.25 headroom) = {}\n", plan.capacity);
    fmt::print("plan: drain time = peak / C = {} ms; bursts are {} ms apart: {}\n\n", plan.drain_time.count(),
               (burst_every - load.burst).count(), plan.drain_time <= burst_every - load.burst ? "ok" : "TOO CLOSE");

    fmt::print("{:<15} {:<10} {:>6} {:>8} {:>12} {:>9} {:>14}\n", "capacity", "when full", "waits", "dropped",
               "peak queued", "received", "longest burst");
    const std::size_t capacities[] = {4, plan.capacity};
    const bool drop_modes[] = {false, true};  // wait when full, then drop when full
    for (std::size_t cap : capacities) {
        for (bool drop : drop_modes) {
            outcome o = co_await run_one(cap, drop);
            std::string label = fmt::format("{} ({})", cap, cap == plan.capacity ? "planned" : "too small");
            fmt::print("{:<15} {:<10} {:>6} {:>8} {:>12} {:>9} {:>11} ms\n", label, drop ? "drop" : "wait", o.waits,
                       o.dropped, o.peak_queued, o.received, o.longest_burst.count());
        }
    }
    fmt::print("\ntoo small: the producer waits (its {} ms bursts stretch) or loses items;\n"
               "planned: every burst fits in the channel, no waits, no drops\n",
               load.burst.count());
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
        corio_samples::log::error("capacity_planning: {}", e.what());
        return 1;
    }
}
