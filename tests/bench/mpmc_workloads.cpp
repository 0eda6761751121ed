// mpmc_contended (docs/workloads.md): 4 producer tasks x 250,000 u64 into one bounded(1024)
// multi-consumer channel drained by 4 consumer tasks. Checks: every message received exactly
// once; each consumer sees each producer's values in increasing order.
#include "workload.hpp"

#include <corio/channels/mpmc.hpp>
#include <corio/runtime/runtime.hpp>

#include <fmt/format.h>

#include <cstdint>
#include <string>
#include <vector>

namespace {

using bench::clock;

constexpr std::uint64_t producers = 4;
constexpr std::uint64_t consumers = 4;
constexpr unsigned seq_bits = 40;
constexpr std::uint64_t seq_mask = (std::uint64_t{1} << seq_bits) - 1;

corio::task<void> mpmc_producer(corio::mpmc::sender<std::uint64_t> tx, std::uint64_t p, std::uint64_t per) {
    for (std::uint64_t i = 0; i < per; ++i) {
        auto r = co_await tx.send((p << seq_bits) | i);
        if (!r) co_return;
    }
}

// One consumer: the per-producer sums and counts it saw (for exactly-once: the totals over all
// consumers must equal what was sent), and the first out-of-order value, if any.
struct consumer_result {
    std::vector<std::uint64_t> count = std::vector<std::uint64_t>(producers, 0);
    std::vector<std::uint64_t> sum = std::vector<std::uint64_t>(producers, 0);
    std::string error;
};

corio::task<consumer_result> mpmc_consumer(corio::mpmc::receiver<std::uint64_t> rx) {
    consumer_result out;
    std::vector<std::uint64_t> next(producers, 0);  // the smallest seq still allowed per producer
    while (auto v = co_await rx.recv()) {
        const std::uint64_t p = *v >> seq_bits, seq = *v & seq_mask;
        if (p >= producers || seq < next[p]) {
            if (out.error.empty())
                out.error = fmt::format("producer {}: seq {} after {}", p, seq, p < producers ? next[p] : 0);
            continue;
        }
        next[p] = seq + 1;
        ++out.count[p];
        out.sum[p] += seq;
    }
    co_return out;
}

corio::task<bench::sample> mpmc_contended(double scale) {
    const std::uint64_t per = bench::scaled(250'000, scale);
    auto t0 = clock::now();
    auto [tx, rx] = corio::mpmc::channel<std::uint64_t>(1024);
    std::vector<corio::join_handle<consumer_result>> cs;
    for (std::uint64_t c = 0; c < consumers; ++c) cs.push_back(corio::spawn(mpmc_consumer(rx)));
    { auto gone = std::move(rx); }
    for (std::uint64_t p = 0; p < producers; ++p) corio::spawn(mpmc_producer(tx, p, per)).detach();
    { auto gone = std::move(tx); }
    std::vector<consumer_result> results;
    for (auto& h : cs) {
        auto r = co_await h;
        if (!r) co_return bench::failed("consumer failed");
        results.push_back(std::move(*r));
    }
    bench::sample s = bench::make_sample(producers * per, t0);
    // Exactly once: each consumer's values per producer are strictly increasing (so no consumer
    // saw one twice); across consumers, per producer, the counts add up to `per` and the sums to
    // 0 + 1 + ... + per-1, which a duplicate paired with a loss would have to hit exactly.
    std::vector<std::uint64_t> count(producers, 0), sum(producers, 0);
    for (const auto& r : results) {
        if (!r.error.empty()) co_return bench::failed(r.error);
        for (std::uint64_t p = 0; p < producers; ++p) {
            count[p] += r.count[p];
            sum[p] += r.sum[p];
        }
    }
    for (std::uint64_t p = 0; p < producers; ++p) {
        if (count[p] != per || sum[p] != per * (per - 1) / 2)
            co_return bench::failed(
                fmt::format("producer {}: {} received (sum {}), want {}", p, count[p], sum[p], per));
    }
    co_return s;
}

bench::registrar m0("mpmc_contended", mpmc_contended);

}  // namespace
