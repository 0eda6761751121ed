// stream_stress_test: merge and stream_map over mpsc receivers fed by producer tasks on the
// multi-thread runtime — every message arrives exactly once and in per-producer order, also when
// the consumer abandons pending next() calls (timeouts) and moves streams in and out of the map.
#include <corio/channels/mpsc.hpp>
#include <corio/runtime/join_handle.hpp>
#include <corio/runtime/runtime.hpp>
#include <corio/runtime/time.hpp>
#include <corio/runtime/yield_now.hpp>
#include <corio/stream.hpp>

#include "support/stress.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

using namespace std::chrono_literals;
namespace st = corio::stream;

namespace {

constexpr int channels = 3;
constexpr int producers_per_channel = 2;
constexpr int producers = channels * producers_per_channel;

std::uint64_t message(int producer, std::uint32_t seq) { return (std::uint64_t(producer) << 32) | seq; }

// Shared progress, for the hang guard's dump.
struct progress {
    std::atomic<std::uint64_t> sent{0};
    std::atomic<std::uint64_t> received{0};
    std::atomic<std::uint64_t> abandoned{0};
};

corio::task<void> produce(corio::mpsc::sender<std::uint64_t> tx, int id, std::uint32_t n, progress* p) {
    for (std::uint32_t i = 0; i < n; ++i) {
        auto r = co_await tx.send(message(id, i));
        if (!r) co_return;
        p->sent.fetch_add(1, std::memory_order_relaxed);
        if (i % 64 == 63) co_await corio::yield_now();
    }
}

// Checks one received message against the per-producer expectations.
std::string check(std::uint64_t m, std::vector<std::uint32_t>& next) {
    const auto id = static_cast<std::size_t>(m >> 32);
    const auto seq = static_cast<std::uint32_t>(m & 0xffffffffu);
    if (id >= next.size()) return "bad producer " + std::to_string(id);
    if (seq != next[id]) return "producer " + std::to_string(id) + ": got " + std::to_string(seq) + ", want " + std::to_string(next[id]);
    ++next[id];
    return "";
}

std::vector<corio::join_handle<void>> start_producers(std::vector<corio::mpsc::sender<std::uint64_t>>& txs, std::uint32_t n,
                                                      progress* p) {
    std::vector<corio::join_handle<void>> hs;
    for (int c = 0; c < channels; ++c) {
        for (int k = 0; k < producers_per_channel; ++k) {
            hs.push_back(corio::spawn(produce(txs[static_cast<std::size_t>(c)], c * producers_per_channel + k, n, p)));
        }
    }
    txs.clear();  // the producers hold the only senders: the channels close when they finish
    return hs;
}

corio::task<std::string> merge_round(std::uint32_t n, progress* p) {
    std::vector<corio::mpsc::sender<std::uint64_t>> txs;
    std::vector<corio::mpsc::receiver<std::uint64_t>> rxs;
    for (int c = 0; c < channels; ++c) {
        auto [tx, rx] = corio::mpsc::channel<std::uint64_t>(2);
        txs.push_back(std::move(tx));
        rxs.push_back(std::move(rx));
    }
    auto hs = start_producers(txs, n, p);
    auto s = st::merge(st::receiver_stream(std::move(rxs[0])), st::receiver_stream(std::move(rxs[1])),
                       st::receiver_stream(std::move(rxs[2])));
    std::vector<std::uint32_t> next(producers, 0);
    std::uint64_t got = 0;
    for (std::uint64_t round = 0;; ++round) {
        std::optional<std::uint64_t> v;
        if (round % 7 == 3) {
            // Abandon a pending next() now and then (at once, or after a real wait of about a
            // millisecond): it must have consumed nothing.
            const std::chrono::milliseconds d(round % 2);
            auto r = co_await corio::timeout(d, s.next());
            if (!r) {
                p->abandoned.fetch_add(1, std::memory_order_relaxed);
                continue;
            }
            v = std::move(*r);
        } else {
            v = co_await s.next();
        }
        if (!v) break;
        if (auto e = check(*v, next); !e.empty()) co_return e;
        ++got;
        p->received.fetch_add(1, std::memory_order_relaxed);
    }
    for (auto& h : hs) (void)co_await h;
    if (got != std::uint64_t(producers) * n) co_return "received " + std::to_string(got);
    co_return "";
}

TEST(stream_stress, merge_of_mpsc_receivers_delivers_every_message_once_in_order) {
    const std::size_t rounds = corio::testing::iterations(40, 10);
    const auto n = static_cast<std::uint32_t>(corio::testing::iterations(3000, 1000));
    progress p;
    corio::testing::hang_guard guard("stream merge", [&p] {
        return "sent " + std::to_string(p.sent.load()) + " received " + std::to_string(p.received.load()) + " abandoned " +
               std::to_string(p.abandoned.load());
    });
    corio::runtime rt({.worker_threads = 4});
    for (std::size_t r = 0; r < rounds; ++r) ASSERT_EQ(rt.block_on(merge_round(n, &p)), "") << "round " << r;
}

corio::task<std::string> stream_map_round(std::uint32_t n, progress* p) {
    std::vector<corio::mpsc::sender<std::uint64_t>> txs;
    st::stream_map<int, st::receiver_stream<std::uint64_t>> m;
    for (int c = 0; c < channels; ++c) {
        auto [tx, rx] = corio::mpsc::channel<std::uint64_t>(2);
        txs.push_back(std::move(tx));
        m.insert(c, st::receiver_stream(std::move(rx)));
    }
    auto hs = start_producers(txs, n, p);
    std::vector<std::uint32_t> next(producers, 0);
    std::uint64_t got = 0;
    for (std::uint64_t round = 0;; ++round) {
        if (round % 11 == 5) {
            // Take a stream out and put it back: its queue and registration survive the moves.
            const int key = static_cast<int>(round % channels);
            if (auto s = m.remove(key)) m.insert(key, std::move(*s));
        }
        std::optional<std::pair<int, std::uint64_t>> kv;
        if (round % 5 == 2) {
            const std::chrono::milliseconds d(round % 2);
            auto r = co_await corio::timeout(d, m.next());
            if (!r) {
                p->abandoned.fetch_add(1, std::memory_order_relaxed);
                continue;
            }
            kv = std::move(*r);
        } else {
            kv = co_await m.next();
        }
        if (!kv) break;  // every stream ended and was removed
        const int channel = static_cast<int>(kv->second >> 32) / producers_per_channel;
        if (channel != kv->first) co_return "message from channel " + std::to_string(channel) + " under key " + std::to_string(kv->first);
        if (auto e = check(kv->second, next); !e.empty()) co_return e;
        ++got;
        p->received.fetch_add(1, std::memory_order_relaxed);
    }
    for (auto& h : hs) (void)co_await h;
    if (got != std::uint64_t(producers) * n) co_return "received " + std::to_string(got);
    if (!m.empty()) co_return "ended streams were not removed";
    co_return "";
}

TEST(stream_stress, stream_map_of_mpsc_receivers_delivers_every_message_once_in_order) {
    const std::size_t rounds = corio::testing::iterations(40, 10);
    const auto n = static_cast<std::uint32_t>(corio::testing::iterations(3000, 1000));
    progress p;
    corio::testing::hang_guard guard("stream_map", [&p] {
        return "sent " + std::to_string(p.sent.load()) + " received " + std::to_string(p.received.load()) + " abandoned " +
               std::to_string(p.abandoned.load());
    });
    corio::runtime rt({.worker_threads = 4});
    for (std::size_t r = 0; r < rounds; ++r) ASSERT_EQ(rt.block_on(stream_map_round(n, &p)), "") << "round " << r;
}

}  // namespace
