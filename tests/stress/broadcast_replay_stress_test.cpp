// broadcast_replay_stress_test: corio::broadcast::replay(n) against an exact sequential model
// (values, lag counts, closed, receiver counts, no value outliving its window), and concurrently
// on 2 workers: two producer threads send while subscribers join, read, drop early or are
// aborted; every subscriber sees a contiguous in-order suffix that starts within the replay
// window of the moment it subscribed, received + lagged accounts for every value from its start,
// and no value is leaked or destroyed while a subscriber still owes it a read.
//
// Scale: iteration counts are multiplied by the environment variable CORIO_STRESS_SCALE (default
// CORIO_STRESS_SCALE_DEFAULT, a CMake cache variable), and cut down under ThreadSanitizer.
#include <corio/channels/broadcast.hpp>
#include <corio/runtime/runtime.hpp>
#include <corio/runtime/yield_now.hpp>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "support/stress.hpp"

namespace {

using corio::broadcast::replay;
using corio::testing::hang_guard;
using corio::testing::iterations;

// A value that knows its position twice (a destroyed or torn copy shows as a mismatch or a
// sanitizer report) and counts the live copies (a leak or a double destroy shows at the end).
struct msg {
    static inline std::atomic<long> live{0};
    explicit msg(std::uint64_t p) : pos(p), check(std::make_shared<const std::uint64_t>(p)) { ++live; }
    msg(const msg& o) : pos(o.pos), check(o.check) { ++live; }
    msg(msg&& o) noexcept : pos(o.pos), check(std::move(o.check)) { ++live; }
    msg& operator=(const msg&) = delete;
    ~msg() { --live; }
    bool intact() const { return check && *check == pos; }
    std::uint64_t pos;
    std::shared_ptr<const std::uint64_t> check;
};

std::uint64_t window_start(std::uint64_t tail, std::uint64_t n) { return tail - std::min(tail, n); }

// --- sequential model ------------------------------------------------------------------------

// The replay contract, written as plainly as possible: a subscriber starts at max(tail - n, 0).
struct replay_model {
    std::size_t len;
    std::size_t n;
    std::uint64_t tail = 0;  // sends that reached a receiver (positions)
    bool closed = false;
    struct rx {
        std::uint64_t next;
        bool alive = true;
    };
    std::vector<rx> rxs;

    std::size_t alive() const {
        std::size_t k = 0;
        for (auto& r : rxs) k += r.alive;
        return k;
    }
    long send() {
        const std::size_t k = alive();
        if (k == 0) return -1;
        ++tail;
        return static_cast<long>(k);
    }
    void subscribe() { rxs.push_back({window_start(tail, n)}); }
    corio::result<std::uint64_t, corio::broadcast::try_recv_error> try_recv(std::size_t i) {
        using E = corio::broadcast::try_recv_error;
        rx& r = rxs[i];
        if (r.next == tail) return corio::unexpected(closed ? E::closed() : E::empty());
        if (tail - r.next > len) {
            const std::uint64_t missed = tail - len - r.next;
            r.next = tail - len;
            return corio::unexpected(E::lagged(missed));
        }
        return r.next++;
    }
    // Values some handle may still need: those a live receiver has not passed, and the window
    // (while any handle is left: the last one frees the channel).
    long needed() const {
        if (closed && alive() == 0) return 0;
        std::uint64_t from = window_start(tail, n);
        for (auto& r : rxs)
            if (r.alive) from = std::min(from, std::max(r.next, tail - std::min<std::uint64_t>(tail, len)));
        return static_cast<long>(tail - from);
    }
};

TEST(stress_broadcast_replay, matches_a_sequential_model) {
    const std::size_t rounds = iterations(2000, 400);
    std::mt19937_64 rng(0x7e91a7);
    hang_guard guard("broadcast replay model", nullptr);
    for (std::size_t round = 0; round < rounds; ++round) {
        const std::size_t cap = 1 + rng() % 9;
        const std::size_t n = rng() % (cap + 1);
        msg::live = 0;
        {
            auto [tx0, rx0] = corio::broadcast::channel<msg>(cap, replay(n));
            std::optional<corio::broadcast::sender<msg>> tx(std::move(tx0));
            std::vector<std::optional<corio::broadcast::receiver<msg>>> rxs;
            rxs.emplace_back(std::move(rx0));
            replay_model m{std::bit_ceil(cap), n, 0, false, {{0}}};
            for (int step = 0; step < 300; ++step) {
                const unsigned op = rng() % 100;
                const std::string where = fmt::format("round {} step {} cap {} n {}", round, step, cap, n);
                if (op < 40 && tx) {
                    auto got = tx->send(msg(m.tail));
                    const long want = m.send();
                    ASSERT_EQ(got.has_value(), want >= 0) << where;
                    if (want >= 0) {
                        ASSERT_EQ(*got, static_cast<std::size_t>(want)) << where;
                    }
                } else if (op < 80) {
                    const std::size_t i = rng() % rxs.size();
                    if (!m.rxs[i].alive) continue;
                    auto got = rxs[i]->try_recv();
                    auto want = m.try_recv(i);
                    ASSERT_EQ(got.has_value(), want.has_value()) << where;
                    if (want) {
                        ASSERT_EQ(got->pos, *want) << where;
                        ASSERT_TRUE(got->intact()) << where;
                    } else {
                        ASSERT_EQ(got.error(), want.error()) << where;
                    }
                    ASSERT_EQ(rxs[i]->len(), m.tail - m.rxs[i].next) << where;
                } else if (op < 90) {
                    const std::size_t i = rng() % rxs.size();
                    if (!m.rxs[i].alive) continue;
                    if (rng() % 2) rxs.emplace_back(rxs[i]->resubscribe());
                    else if (tx) rxs.emplace_back(tx->subscribe());
                    else continue;
                    m.subscribe();
                    ASSERT_EQ(rxs.back()->len(), m.tail - m.rxs.back().next) << where;
                } else if (op < 97) {
                    const std::size_t i = rng() % rxs.size();
                    if (!m.rxs[i].alive) continue;
                    rxs[i].reset();
                    m.rxs[i].alive = false;
                } else if (tx && rng() % 4 == 0) {
                    tx.reset();
                    m.closed = true;
                }
                // Every value still needed is alive, and nothing else is: a receiver that was
                // not counted on a replayed value would free it early, one that was counted
                // twice would keep it.
                ASSERT_EQ(msg::live.load(), m.needed()) << where;
                if (tx) {
                    ASSERT_EQ(tx->receiver_count(), m.alive()) << where;
                }
            }
        }
        ASSERT_EQ(msg::live.load(), 0) << "round " << round;
    }
}

// --- concurrent ------------------------------------------------------------------------------

struct sub_outcome {
    std::uint64_t start = 0;     // the position of the first value this subscriber was owed
    std::uint64_t next = 0;      // the position after the last one accounted for
    std::uint64_t received = 0;
    std::uint64_t lagged = 0;
    bool closed = false;         // read until closed (else it stopped early)
    bool started = false;        // got a value (else start and next are unknown unless closed)
    std::string error;
};

// Reads until closed, or until `stop_after` results; checks contiguity (each value is the one
// after the previous, or after a lag of exactly the reported count) and each value's integrity.
corio::task<sub_outcome> subscriber(corio::broadcast::receiver<msg> rx, std::uint64_t stop_after, std::uint64_t seed) {
    sub_outcome out;
    std::mt19937_64 rng(seed);
    bool first = true;
    std::uint64_t pending_lag = 0;  // a lag before the first value: start = value - lag
    for (std::uint64_t k = 0; k < stop_after; ++k) {
        auto r = co_await rx.recv();
        if (r) {
            if (!r->intact()) {
                out.error = fmt::format("value at {} not intact", r->pos);
                co_return out;
            }
            if (first) {
                out.start = r->pos - pending_lag;
                out.next = r->pos;
                first = false;
            }
            if (r->pos != out.next) {
                out.error = fmt::format("got {}, expected {}", r->pos, out.next);
                co_return out;
            }
            ++out.next;
            ++out.received;
        } else if (r.error().is_lagged()) {
            const std::uint64_t skipped = r.error().skipped();
            if (skipped == 0) {
                out.error = "lagged(0)";
                co_return out;
            }
            out.lagged += skipped;
            if (first) pending_lag += skipped;
            else out.next += skipped;
        } else {
            if (first && pending_lag != 0) {
                out.error = "lagged, then closed without a value";
                co_return out;
            }
            out.closed = true;
            break;
        }
        if (rng() % 8 == 0) co_await corio::yield_now();
    }
    out.started = !first;
    co_return out;
}

TEST(stress_broadcast_replay, subscribers_joining_during_sends_see_a_contiguous_suffix_of_their_window) {
    const std::size_t rounds = iterations(300, 60);
    std::atomic<std::size_t> round_now{0};
    hang_guard guard("broadcast replay concurrent", [&] { return fmt::format("round {}", round_now.load()); });
    corio::runtime rt({.worker_threads = 2});
    std::mt19937_64 rng(0x5eed5);
    for (std::size_t round = 0; round < rounds; ++round) {
        round_now = round;
        msg::live = 0;
        const std::size_t cap = std::size_t{1} << (rng() % 7);
        const std::size_t n = rng() % (cap + 1);
        const std::uint64_t per_producer = 1 + rng() % 1500;
        const std::string where = fmt::format("round {} cap {} n {} sends {}", round, cap, n, 2 * per_producer);
        {
            auto [tx, rx] = corio::broadcast::channel<msg>(cap, replay(n));
            // Sends are ordered by `order` and publish their count, so that a value is its
            // position and a subscriber can bound where it must start.
            std::mutex order;
            std::uint64_t next_pos = 0;  // guarded by `order`
            std::atomic<std::uint64_t> published{0};
            // The first receiver reads everything: every send finds a receiver (so none is
            // refused) and it checks the whole stream.
            auto whole = rt.spawn(subscriber(std::move(rx), UINT64_MAX, rng()));
            std::vector<std::thread> producers;
            for (int p = 0; p < 2; ++p) {
                producers.emplace_back([tx = tx, &order, &next_pos, &published, per_producer, seed = rng()]() mutable {
                    std::mt19937_64 r(seed);
                    for (std::uint64_t i = 0; i < per_producer; ++i) {
                        {
                            std::lock_guard lock(order);
                            (void)tx.send(msg(next_pos));
                            published.store(++next_pos, std::memory_order_relaxed);
                        }
                        if (r() % 16 == 0) std::this_thread::yield();
                    }
                });
            }
            struct joined {
                corio::join_handle<sub_outcome> h;
                std::uint64_t lo = 0, hi = 0;  // bounds of its start
                bool aborted;
            };
            std::vector<joined> subs;
            const int joiners = 4 + static_cast<int>(rng() % 8);
            for (int j = 0; j < joiners; ++j) {
                const std::uint64_t stop_after = rng() % 3 == 0 ? 1 + rng() % 64 : UINT64_MAX;
                std::uint64_t lo = 0, hi = 0;
                std::optional<corio::broadcast::receiver<msg>> late;
                if (rng() % 2) {  // between two sends: the start is exact
                    std::lock_guard lock(order);
                    late.emplace(tx.subscribe());
                    lo = hi = window_start(next_pos, n);
                } else {  // racing the sends: the tail was in [before, after + 1]
                    const std::uint64_t before = published.load(std::memory_order_relaxed);
                    if (rng() % 2) {
                        late.emplace(tx.subscribe());
                    } else {
                        auto first = tx.subscribe();  // dropped at once: its counts must be given back
                        late.emplace(first.resubscribe());
                    }
                    const std::uint64_t after = published.load(std::memory_order_relaxed);
                    lo = window_start(before, n);
                    hi = window_start(after + 1, n);
                }
                const bool abort = rng() % 8 == 0;
                subs.push_back({rt.spawn(subscriber(std::move(*late), stop_after, rng())), lo, hi, abort});
                if (abort) subs.back().h.abort();
                for (unsigned y = rng() % 200; y != 0; --y) std::this_thread::yield();
            }
            { auto gone = std::move(tx); }
            for (auto& t : producers) t.join();  // the last sender gone: closed
            const std::uint64_t total = 2 * per_producer;
            sub_outcome w = whole.blocking_join().value();
            ASSERT_TRUE(w.error.empty()) << w.error << " (" << where << ")";
            ASSERT_TRUE(w.closed) << where;
            ASSERT_EQ(w.start, 0u) << where;
            ASSERT_EQ(w.received + w.lagged, total) << where;
            for (auto& s : subs) {
                auto r = s.h.blocking_join();
                if (!r) {
                    ASSERT_TRUE(s.aborted) << where;
                    continue;
                }
                sub_outcome o = std::move(*r);
                ASSERT_TRUE(o.error.empty()) << o.error << " (" << where << ")";
                if (!o.started) {
                    if (!o.closed) continue;  // stopped early after lags only: nothing to place
                    // Closed before any value: it was owed nothing, so it started at the end.
                    o.start = o.next = total;
                }
                ASSERT_GE(o.start, s.lo) << where;
                ASSERT_LE(o.start, s.hi) << where;
                ASSERT_EQ(o.next - o.start, o.received + o.lagged) << where;
                if (o.closed) {
                    ASSERT_EQ(o.next, total) << where;
                }
            }
        }
        ASSERT_EQ(msg::live.load(), 0) << where;
    }
}

}  // namespace
