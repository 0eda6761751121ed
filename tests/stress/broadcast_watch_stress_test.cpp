// broadcast_watch_stress_test: randomized model tests of corio::broadcast and corio::watch on 2 workers: broadcast against an exact sequential model (values, lag counts, closed), and concurrently (received + lagged == sent, order, tail delivered, aborts unlink); watch never goes backwards and ends on the last value.
//
// Scale: iteration counts are multiplied by the environment variable CORIO_STRESS_SCALE (default
// CORIO_STRESS_SCALE_DEFAULT, a CMake cache variable), and cut down under ThreadSanitizer.
#include <corio/channels/broadcast.hpp>
#include <corio/channels/watch.hpp>
#include <corio/runtime/runtime.hpp>
#include <corio/runtime/yield_now.hpp>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <atomic>
#include <bit>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "support/stress.hpp"

namespace {

using namespace std::chrono_literals;
using corio::testing::hang_guard;
using corio::testing::iterations;

// --- broadcast: sequential model -----------------------------------------------------------

// Tokio's broadcast semantics, written as plainly as possible.
struct broadcast_model {
    std::size_t len;
    std::vector<std::uint64_t> history;  // every value sent, by position
    bool closed = false;
    struct rx {
        std::uint64_t next;
        bool alive = true;
    };
    std::vector<rx> rxs;

    std::size_t alive() const {
        std::size_t n = 0;
        for (auto& r : rxs) n += r.alive;
        return n;
    }
    // -1: no receivers; else the count.
    long send(std::uint64_t v) {
        const std::size_t n = alive();
        if (n == 0) return -1;
        history.push_back(v);
        return static_cast<long>(n);
    }
    // value, or error as the corio error.
    corio::result<std::uint64_t, corio::broadcast::try_recv_error> try_recv(std::size_t i) {
        using E = corio::broadcast::try_recv_error;
        rx& r = rxs[i];
        const std::uint64_t tail = history.size();
        if (r.next == tail) return corio::unexpected(closed ? E::closed() : E::empty());
        if (tail - r.next > len) {
            const std::uint64_t oldest = tail - len;
            const std::uint64_t missed = oldest - r.next;
            r.next = oldest;
            return corio::unexpected(E::lagged(missed));
        }
        return history[r.next++];
    }
};

TEST(stress_broadcast, matches_a_sequential_model) {
    const std::size_t rounds = iterations(2000, 500);
    std::mt19937_64 rng(0xb0adca57);
    hang_guard guard("broadcast model", nullptr);
    for (std::size_t round = 0; round < rounds; ++round) {
        const std::size_t cap = 1 + rng() % 9;
        auto [tx0, rx0] = corio::broadcast::channel<std::uint64_t>(cap);
        std::optional<corio::broadcast::sender<std::uint64_t>> tx(std::move(tx0));
        std::vector<std::optional<corio::broadcast::receiver<std::uint64_t>>> rxs;
        rxs.emplace_back(std::move(rx0));
        broadcast_model m{std::bit_ceil(cap), {}, false, {{0}}};
        std::uint64_t next_value = 1000 * round;
        for (int step = 0; step < 300; ++step) {
            const unsigned op = rng() % 100;
            if (op < 45 && tx) {
                const std::uint64_t v = next_value++;
                auto got = tx->send(v);
                const long want = m.send(v);
                if (want < 0) {
                    ASSERT_FALSE(got) << "round " << round;
                } else {
                    ASSERT_EQ(got.value(), static_cast<std::size_t>(want)) << "round " << round;
                }
            } else if (op < 85) {
                const std::size_t i = rng() % rxs.size();
                if (!m.rxs[i].alive) continue;
                auto got = rxs[i]->try_recv();
                auto want = m.try_recv(i);
                ASSERT_EQ(got.has_value(), want.has_value()) << "round " << round << " step " << step;
                if (want) {
                    ASSERT_EQ(*got, *want);
                } else {
                    ASSERT_EQ(got.error(), want.error()) << to_string(got.error()) << " vs " << to_string(want.error());
                }
                ASSERT_EQ(rxs[i]->len(), m.history.size() - m.rxs[i].next);
            } else if (op < 92) {
                const std::size_t i = rng() % rxs.size();
                if (!m.rxs[i].alive) continue;
                if (rng() % 2) rxs.emplace_back(rxs[i]->resubscribe());
                else if (tx) rxs.emplace_back(tx->subscribe());
                else continue;
                m.rxs.push_back({m.history.size()});
            } else if (op < 98) {
                const std::size_t i = rng() % rxs.size();
                if (!m.rxs[i].alive) continue;
                rxs[i].reset();
                m.rxs[i].alive = false;
            } else if (tx && rng() % 4 == 0) {
                tx.reset();
                m.closed = true;
            }
            if (tx) {
                ASSERT_EQ(tx->receiver_count(), m.alive());
            }
        }
    }
}

// --- broadcast: concurrent -----------------------------------------------------------------

struct rx_outcome {
    std::uint64_t received = 0;
    std::uint64_t lagged = 0;
    std::uint64_t lag_events = 0;
    std::vector<std::uint64_t> tail_values;  // values >= n - len, in order
    std::string error;
};

corio::task<rx_outcome> broadcast_reader(corio::broadcast::receiver<std::uint64_t> rx, std::uint64_t n,
                                         std::uint64_t len, std::uint64_t seed) {
    rx_outcome out;
    std::mt19937_64 rng(seed);
    std::uint64_t next = 0;
    for (;;) {
        auto r = co_await rx.recv();
        if (r) {
            if (*r != next) {
                out.error = fmt::format("got {}, expected {}", *r, next);
                co_return out;
            }
            if (*r + len >= n) out.tail_values.push_back(*r);
            ++next;
            ++out.received;
        } else if (r.error().is_lagged()) {
            const std::uint64_t k = r.error().skipped();
            if (k == 0) {
                out.error = "lagged(0)";
                co_return out;
            }
            out.lagged += k;
            ++out.lag_events;
            next += k;
        } else {
            break;
        }
        if (rng() % 8 == 0) co_await corio::yield_now();
    }
    co_return out;
}

corio::task<void> broadcast_writer(corio::broadcast::sender<std::uint64_t> tx, std::uint64_t n, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    for (std::uint64_t i = 0; i < n; ++i) {
        (void)tx.send(i);
        if (rng() % 16 == 0) co_await corio::yield_now();
    }
}

corio::task<void> broadcast_parked_forever(corio::broadcast::receiver<std::uint64_t> rx) {
    for (;;) {
        auto r = co_await rx.recv();
        if (!r && r.error().is_closed()) co_return;
    }
}

TEST(stress_broadcast, concurrent_receivers_account_for_every_send) {
    const std::size_t rounds = iterations(1000, 200);
    std::atomic<std::size_t> round_now{0};
    hang_guard guard("broadcast concurrent", [&] { return fmt::format("round {}", round_now.load()); });
    corio::runtime rt({.worker_threads = 2});
    std::mt19937_64 rng(0xfa57);
    for (std::size_t round = 0; round < rounds; ++round) {
        round_now = round;
        const std::size_t cap = std::size_t{1} << (rng() % 8);
        const std::uint64_t n = 1 + rng() % 3000;
        const std::size_t readers = 1 + rng() % 4;
        auto [tx, rx] = corio::broadcast::channel<std::uint64_t>(cap);
        std::vector<corio::join_handle<rx_outcome>> hs;
        for (std::size_t r = 0; r < readers; ++r) hs.push_back(rt.spawn(broadcast_reader(tx.subscribe(), n, cap, rng())));
        // Readers that get aborted while parked or mid-stream: they must unlink cleanly.
        std::vector<corio::join_handle<void>> doomed;
        for (int d = 0; d < 2; ++d) doomed.push_back(rt.spawn(broadcast_parked_forever(tx.subscribe())));
        { auto gone = std::move(rx); }
        auto w = rt.spawn(broadcast_writer(std::move(tx), n, rng()));
        if (rng() % 2) std::this_thread::yield();
        for (auto& d : doomed) d.abort();
        ASSERT_TRUE(w.blocking_join().has_value());
        for (auto& d : doomed) (void)d.blocking_join();
        for (std::size_t r = 0; r < readers; ++r) {
            rx_outcome o = hs[r].blocking_join().value();
            ASSERT_TRUE(o.error.empty()) << o.error << " (round " << round << ", cap " << cap << ", n " << n << ")";
            ASSERT_EQ(o.received + o.lagged, n) << "round " << round;
            // The last len values are never overwritten: every reader gets them all.
            const std::uint64_t tail = std::min<std::uint64_t>(n, cap);
            ASSERT_EQ(o.tail_values.size(), tail) << "round " << round;
            if (cap >= n) {
                ASSERT_EQ(o.lagged, 0u);
            }
        }
    }
}

// --- watch -----------------------------------------------------------------------------------

struct watch_outcome {
    std::uint64_t last = 0;
    std::uint64_t observed = 0;
    std::string error;
};

corio::task<watch_outcome> watch_reader(corio::watch::receiver<std::uint64_t> rx, std::uint64_t seed) {
    watch_outcome out;
    std::mt19937_64 rng(seed);
    for (;;) {
        auto r = co_await rx.changed();
        if (!r) break;
        const std::uint64_t v = *rx.borrow_and_update();
        if (v < out.last) {
            out.error = fmt::format("went from {} to {}", out.last, v);
            co_return out;
        }
        out.last = v;
        ++out.observed;
        if (rng() % 4 == 0) co_await corio::yield_now();
    }
    // Closed: the final value must be visible and seen.
    out.last = *rx.borrow();
    co_return out;
}

corio::task<std::uint64_t> watch_wait_for(corio::watch::receiver<std::uint64_t> rx, std::uint64_t target) {
    auto pred = [target](const std::uint64_t& v) { return v >= target; };
    auto r = co_await rx.wait_for(pred);
    if (!r) co_return 0;
    co_return **r;
}

corio::task<void> watch_writer(corio::watch::sender<std::uint64_t> tx, std::uint64_t n, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    for (std::uint64_t i = 1; i <= n; ++i) {
        switch (rng() % 4) {
            case 0: (void)tx.send_replace(i); break;
            case 1: tx.send_modify([i](std::uint64_t& v) { v = i; }); break;
            case 2:
                // Modified but not announced, then announced: receivers still end on n.
                (void)tx.send_if_modified([i](std::uint64_t& v) {
                    v = i;
                    return false;
                });
                (void)tx.send_if_modified([](std::uint64_t&) { return true; });
                break;
            default: (void)tx.send(i); break;
        }
        if (rng() % 32 == 0) co_await corio::yield_now();
    }
}

TEST(stress_watch, receivers_never_go_backwards_and_end_on_the_last_value) {
    const std::size_t rounds = iterations(1000, 200);
    std::atomic<std::size_t> round_now{0};
    hang_guard guard("watch", [&] { return fmt::format("round {}", round_now.load()); });
    corio::runtime rt({.worker_threads = 2});
    std::mt19937_64 rng(0x3a7c4);
    for (std::size_t round = 0; round < rounds; ++round) {
        round_now = round;
        const std::uint64_t n = 1 + rng() % 5000;
        auto [tx, rx] = corio::watch::channel<std::uint64_t>(0);
        std::vector<corio::join_handle<watch_outcome>> hs;
        const std::size_t readers = 1 + rng() % 4;
        for (std::size_t r = 0; r < readers; ++r) hs.push_back(rt.spawn(watch_reader(rx, rng())));
        auto waiter = rt.spawn(watch_wait_for(rx, n));
        auto doomed = rt.spawn(watch_reader(rx, rng()));
        { auto gone = std::move(rx); }
        auto w = rt.spawn(watch_writer(std::move(tx), n, rng()));
        if (rng() % 2) std::this_thread::yield();
        doomed.abort();
        ASSERT_TRUE(w.blocking_join().has_value());
        (void)doomed.blocking_join();
        for (auto& h : hs) {
            watch_outcome o = h.blocking_join().value();
            ASSERT_TRUE(o.error.empty()) << o.error << " (round " << round << ")";
            ASSERT_EQ(o.last, n) << "round " << round;
            ASSERT_GE(o.observed, 1u);
            ASSERT_LE(o.observed, 2 * n);
        }
        ASSERT_EQ(waiter.blocking_join().value(), n) << "round " << round;
    }
}

// Values whose halves must match: a torn read (half old, half new) breaks `check`. pair32 is read
// through the seqlock (8 bytes), triple64 through the rw_lock.
struct pair32 {
    std::uint32_t a = 0, b = 0;
    static pair32 make(std::uint32_t i) { return {i, i * 2654435761u}; }
    std::uint64_t key() const { return a; }
    bool check() const { return b == a * 2654435761u; }
};
struct triple64 {
    std::uint64_t a = 0, b = 0, c = 0;
    static triple64 make(std::uint64_t i) { return {i, ~i, i * 3}; }
    std::uint64_t key() const { return a; }
    bool check() const { return b == ~a && c == a * 3; }
};
static_assert(corio::detail::watch_snapshot<pair32> && corio::detail::watch_snapshot<std::uint64_t>);
static_assert(!corio::detail::watch_snapshot<triple64> && !corio::detail::watch_snapshot<std::string>);

// Each change a reader observes is a value it has not seen (strictly newer: every send here
// writes a new value), whole, and the reader ends on the last one.
template <class V>
std::string read_changes(corio::watch::receiver<V>& rx, std::uint64_t n) {
    std::uint64_t last = 0;
    while (rx.blocking_changed().has_value()) {
        auto g = rx.borrow_and_update();
        if (!g->check()) return fmt::format("torn value {}/{}", g->a, g->b);
        if (g->key() <= last) return fmt::format("change to {} after {}", g->key(), last);
        last = g->key();
    }
    auto g = rx.borrow();
    if (!g->check()) return "torn final value";
    if (g->key() != n) return fmt::format("ended on {}, want {}", g->key(), n);
    return {};
}

template <class V>
corio::task<std::string> watch_struct_reader(corio::watch::receiver<V> rx, std::uint64_t n) {
    std::uint64_t last = 0;
    for (;;) {
        auto changed = co_await rx.changed();
        if (!changed) break;
        auto g = rx.borrow_and_update();
        if (!g->check()) co_return fmt::format("task: torn value {}", g->key());
        if (g->key() <= last) co_return fmt::format("task: change to {} after {}", g->key(), last);
        last = g->key();
    }
    if (rx.borrow()->key() != n) co_return "task: did not end on the last value";
    co_return std::string();
}

template <class V>
void torn_read_round(corio::runtime& rt, std::uint64_t n) {
    auto [tx, rx] = corio::watch::channel<V>(V::make(0));
    auto task_reader = rt.spawn(watch_struct_reader(rx, n));
    std::string thread_error;
    std::thread t([&thread_error, r = rx, n]() mutable { thread_error = read_changes(r, n); });
    { auto gone = std::move(rx); }
    for (std::uint64_t i = 1; i <= n; ++i) {
        if (i % 2) (void)tx.send(V::make(static_cast<std::uint32_t>(i)));
        else tx.send_modify([i](V& v) { v = V::make(static_cast<std::uint32_t>(i)); });
        if (!tx.borrow()->check()) FAIL() << "sender's borrow torn";
    }
    { auto gone = std::move(tx); }
    t.join();
    EXPECT_EQ(thread_error, "");
    EXPECT_EQ(task_reader.blocking_join().value(), "");
}

TEST(stress_watch, borrows_are_never_torn_in_seqlock_or_lock_mode) {
    const std::size_t rounds = iterations(40, 10);
    hang_guard guard("watch torn", nullptr);
    corio::runtime rt({.worker_threads = 2});
    for (std::size_t round = 0; round < rounds; ++round) {
        torn_read_round<pair32>(rt, 20'000);
        torn_read_round<triple64>(rt, 20'000);
    }
}

corio::task<void> closed_waiter(corio::watch::sender<int>* tx) { co_await tx->closed(); }

TEST(stress_watch, closed_completes_when_receivers_race_away) {
    const std::size_t rounds = iterations(2000, 1000);
    hang_guard guard("watch closed", nullptr);
    corio::runtime rt({.worker_threads = 2});
    for (std::size_t round = 0; round < rounds; ++round) {
        auto [tx, rx] = corio::watch::channel<int>(0);
        auto rx2 = rx;
        auto h = rt.spawn(closed_waiter(&tx));
        std::thread t([r = std::move(rx2)]() mutable { auto gone = std::move(r); });
        { auto gone = std::move(rx); }
        t.join();
        ASSERT_TRUE(h.blocking_join().has_value());
    }
}

}  // namespace
