// select_two (docs/workloads.md; same counts, values and checks as the Tokio peer): two bounded(1024) channels, one producer each, one consumer
// looping on a fair select over both recvs (each branch guarded by `if_(open)`) until both close.
#include "workload.hpp"

#include <corio/channels/mpsc.hpp>
#include <corio/runtime/runtime.hpp>
#include <corio/runtime/select.hpp>

#include <fmt/format.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

namespace {

using bench::clock;

corio::task<void> select_producer(corio::mpsc::sender<std::uint64_t> tx, std::uint64_t per) {
    for (std::uint64_t i = 0; i < per; ++i) {
        auto r = co_await tx.send(i);
        if (!r) co_return;
    }
}

struct two_counts {
    std::uint64_t next1 = 0;
    std::uint64_t next2 = 0;
    std::string error;
};

corio::task<two_counts> select_consumer(corio::mpsc::receiver<std::uint64_t> rx1, corio::mpsc::receiver<std::uint64_t> rx2) {
    two_counts c;
    bool open1 = true, open2 = true;
    // A plain-callable select in a loop: the select_operation lives in this frame; no allocation.
    for (bool done = false; !done && c.error.empty();) {
        co_await corio::select(corio::branch(rx1.recv(),
                                             [&](std::optional<std::uint64_t> v) {
                                                 if (!v) open1 = false;
                                                 else if (*v == c.next1) ++c.next1;
                                                 else c.error = fmt::format("channel 1: got {}, expected {}", *v, c.next1);
                                             })
                                   .if_(open1),
                               corio::branch(rx2.recv(),
                                             [&](std::optional<std::uint64_t> v) {
                                                 if (!v) open2 = false;
                                                 else if (*v == c.next2) ++c.next2;
                                                 else c.error = fmt::format("channel 2: got {}, expected {}", *v, c.next2);
                                             })
                                   .if_(open2),
                               corio::otherwise([&] { done = true; }));
    }
    co_return c;
}

corio::task<bench::sample> select_two(double scale) {
    const std::uint64_t per = bench::scaled(500'000, scale);
    auto t0 = clock::now();
    auto [tx1, rx1] = corio::mpsc::channel<std::uint64_t>(1024);
    auto [tx2, rx2] = corio::mpsc::channel<std::uint64_t>(1024);
    corio::spawn(select_producer(std::move(tx1), per)).detach();
    corio::spawn(select_producer(std::move(tx2), per)).detach();
    auto consumer = corio::spawn(select_consumer(std::move(rx1), std::move(rx2)));
    auto r = co_await consumer;
    if (!r) co_return bench::failed("consumer task failed");
    bench::sample s = bench::make_sample(2 * per, t0);
    if (!r->error.empty()) co_return bench::failed(r->error);
    if (r->next1 != per || r->next2 != per)
        co_return bench::failed(fmt::format("received {} + {}, want {} each", r->next1, r->next2, per));
    co_return s;
}

bench::registrar s0("select_two", select_two);

}  // namespace
