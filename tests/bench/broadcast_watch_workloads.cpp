// broadcast_fanout, broadcast_lagged, watch_updates (docs/workloads.md; the same
// counts, checks and extra fields as the Tokio peer).
#include "workload.hpp"

#include <corio/channels/broadcast.hpp>
#include <corio/channels/watch.hpp>
#include <corio/runtime/runtime.hpp>
#include <corio/runtime/yield_now.hpp>

#include <fmt/format.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace {

using bench::clock;

struct broadcast_rx_result {
    std::uint64_t received = 0;
    std::uint64_t lagged = 0;
    std::string error;
};

corio::task<broadcast_rx_result> broadcast_receiver(corio::broadcast::receiver<std::uint64_t> rx) {
    broadcast_rx_result out;
    std::uint64_t next = 0;
    for (;;) {
        auto r = co_await rx.recv();
        if (r) {
            if (*r != next) {
                out.error = fmt::format("got {}, expected {}", *r, next);
                co_return out;
            }
            ++next;
            ++out.received;
        } else if (r.error().is_lagged()) {
            out.lagged += r.error().skipped();
            next += r.error().skipped();
        } else {
            break;
        }
    }
    co_return out;
}

corio::task<bench::sample> broadcast_run(double scale, std::size_t capacity, std::uint64_t yield_every) {
    const std::uint64_t receivers = 8;
    const std::uint64_t n = bench::scaled(100'000, scale);
    auto t0 = clock::now();
    auto [tx, rx0] = corio::broadcast::channel<std::uint64_t>(capacity);
    { auto unused = std::move(rx0); }  // Tokio's `let (tx, _) = ...` drops it at once
    std::vector<corio::join_handle<broadcast_rx_result>> handles;
    handles.reserve(receivers);
    for (std::uint64_t r = 0; r < receivers; ++r) handles.push_back(corio::spawn(broadcast_receiver(tx.subscribe())));
    for (std::uint64_t i = 0; i < n; ++i) {
        if (!tx.send(i)) co_return bench::failed("all receivers gone");
        if (yield_every > 0 && (i + 1) % yield_every == 0) co_await corio::yield_now();
    }
    { auto gone = std::move(tx); }
    std::vector<broadcast_rx_result> per_rx;
    per_rx.reserve(receivers);
    for (auto& h : handles) {
        auto r = co_await h;
        if (!r) co_return bench::failed("receiver task failed");
        if (!r->error.empty()) co_return bench::failed(r->error);
        per_rx.push_back(std::move(*r));
    }
    bench::sample s = bench::make_sample(receivers * n, t0);
    std::uint64_t total_lagged = 0;
    for (std::size_t r = 0; r < per_rx.size(); ++r) {
        total_lagged += per_rx[r].lagged;
        if (per_rx[r].received + per_rx[r].lagged != n)
            co_return bench::failed(fmt::format("receiver {}: received {} + lagged {} != {}", r, per_rx[r].received,
                                                per_rx[r].lagged, n));
        if (yield_every == 0 && per_rx[r].lagged != 0)
            co_return bench::failed(fmt::format("receiver {} lagged {} (no lag allowed)", r, per_rx[r].lagged));
    }
    s.extra.emplace_back("lagged", static_cast<double>(total_lagged));
    co_return s;
}

corio::task<bench::sample> broadcast_fanout(double scale) { return broadcast_run(scale, 131'072, 0); }
corio::task<bench::sample> broadcast_lagged(double scale) { return broadcast_run(scale, 1'024, 256); }

struct watch_rx_result {
    std::uint64_t last = 0;
    std::uint64_t observed = 0;
    std::string error;
};

corio::task<watch_rx_result> watch_receiver(corio::watch::receiver<std::uint64_t> rx, std::uint64_t n) {
    watch_rx_result out;
    while (out.last != n) {
        auto r = co_await rx.changed();
        if (!r) break;
        const std::uint64_t v = *rx.borrow_and_update();
        if (v < out.last) {
            out.error = fmt::format("value went backwards: {} -> {}", out.last, v);
            co_return out;
        }
        out.last = v;
        ++out.observed;
    }
    co_return out;
}

corio::task<bench::sample> watch_updates(double scale) {
    const std::uint64_t receivers = 4;
    const std::uint64_t n = bench::scaled(1'000'000, scale);
    auto t0 = clock::now();
    auto [tx, rx] = corio::watch::channel<std::uint64_t>(0);
    std::vector<corio::join_handle<watch_rx_result>> handles;
    handles.reserve(receivers);
    for (std::uint64_t r = 0; r < receivers; ++r) handles.push_back(corio::spawn(watch_receiver(rx, n)));
    { auto gone = std::move(rx); }
    for (std::uint64_t i = 1; i <= n; ++i) {
        if (!tx.send(i)) co_return bench::failed("all receivers gone before the last value");
        if (i % 100 == 0) co_await corio::yield_now();
    }
    std::uint64_t observed = 0;
    std::vector<std::uint64_t> finals;
    for (auto& h : handles) {
        auto r = co_await h;
        if (!r) co_return bench::failed("receiver task failed");
        if (!r->error.empty()) co_return bench::failed(r->error);
        finals.push_back(r->last);
        observed += r->observed;
    }
    { auto gone = std::move(tx); }
    bench::sample s = bench::make_sample(n, t0);
    for (auto v : finals)
        if (v != n) co_return bench::failed(fmt::format("final values {}, want {}", fmt::join(finals, ","), n));
    s.extra.emplace_back("observed", static_cast<double>(observed));
    co_return s;
}

bench::registrar r0("broadcast_fanout", broadcast_fanout);
bench::registrar r1("broadcast_lagged", broadcast_lagged);
bench::registrar r2("watch_updates", watch_updates);

}  // namespace
