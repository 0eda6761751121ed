// Pattern 5 — backpressure: a fast producer, a slow consumer, a bounded channel.
//
// The producer makes one item per millisecond, 20 in all; the consumer needs 5 ms per item; the
// channel holds 4. The channel fills up after a few items, and the producer must decide what to
// do. Three strategies, each run on a fresh channel and compared in a table:
//
//   send (wait)          co_await tx.send(v): wait for room. Nothing is lost; the producer is
//                        slowed down to the consumer's pace.
//   try_send (drop)      tx.try_send(v): never wait; when full the value comes back in the error
//                        and we drop (count) it. The producer keeps its pace; items are lost.
//   send_timeout (3 ms)  co_await tx.send_timeout(v, 3ms): wait, but at most 3 ms; then the
//                        value comes back in the error and we count it as timed out.
//
// current_thread with a paused clock (start_paused): the sleeps advance a virtual clock, so the
// run is instant and the counts are the same on every run.
//
//     ./build/release/samples/patterns/backpressure/backpressure
#include <corio/channels/mpsc.hpp>
#include <corio/runtime/join_handle.hpp>
#include <corio/runtime/runtime.hpp>
#include <corio/runtime/task.hpp>
#include <corio/runtime/time.hpp>

#include "common/log.hpp"

#include <fmt/core.h>

#include <chrono>
#include <exception>
#include <optional>
#include <utility>

using namespace std::chrono_literals;

namespace {

constexpr int items = 20;
constexpr std::size_t capacity = 4;
constexpr auto produce_every = 1ms;
constexpr auto consume_time = 5ms;
constexpr auto send_deadline = 3ms;

enum class strategy { wait, drop, timeout };

struct outcome {
    int sent = 0;
    int dropped = 0;
    int timed_out = 0;
    int received = 0;
    std::chrono::milliseconds producer_time{};
};

corio::task<int> slow_consumer(corio::mpsc::receiver<int> rx) {
    int received = 0;
    while (std::optional<int> item = co_await rx.recv()) {
        ++received;
        co_await corio::sleep(consume_time);  // "processing" the item
    }
    co_return received;
}

corio::task<outcome> producer(corio::mpsc::sender<int> tx, strategy how) {
    outcome o;
    const corio::time::instant start = corio::time::now();
    for (int item = 0; item < items; ++item) {
        if (how == strategy::wait) {
            auto r = co_await tx.send(item);  // waits while the channel is full
            if (!r) break;                    // closed: the consumer is gone
            ++o.sent;
        } else if (how == strategy::drop) {
            auto r = tx.try_send(item);  // never waits
            if (r) {
                ++o.sent;
            } else if (r.error().is_full()) {
                ++o.dropped;  // r.error().value holds the item: we could log it or spill it
            } else {
                break;  // closed
            }
        } else {
            auto r = co_await tx.send_timeout(item, send_deadline);  // waits at most 3 ms
            if (r) {
                ++o.sent;
            } else if (r.error().is_timeout()) {
                ++o.timed_out;  // the item is handed back in r.error().value
            } else {
                break;  // closed
            }
        }
        co_await corio::sleep(produce_every);
    }
    o.producer_time = std::chrono::duration_cast<std::chrono::milliseconds>(corio::time::now() - start);
    co_return o;  // tx is dropped here: the consumer drains the channel and ends
}

corio::task<outcome> run_one(strategy how) {
    auto [tx, rx] = corio::mpsc::channel<int>(capacity);
    corio::join_handle<int> consumer = corio::spawn(slow_consumer(std::move(rx)));
    outcome o = co_await producer(std::move(tx), how);
    o.received = (co_await consumer).value();
    co_return o;
}

corio::task<void> run() {
    fmt::print("backpressure: the producer makes {} items, one every {} ms; the consumer needs {} ms per item;\n"
               "mpsc::channel<int>({}) between them\n\n",
               items, produce_every.count(), consume_time.count(), capacity);
    fmt::print("{:<20} {:>5} {:>8} {:>10} {:>9}  {}\n", "strategy", "sent", "dropped", "timed out", "received",
               "producer took");
    const char* names[] = {"send (wait)", "try_send (drop)", "send_timeout (3 ms)"};
    const strategy order[] = {strategy::wait, strategy::drop, strategy::timeout};
    bool consistent = true;
    for (int i = 0; i < 3; ++i) {
        outcome o = co_await run_one(order[i]);
        fmt::print("{:<20} {:>5} {:>8} {:>10} {:>9}  {} ms\n", names[i], o.sent, o.dropped, o.timed_out, o.received,
                   o.producer_time.count());
        // Every item is accounted for, and everything sent was received.
        if (o.sent + o.dropped + o.timed_out != items || o.received != o.sent) consistent = false;
    }
    fmt::print("\nevery item was sent, dropped or timed out, and every sent item was received: {}\n",
               consistent ? "yes" : "NO");
    fmt::print("wait keeps every item but slows the producer to the consumer's pace; drop keeps the\n"
               "producer's pace and loses items; send_timeout bounds how long one item may wait\n");
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
        corio_samples::log::error("backpressure: {}", e.what());
        return 1;
    }
}
