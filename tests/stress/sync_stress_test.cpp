// sync_stress_test: corio::sync under contention on 2 workers with aborts mixed in — a mutex keeps a
// non-atomic counter exact and is never lost when tasks parked in (or holding) it are aborted; a
// notify ping-pong never loses a notify_one although decoy waiters that receive it are aborted
// (L2 forwarding); a barrier elects one leader per generation. Counts only; time bounds are hang guards.
//
// Scale: iteration counts are multiplied by the environment variable CORIO_STRESS_SCALE (default
// CORIO_STRESS_SCALE_DEFAULT, a CMake cache variable), and cut down under ThreadSanitizer.
#include <corio/channels/sync/barrier.hpp>
#include <corio/channels/sync/mutex.hpp>
#include <corio/channels/sync/notify.hpp>
#include <corio/runtime/runtime.hpp>
#include <corio/runtime/yield_now.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "support/stress.hpp"

namespace {

using namespace std::chrono_literals;
using corio::testing::hang_guard;
using corio::testing::iterations;

// --- mutex ------------------------------------------------------------------------------------

struct plain_counter {
    std::uint64_t value = 0;  // deliberately not atomic: the mutex is the only protection
};
using counter_mutex = corio::sync::mutex<plain_counter>;

corio::task<int> increment_loop(counter_mutex* m, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
        auto g = co_await m->lock();
        const std::uint64_t v = g->value;
        if (i % 3 == 0) co_await corio::yield_now();  // held across a suspension
        g->value = v + 1;
    }
    co_return 0;
}

// Increments once, after its last suspension: an abort either lands before (no increment) or
// not at all (the task completes and is counted).
corio::task<int> victim(counter_mutex* m) {
    auto g = co_await m->lock();
    co_await corio::yield_now();
    g->value += 1;
    co_return 1;
}

TEST(sync_stress, mutex_counter_stays_exact_with_aborts_mixed_in) {
    const std::size_t workers = 6, per_worker = iterations(20'000, 4'000), victims = iterations(3'000, 1'000);
    corio::runtime rt({.worker_threads = 2});
    counter_mutex m;
    std::atomic<std::size_t> victims_done{0}, victims_aborted{0};
    hang_guard guard("mutex_counter", [&] {
        return "victims_done=" + std::to_string(victims_done.load()) +
               " victims_aborted=" + std::to_string(victims_aborted.load());
    });
    std::vector<corio::join_handle<int>> hs;
    for (std::size_t i = 0; i < workers; ++i) hs.push_back(rt.spawn(increment_loop(&m, per_worker)));
    std::mt19937 rng(12345);
    std::size_t completed = 0;
    for (std::size_t i = 0; i < victims; ++i) {
        auto v = rt.spawn(victim(&m));
        const int delay = static_cast<int>(rng() % 50);
        if (delay > 0) std::this_thread::sleep_for(std::chrono::microseconds(delay));
        v.abort();
        auto r = v.blocking_join();
        if (r) ++completed, victims_done.fetch_add(1);
        else victims_aborted.fetch_add(1);
    }
    for (auto& h : hs) EXPECT_EQ(h.blocking_join().value(), 0);
    EXPECT_EQ(m.get_mut().value, workers * per_worker + completed);
    EXPECT_TRUE(m.try_lock());  // not lost
    std::printf("mutex: %zu victims completed, %zu aborted\n", completed, victims - completed);
}

// --- notify -----------------------------------------------------------------------------------

struct ping_state {
    corio::sync::notify ping, ack;
    std::atomic<std::size_t> receipts{0};
    std::atomic<std::size_t> sent{0};
};

// Answers pings until aborted.
corio::task<int> consumer(ping_state* s) {
    for (;;) {
        co_await s->ping.notified();
        s->receipts.fetch_add(1);
        s->ack.notify_one();
    }
    co_return 0;  // unreachable: ends by abort
}

// Competes with the consumer for one ping; aborted at a random moment. Receiving (the await
// reporting ready) and acking happen with no suspension in between, so an aborted decoy either
// never received, or forwarded what it was handed (L2).
corio::task<int> decoy(ping_state* s) {
    co_await s->ping.notified();
    s->receipts.fetch_add(1);
    s->ack.notify_one();
    co_return 1;
}

corio::task<int> producer(ping_state* s, std::size_t rounds) {
    for (std::size_t i = 0; i < rounds; ++i) {
        s->sent.fetch_add(1);
        s->ping.notify_one();
        co_await s->ack.notified();
    }
    co_return 0;
}

TEST(sync_stress, notify_ping_pong_loses_no_permit_when_receivers_are_aborted) {
    const std::size_t rounds = iterations(50'000, 20'000);
    corio::runtime rt({.worker_threads = 2});
    ping_state s;
    std::atomic<std::size_t> decoys{0};
    hang_guard guard("notify_ping_pong", [&] {
        return "sent=" + std::to_string(s.sent.load()) + " receipts=" + std::to_string(s.receipts.load()) +
               " decoys=" + std::to_string(decoys.load());
    });
    auto c = rt.spawn(consumer(&s));
    auto p = rt.spawn(producer(&s, rounds));
    std::mt19937 rng(777);
    while (!p.is_finished()) {
        auto d = rt.spawn(decoy(&s));
        const int delay = static_cast<int>(rng() % 40);
        if (delay > 0) std::this_thread::sleep_for(std::chrono::microseconds(delay));
        d.abort();
        (void)d.blocking_join();
        decoys.fetch_add(1);
    }
    EXPECT_EQ(p.blocking_join().value(), 0);
    c.abort();
    (void)c.blocking_join();
    EXPECT_EQ(s.receipts.load(), rounds);
    std::printf("notify: %zu rounds, %zu decoys\n", rounds, decoys.load());
}

// --- barrier ----------------------------------------------------------------------------------

corio::task<int> barrier_loop(corio::sync::barrier* b, std::atomic<std::size_t>* leaders, std::size_t rounds) {
    for (std::size_t r = 0; r < rounds; ++r) {
        auto res = co_await b->wait();
        if (res.is_leader()) leaders->fetch_add(1);
    }
    co_return 0;
}

TEST(sync_stress, barrier_elects_one_leader_per_generation) {
    const std::size_t n = 7, rounds = iterations(20'000, 5'000);
    corio::runtime rt({.worker_threads = 2});
    corio::sync::barrier b(n);
    std::atomic<std::size_t> leaders{0};
    hang_guard guard("barrier", [&] { return "leaders=" + std::to_string(leaders.load()); });
    std::vector<corio::join_handle<int>> hs;
    for (std::size_t i = 0; i < n; ++i) hs.push_back(rt.spawn(barrier_loop(&b, &leaders, rounds)));
    for (auto& h : hs) EXPECT_EQ(h.blocking_join().value(), 0);
    EXPECT_EQ(leaders.load(), rounds);
}

}  // namespace
