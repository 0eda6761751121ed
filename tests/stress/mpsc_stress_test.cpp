// mpsc_stress_test: corio::mpsc under contention on 2 workers (docs/design/invariants.md, items 1, 2, 5, 6, 7): no message lost or duplicated, per-producer order, aborted senders/receivers lose nothing and hand values/permits back, receiver close/drop fails senders with their value, every value destroyed exactly once.
//
// Scale: iteration counts are multiplied by the environment variable CORIO_STRESS_SCALE (default
// CORIO_STRESS_SCALE_DEFAULT, a CMake cache variable), and cut down under ThreadSanitizer.
#include <corio/channels/mpsc.hpp>
#include <corio/runtime/runtime.hpp>
#include <corio/runtime/yield_now.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
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

// A message that counts its constructions and destructions.
struct msg {
    static inline std::atomic<long> made{0};
    static inline std::atomic<long> destroyed{0};
    msg(std::uint32_t p, std::uint32_t s) noexcept : producer(p), seq(s) { made.fetch_add(1, std::memory_order_relaxed); }
    msg(msg&& o) noexcept : producer(o.producer), seq(o.seq) { made.fetch_add(1, std::memory_order_relaxed); }
    msg(const msg&) = delete;
    ~msg() { destroyed.fetch_add(1, std::memory_order_relaxed); }
    std::uint32_t producer, seq;
};

// --- 1. 4 producers x 100k into bounded(1) ---------------------------------------------------

corio::task<void> produce_u64(corio::mpsc::sender<std::uint64_t> tx, std::uint64_t p, std::uint64_t n) {
    for (std::uint64_t i = 0; i < n; ++i) {
        const std::uint64_t v = (p << 40) | i;
        auto r = co_await tx.send(v);
        if (!r) co_return;
    }
}

corio::task<std::string> consume_u64(corio::mpsc::receiver<std::uint64_t> rx, std::uint64_t producers, std::uint64_t n,
                                     std::atomic<std::uint64_t>* progress) {
    std::vector<std::uint64_t> next(producers, 0);
    std::uint64_t count = 0;
    while (auto v = co_await rx.recv()) {
        const std::uint64_t p = *v >> 40, seq = *v & ((std::uint64_t{1} << 40) - 1);
        if (p >= producers || next[p] != seq)
            co_return "producer " + std::to_string(p) + ": got " + std::to_string(seq) + " expected " +
                std::to_string(p < producers ? next[p] : 0);
        ++next[p];
        ++count;
        progress->store(count, std::memory_order_relaxed);
    }
    if (count != producers * n) co_return "received " + std::to_string(count) + " of " + std::to_string(producers * n);
    co_return "";
}

TEST(mpsc_stress, four_producers_into_bounded_one_lose_nothing_and_keep_order) {
    const std::uint64_t per = iterations(100'000, 5'000);
    const std::size_t rounds = iterations(5, 2);
    std::atomic<std::uint64_t> progress{0};
    std::atomic<std::size_t> round{0};
    hang_guard guard("bounded_one", [&] {
        return "round " + std::to_string(round.load()) + " received " + std::to_string(progress.load());
    });
    corio::runtime rt({.worker_threads = 2});
    for (std::size_t r = 0; r < rounds; ++r) {
        round = r;
        auto [tx, rx] = corio::mpsc::channel<std::uint64_t>(1);
        auto consumer = rt.spawn(consume_u64(std::move(rx), 4, per, &progress));
        std::vector<corio::join_handle<void>> producers;
        for (std::uint64_t p = 0; p < 4; ++p) producers.push_back(rt.spawn(produce_u64(tx, p, per)));
        { auto gone = std::move(tx); }
        for (auto& h : producers) h.blocking_join().value();
        EXPECT_EQ(consumer.blocking_join().value(), "");
    }
}

// --- 2. randomized model test -----------------------------------------------------------------

struct producer_state {
    std::atomic<std::uint32_t> ok{0};        // sends that returned success
    std::atomic<std::uint32_t> back{0};      // sends that failed and handed the right value back
    std::atomic<std::uint32_t> bad_back{0};  // a handed-back value that was not the one sent
};

struct round_state {
    explicit round_state(std::size_t producers) : prod(producers) {}
    std::vector<producer_state> prod;
    std::mutex log_mutex;
    std::vector<std::vector<std::uint32_t>> received;  // per producer, guarded by log_mutex
    std::atomic<long> received_total{0};
};

void record(round_state* s, const msg& m) {
    std::lock_guard lock(s->log_mutex);
    s->received[m.producer].push_back(m.seq);
    s->received_total.fetch_add(1, std::memory_order_relaxed);
}

// Modes per message: 0 send, 1 try_send (yield while full), 2 reserve + permit.send.
corio::task<void> model_producer(corio::mpsc::sender<msg> tx, round_state* s, std::uint32_t p, std::uint32_t n,
                                 std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    producer_state& st = s->prod[p];
    for (std::uint32_t i = 0; i < n; ++i) {
        const int mode = static_cast<int>(rng() % 3);
        if (mode == 0) {
            msg m(p, i);
            auto r = co_await tx.send(std::move(m));
            if (r) {
                st.ok.fetch_add(1, std::memory_order_relaxed);
            } else {
                (r.error().value.seq == i ? st.back : st.bad_back).fetch_add(1, std::memory_order_relaxed);
                co_return;
            }
        } else if (mode == 1) {
            for (;;) {
                msg m(p, i);
                auto r = tx.try_send(std::move(m));
                if (r) {
                    st.ok.fetch_add(1, std::memory_order_relaxed);
                    break;
                }
                if (r.error().value.seq != i) st.bad_back.fetch_add(1, std::memory_order_relaxed);
                if (r.error().is_closed()) {
                    st.back.fetch_add(1, std::memory_order_relaxed);
                    co_return;
                }
                co_await corio::yield_now();
            }
        } else {
            auto permit = co_await tx.reserve();
            if (!permit) {
                st.back.fetch_add(1, std::memory_order_relaxed);
                co_return;
            }
            if (rng() % 8 == 0) co_await corio::yield_now();  // hold the permit across a suspension
            permit->send(msg(p, i));
            st.ok.fetch_add(1, std::memory_order_relaxed);
        }
        if (rng() % 16 == 0) co_await corio::yield_now();
    }
}

corio::task<void> model_unbounded_producer(corio::mpsc::unbounded_sender<msg> tx, round_state* s, std::uint32_t p,
                                           std::uint32_t n, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    producer_state& st = s->prod[p];
    for (std::uint32_t i = 0; i < n; ++i) {
        auto r = tx.send(msg(p, i));
        if (!r) {
            (r.error().value.seq == i ? st.back : st.bad_back).fetch_add(1, std::memory_order_relaxed);
            co_return;
        }
        st.ok.fetch_add(1, std::memory_order_relaxed);
        if (rng() % 8 == 0) co_await corio::yield_now();
    }
}

// Receives until the end, or (stop_after > 0) until that many values, then closes or drops.
// end: 0 = drain to the end, 1 = close() after stop_after then drain, 2 = drop after stop_after.
corio::task<void> model_consumer(corio::mpsc::receiver<msg>* rx, round_state* s, long stop_after, int end,
                                 std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::vector<msg> batch;
    for (;;) {
        if (end != 0 && s->received_total.load(std::memory_order_relaxed) >= stop_after) {
            if (end == 1) {
                rx->close();
                while (auto v = co_await rx->recv()) record(s, *v);
            } else {
                auto gone = std::move(*rx);
            }
            co_return;
        }
        if (rng() % 4 == 0) {
            batch.clear();
            const std::size_t got = co_await rx->recv_many(batch, 1 + rng() % 8);
            if (got == 0) co_return;
            for (auto& m : batch) record(s, m);
        } else {
            auto v = co_await rx->recv();
            if (!v) co_return;
            record(s, *v);
        }
    }
}

corio::task<void> yield_times(int n) {
    for (int i = 0; i < n; ++i) co_await corio::yield_now();
}

TEST(mpsc_stress, randomized_model_with_aborts_closes_and_drops) {
    const std::size_t rounds = iterations(400, 40);
    std::atomic<std::size_t> round{0};
    std::atomic<round_state*> current{nullptr};
    hang_guard guard("model", [&] {
        round_state* s = current.load();
        return "round " + std::to_string(round.load()) + " received " +
               (s ? std::to_string(s->received_total.load()) : std::string("-"));
    });
    msg::made = 0;
    msg::destroyed = 0;
    {
        corio::runtime rt({.worker_threads = 2});
        std::mt19937_64 rng(12345);
        for (std::size_t r = 0; r < rounds; ++r) {
            round = r;
            const bool unbounded = rng() % 4 == 0;
            const std::size_t cap = 1 + rng() % 4;
            const std::uint32_t producers = 1 + static_cast<std::uint32_t>(rng() % 6);
            const std::uint32_t per = 20 + static_cast<std::uint32_t>(rng() % 200);
            const int end = static_cast<int>(rng() % 3);
            const long stop_after = end ? static_cast<long>(rng() % (producers * per)) : 0;
            const bool abort_consumer = end == 0 && rng() % 3 == 0;
            round_state s(producers);
            s.received.resize(producers);
            current = &s;
            std::vector<bool> aborted(producers, false);
            {
                corio::mpsc::receiver<msg> rx;
                std::vector<corio::join_handle<void>> hs;
                if (unbounded) {
                    auto [tx, rx0] = corio::mpsc::unbounded_channel<msg>();
                    rx = std::move(rx0);
                    for (std::uint32_t p = 0; p < producers; ++p)
                        hs.push_back(rt.spawn(model_unbounded_producer(tx, &s, p, per, rng())));
                } else {
                    auto [tx, rx0] = corio::mpsc::channel<msg>(cap);
                    rx = std::move(rx0);
                    for (std::uint32_t p = 0; p < producers; ++p)
                        hs.push_back(rt.spawn(model_producer(tx, &s, p, per, rng())));
                }
                // Abort some producers at a random moment.
                for (std::uint32_t p = 0; p < producers; ++p) {
                    if (rng() % 4 == 0) {
                        rt.block_on(yield_times(static_cast<int>(rng() % 20)));
                        hs[p].abort();
                        aborted[p] = true;
                    }
                }
                if (abort_consumer) {
                    auto first = rt.spawn(model_consumer(&rx, &s, 0, 0, rng()));
                    rt.block_on(yield_times(static_cast<int>(rng() % 30)));
                    first.abort();
                    (void)first.blocking_join();  // finished or cancelled: either way nothing lost
                }
                auto consumer = rt.spawn(model_consumer(&rx, &s, stop_after, end, rng()));
                for (auto& h : hs) (void)h.blocking_join();
                consumer.blocking_join().value();
            }
            // Model check.
            for (std::uint32_t p = 0; p < producers; ++p) {
                const auto& got = s.received[p];
                for (std::size_t i = 0; i < got.size(); ++i) {
                    ASSERT_EQ(got[i], i) << "round " << r << " producer " << p << ": lost, duplicated or reordered";
                }
                const std::uint32_t ok = s.prod[p].ok.load(), back = s.prod[p].back.load();
                EXPECT_EQ(s.prod[p].bad_back.load(), 0u);
                if (end == 2) {
                    // Dropped receiver: queued values were destroyed unreceived.
                    EXPECT_LE(got.size(), ok + 1) << "round " << r;
                } else if (aborted[p]) {
                    // An abort may land between a completed send and its count.
                    EXPECT_TRUE(got.size() == ok || got.size() == ok + 1) << "round " << r << " producer " << p;
                } else {
                    EXPECT_EQ(got.size(), ok) << "round " << r << " producer " << p;
                }
                if (!aborted[p]) {
                    EXPECT_TRUE(ok == per || back == 1) << "round " << r << " producer " << p;
                }
                if (end == 0) {
                    EXPECT_EQ(back, 0u);
                }
            }
            current = nullptr;
            ASSERT_EQ(msg::made.load(), msg::destroyed.load()) << "round " << r << ": a message leaked";
        }
    }
    EXPECT_EQ(msg::made.load(), msg::destroyed.load());
}

// --- 3. lost bounded send (item 5) -------------------------------------------------------------

corio::task<int> send_one(corio::mpsc::sender<int> tx, int v) {
    auto r = co_await tx.send(v);
    co_return r ? 1 : 0;
}

TEST(mpsc_stress, aborted_waiting_sender_passes_its_slot_to_the_next) {
    const std::size_t rounds = iterations(2000, 200);
    hang_guard guard("lost_send", nullptr);
    corio::runtime rt({.worker_threads = 2});
    for (std::size_t r = 0; r < rounds; ++r) {
        auto [tx, rx] = corio::mpsc::channel<int>(1);
        EXPECT_TRUE(tx.try_send(0).has_value());
        auto first = rt.spawn(send_one(tx, 1));
        auto second = rt.spawn(send_one(tx, 2));
        if (r % 2) std::this_thread::yield();
        first.abort();
        auto v0 = rx.blocking_recv();
        ASSERT_TRUE(v0);
        EXPECT_EQ(*v0, 0);
        auto f = first.blocking_join();  // either it sent before the abort, or it sent nothing
        const int first_sent = f ? *f : 0;
        std::vector<int> rest;
        { auto gone = std::move(tx); }
        // Drain before joining `second`: if `first` sent before its abort landed, the channel is
        // full and `second` can only send once that value is received.
        while (auto v = rx.blocking_recv()) rest.push_back(*v);
        (void)second.blocking_join().value();
        ASSERT_EQ(rest.size(), static_cast<std::size_t>(1 + first_sent)) << "round " << r;
        EXPECT_EQ(rest.back() == 2 || rest.front() == 2, true);
    }
}

// --- metrics under contention: the counters account for every attempt ----------------------

corio::task<void> produce_counted(corio::mpsc::sender<std::uint64_t> tx, std::uint64_t n, std::atomic<std::uint64_t>* ok,
                                  std::atomic<std::uint64_t>* failed) {
    for (std::uint64_t i = 0; i < n; ++i) {
        // Alternate waiting sends and try_sends, so that both counting paths race.
        if (i % 2) {
            auto r = co_await tx.send(i);
            (r ? ok : failed)->fetch_add(1, std::memory_order_relaxed);
        } else {
            auto r = tx.try_send(i);
            (r ? ok : failed)->fetch_add(1, std::memory_order_relaxed);
        }
    }
}

corio::task<std::uint64_t> consume_counted(corio::mpsc::receiver<std::uint64_t> rx, std::uint64_t close_after) {
    std::uint64_t got = 0;
    while (auto v = co_await rx.recv()) {
        if (++got == close_after) rx.close();  // senders fail from here; queued values still drain
    }
    co_return got;
}

TEST(mpsc_stress, metrics_account_for_every_send_under_contention) {
    const std::size_t rounds = iterations(200, 20);
    constexpr std::uint64_t producers = 4, per = 2000;
    hang_guard guard("metrics", nullptr);
    corio::runtime rt({.worker_threads = 2});
    for (std::size_t r = 0; r < rounds; ++r) {
        auto [tx, rx] = corio::mpsc::channel<std::uint64_t>(4, corio::with_metrics);
        std::atomic<std::uint64_t> ok{0}, failed{0};
        auto consumer = rt.spawn(consume_counted(std::move(rx), producers * per / 2));
        std::vector<corio::join_handle<void>> hs;
        for (std::uint64_t p = 0; p < producers; ++p) hs.push_back(rt.spawn(produce_counted(tx, per, &ok, &failed)));
        for (auto& h : hs) ASSERT_TRUE(h.blocking_join().has_value());
        const auto m = tx.metrics();
        { auto gone = std::move(tx); }
        const std::uint64_t got = consumer.blocking_join().value();
        ASSERT_TRUE(m.has_value());
        EXPECT_EQ(ok.load() + failed.load(), producers * per);
        EXPECT_EQ(m->sent, ok.load()) << "round " << r;
        EXPECT_EQ(m->dropped, failed.load()) << "round " << r;
        EXPECT_EQ(got, ok.load()) << "round " << r;  // every accepted message was received
        EXPECT_LE(m->high_water, 4u);
        EXPECT_GE(m->high_water, 1u);
    }
}

}  // namespace
