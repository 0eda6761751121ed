// Pattern 1 — mpsc producer-consumer: several producers, one consumer, a bounded queue.
//
// Four producer tasks each own a copy (a clone) of one mpsc::sender and send 25 jobs. One
// consumer task receives until recv() yields nullopt, which happens once the LAST sender is
// gone and the queue is drained. That is why main drops its own sender right after handing out
// the copies: a forgotten sender keeps the channel open and the consumer waits forever.
//
//     ./build/release/samples/patterns/producer_consumer/producer_consumer
#include <corio/channels/mpsc.hpp>
#include <corio/runtime/join_handle.hpp>
#include <corio/runtime/runtime.hpp>
#include <corio/runtime/task.hpp>

#include "common/log.hpp"

#include <fmt/core.h>

#include <array>
#include <exception>
#include <optional>
#include <utility>
#include <vector>

namespace {

constexpr int producers = 4;
constexpr int jobs_per_producer = 25;

struct job {
    int producer = 0;
    int seq = 0;  // 0, 1, 2, ... per producer: lets the consumer check per-producer order
};

struct tally {
    int total = 0;
    std::array<int, producers> per_producer{};
    bool in_order = true;  // each producer's jobs arrived in the order it sent them
};

// The sender is taken by value: each producer owns its copy and drops it when it returns.
corio::task<int> producer(corio::mpsc::sender<job> tx, int id) {
    int sent = 0;
    for (int seq = 0; seq < jobs_per_producer; ++seq) {
        job j{id, seq};  // a named local, then co_await (see README "Compiler notes")
        auto r = co_await tx.send(std::move(j));  // waits while the queue is full: backpressure
        if (!r) break;                            // the consumer is gone: nobody to send to
        ++sent;
    }
    co_return sent;
}

corio::task<tally> consumer(corio::mpsc::receiver<job> rx) {
    tally t;
    std::array<int, producers> next_seq{};
    while (std::optional<job> j = co_await rx.recv()) {  // nullopt: every sender gone, queue drained
        ++t.total;
        ++t.per_producer[j->producer];
        if (j->seq != next_seq[j->producer]) t.in_order = false;
        next_seq[j->producer] = j->seq + 1;
    }
    co_return t;
}

corio::task<void> run() {
    fmt::print("producer_consumer: {} producers x {} jobs over mpsc::channel<job>(8), one consumer\n",
               producers, jobs_per_producer);
    auto [tx, rx] = corio::mpsc::channel<job>(8);

    corio::join_handle<tally> consumer_done = corio::spawn(consumer(std::move(rx)));
    std::vector<corio::join_handle<int>> producers_done;
    for (int id = 0; id < producers; ++id) producers_done.push_back(corio::spawn(producer(tx, id)));  // a copy each
    fmt::print("main: each producer got a copy of the sender; dropping main's own copy\n");
    { auto dropped = std::move(tx); }  // the channel now closes when the last producer returns

    for (int id = 0; id < producers; ++id) {
        int sent = (co_await producers_done[static_cast<std::size_t>(id)]).value();
        fmt::print("producer {} sent {} jobs and dropped its sender\n", id, sent);
    }
    tally t = (co_await consumer_done).value();
    fmt::print("consumer: recv() returned nullopt: the last sender is gone and the queue is drained\n");
    for (int id = 0; id < producers; ++id) fmt::print("  from producer {}: {} jobs\n", id, t.per_producer[id]);
    fmt::print("consumer received {} jobs in total (expected {})\n", t.total, producers * jobs_per_producer);
    fmt::print("each producer's jobs arrived in the order it sent them: {}\n", t.in_order ? "yes" : "NO");
}

}  // namespace

int main(int argc, char** argv) {
    if (argc > 1) {
        fmt::print(stderr, "usage: {}\n", argv[0]);
        return 2;
    }
    try {
        corio::runtime rt({.worker_threads = 2});  // producers and consumer run in parallel
        rt.block_on(run());
        return 0;
    } catch (const std::exception& e) {
        corio_samples::log::error("producer_consumer: {}", e.what());
        return 1;
    }
}
