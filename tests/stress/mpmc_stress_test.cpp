// mpmc_stress_test: corio::mpmc under contention on 2 workers: 4 producers and 4 consumers on one
// channel (rendezvous, bounded 1 and 16, unbounded); every value received exactly once and each
// consumer sees each producer's values in increasing order. In the second test receivers are
// cancelled mid-wait (timeout, a losing select branch) and senders too (send_timeout, a losing
// select branch that hands the value back — or finds it was delivered); nothing is lost or
// duplicated, and every value is destroyed exactly once. The third drops the receivers while
// senders wait: every send either went through or got its own value back.
//
// Scale: iteration counts are multiplied by CORIO_STRESS_SCALE and cut down under ThreadSanitizer.
#include <corio/channels/mpmc.hpp>
#include <corio/runtime/runtime.hpp>
#include <corio/runtime/select.hpp>
#include <corio/runtime/time.hpp>
#include <corio/runtime/yield_now.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "support/stress.hpp"

namespace {

using corio::testing::hang_guard;
using corio::testing::iterations;

constexpr std::uint32_t producers = 4;
constexpr std::uint32_t consumers = 4;

// A message that counts its constructions and destructions (moved-from ones included).
struct msg {
    static inline std::atomic<long> made{0};
    static inline std::atomic<long> destroyed{0};
    msg(std::uint32_t p, std::uint32_t s) noexcept : producer(p), seq(s) {
        made.fetch_add(1, std::memory_order_relaxed);
    }
    msg(msg&& o) noexcept : producer(o.producer), seq(o.seq) { made.fetch_add(1, std::memory_order_relaxed); }
    msg& operator=(msg&& o) noexcept {
        producer = o.producer;
        seq = o.seq;
        return *this;
    }
    msg(const msg&) = delete;
    ~msg() { destroyed.fetch_add(1, std::memory_order_relaxed); }
    std::uint32_t producer, seq;
};

struct xorshift {
    std::uint64_t s;
    std::uint64_t next(std::uint64_t n) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        return s % n;
    }
};

// What one consumer saw: how many, and whether a producer ever went backwards.
struct consumer_log {
    std::vector<std::uint32_t> count_by_producer = std::vector<std::uint32_t>(producers, 0);
    std::vector<std::int64_t> last = std::vector<std::int64_t>(producers, -1);
    std::vector<std::uint32_t> seqs;  // every (producer << 24 | seq) received, for exactly-once
    std::string error;
    void take(const msg& m) {
        if (m.producer >= producers) {
            error = "bad producer";
            return;
        }
        if (static_cast<std::int64_t>(m.seq) <= last[m.producer] && error.empty())
            error = "producer " + std::to_string(m.producer) + " went backwards: " + std::to_string(m.seq) +
                    " after " + std::to_string(last[m.producer]);
        last[m.producer] = m.seq;
        ++count_by_producer[m.producer];
        seqs.push_back((m.producer << 24) | m.seq);
    }
};

// Checks the consumers' logs: per = values each producer delivered; every one exactly once.
void check_logs(const std::vector<consumer_log>& logs, std::uint32_t per) {
    std::vector<std::vector<std::uint8_t>> seen(producers, std::vector<std::uint8_t>(per, 0));
    for (const consumer_log& l : logs) {
        EXPECT_EQ(l.error, "");
        for (std::uint32_t v : l.seqs) {
            const std::uint32_t p = v >> 24, s = v & 0xffffff;
            ASSERT_LT(s, per);
            EXPECT_EQ(seen[p][s]++, 0) << "producer " << p << " seq " << s << " received twice";
        }
    }
    for (std::uint32_t p = 0; p < producers; ++p)
        for (std::uint32_t s = 0; s < per; ++s) ASSERT_EQ(seen[p][s], 1) << "producer " << p << " seq " << s << " lost";
}

// ---- 1. plain traffic ---------------------------------------------------------------------------

template <class Tx>
corio::task<void> plain_producer(Tx tx, std::uint32_t p, std::uint32_t n) {
    for (std::uint32_t i = 0; i < n; ++i) {
        msg m(p, i);
        if constexpr (std::is_same_v<Tx, corio::mpmc::sender<msg>>) {
            auto r = co_await tx.send(std::move(m));
            if (!r) co_return;
        } else {
            if (!tx.send(std::move(m))) co_return;
        }
    }
}

corio::task<consumer_log> plain_consumer(corio::mpmc::receiver<msg> rx, std::atomic<long>* progress) {
    consumer_log log;
    while (auto m = co_await rx.recv()) {
        log.take(*m);
        progress->fetch_add(1, std::memory_order_relaxed);
    }
    co_return log;
}

template <class Tx>
void run_plain(corio::runtime& rt, Tx tx, corio::mpmc::receiver<msg> rx, std::uint32_t per,
               std::atomic<long>* progress) {
    std::vector<corio::join_handle<consumer_log>> cs;
    for (std::uint32_t c = 0; c < consumers; ++c) cs.push_back(rt.spawn(plain_consumer(rx, progress)));
    { auto gone = std::move(rx); }
    std::vector<corio::join_handle<void>> ps;
    for (std::uint32_t p = 0; p < producers; ++p) ps.push_back(rt.spawn(plain_producer(tx, p, per)));
    { auto gone = std::move(tx); }
    for (auto& h : ps) h.blocking_join().value();
    std::vector<consumer_log> logs;
    for (auto& h : cs) logs.push_back(h.blocking_join().value());
    check_logs(logs, per);
}

TEST(mpmc_stress, four_by_four_exactly_once_and_in_order_at_every_capacity) {
    const auto per = static_cast<std::uint32_t>(iterations(50'000, 2'000));
    std::atomic<long> progress{0};
    std::atomic<int> stage{0};
    hang_guard guard("mpmc four_by_four", [&] {
        return "stage " + std::to_string(stage.load()) + " received " + std::to_string(progress.load());
    });
    const long live_before = msg::made.load() - msg::destroyed.load();
    corio::runtime rt({.worker_threads = 2});
    for (std::size_t cap : {std::size_t{0}, std::size_t{1}, std::size_t{16}}) {
        auto [tx, rx] = corio::mpmc::channel<msg>(cap);
        run_plain(rt, std::move(tx), std::move(rx), per, &progress);
        ++stage;
    }
    auto [utx, urx] = corio::mpmc::unbounded_channel<msg>();
    run_plain(rt, std::move(utx), std::move(urx), per, &progress);
    EXPECT_EQ(msg::made.load() - msg::destroyed.load(), live_before);
}

// ---- 2. cancelled receives and sends ------------------------------------------------------------

corio::task<void> cancelling_producer(corio::mpmc::sender<msg> tx, std::uint32_t p, std::uint32_t n,
                                      std::atomic<long>* delivered_while_losing) {
    xorshift rng{0x9E3779B97F4A7C15ull * (p + 1)};
    for (std::uint32_t i = 0; i < n; ++i) {
        msg m(p, i);
        for (;;) {
            const auto wait = std::chrono::microseconds(rng.next(300));
            const std::uint64_t mode = rng.next(4);
            if (mode == 0) {
                auto r = co_await tx.send(std::move(m));
                if (!r) co_return;
                break;
            }
            if (mode == 1) {
                auto r = co_await tx.send_timeout(std::move(m), wait);
                if (r) break;
                if (r.error().is_closed()) co_return;
                m = std::move(r.error().value);  // timed out: the same value, again
                continue;
            }
            std::optional<msg> back;
            int outcome = 0;  // 1 sent, 2 closed, 3 the other branch
            if (mode == 2) {
                co_await corio::select(
                    corio::branch(tx.send(std::move(m)),
                                  [&](corio::result<void, corio::send_error<msg>> r) { outcome = r ? 1 : 2; })
                        .unsent_into(back),
                    corio::branch(corio::sleep(wait), [&] { outcome = 3; }));
            } else {  // against a yield: the send is cancelled right after it queued, often
                co_await corio::select_biased(
                    corio::branch(tx.send(std::move(m)),
                                  [&](corio::result<void, corio::send_error<msg>> r) { outcome = r ? 1 : 2; })
                        .unsent_into(back),
                    corio::branch(corio::yield_now(), [&] { outcome = 3; }));
            }
            if (outcome == 2) co_return;
            if (outcome == 1) break;
            if (!back) {  // the timer won, but a receiver had already taken the value: it was sent
                delivered_while_losing->fetch_add(1, std::memory_order_relaxed);
                break;
            }
            m = std::move(*back);
        }
    }
}

corio::task<consumer_log> cancelling_consumer(corio::mpmc::receiver<msg> rx, std::uint64_t seed,
                                              std::atomic<long>* progress, std::atomic<long>* cancelled) {
    xorshift rng{seed};
    consumer_log log;
    for (;;) {
        const auto wait = std::chrono::microseconds(rng.next(300));
        const std::uint64_t mode = rng.next(5);
        std::optional<msg> got;
        bool end = false;
        if (mode == 4) {
            auto r = co_await rx.recv_timeout(wait);
            if (!r && r.error() == corio::mpmc::recv_timeout_error::timeout) {
                cancelled->fetch_add(1, std::memory_order_relaxed);
                continue;
            }
            if (r) got = std::move(*r);
            end = !got;
        } else if (mode == 0) {
            got = co_await rx.recv();
            end = !got;
        } else if (mode == 1) {
            auto r = co_await corio::timeout(wait, rx.recv());
            if (!r) {
                cancelled->fetch_add(1, std::memory_order_relaxed);
                continue;
            }
            got = std::move(*r);
            end = !got;
        } else {
            int outcome = 0;  // 1 value, 2 end, 3 the other branch
            if (mode == 2) {
                co_await corio::select(corio::branch(rx.recv(),
                                                     [&](std::optional<msg> v) {
                                                         outcome = v ? 1 : 2;
                                                         got = std::move(v);
                                                     }),
                                       corio::branch(corio::sleep(wait), [&] { outcome = 3; }));
            } else {  // against a yield: cancelled right after it queued, often after its wake
                co_await corio::select_biased(corio::branch(rx.recv(),
                                                            [&](std::optional<msg> v) {
                                                                outcome = v ? 1 : 2;
                                                                got = std::move(v);
                                                            }),
                                              corio::branch(corio::yield_now(), [&] { outcome = 3; }));
            }
            if (outcome == 3) {
                cancelled->fetch_add(1, std::memory_order_relaxed);
                continue;
            }
            end = outcome == 2;
        }
        if (end) break;
        log.take(*got);
        progress->fetch_add(1, std::memory_order_relaxed);
    }
    co_return log;
}

TEST(mpmc_stress, receivers_and_senders_cancelled_mid_wait_lose_and_duplicate_nothing) {
    const auto per = static_cast<std::uint32_t>(iterations(20'000, 1'500));
    std::atomic<long> progress{0}, cancelled{0}, delivered_while_losing{0};
    std::atomic<int> stage{0};
    hang_guard guard("mpmc cancelled", [&] {
        return "stage " + std::to_string(stage.load()) + " received " + std::to_string(progress.load()) +
               " cancelled " + std::to_string(cancelled.load());
    });
    const long live_before = msg::made.load() - msg::destroyed.load();
    corio::runtime rt({.worker_threads = 2});
    for (std::size_t cap : {std::size_t{0}, std::size_t{2}}) {
        auto [tx, rx] = corio::mpmc::channel<msg>(cap);
        std::vector<corio::join_handle<consumer_log>> cs;
        for (std::uint32_t c = 0; c < consumers; ++c)
            cs.push_back(rt.spawn(cancelling_consumer(rx, 0xC0FFEEull * (c + 1) + cap, &progress, &cancelled)));
        { auto gone = std::move(rx); }
        std::vector<corio::join_handle<void>> ps;
        for (std::uint32_t p = 0; p < producers; ++p)
            ps.push_back(rt.spawn(cancelling_producer(tx, p, per, &delivered_while_losing)));
        { auto gone = std::move(tx); }
        for (auto& h : ps) h.blocking_join().value();
        std::vector<consumer_log> logs;
        for (auto& h : cs) logs.push_back(h.blocking_join().value());
        check_logs(logs, per);
        ++stage;
    }
    EXPECT_EQ(msg::made.load() - msg::destroyed.load(), live_before);
    std::printf("mpmc cancelled: %ld receives cancelled, %ld sends delivered while losing a select\n",
                cancelled.load(), delivered_while_losing.load());
}

// ---- 3. receivers dropped while senders wait ----------------------------------------------------

struct send_tally {
    std::atomic<long> ok{0}, back{0}, wrong_back{0};
};

corio::task<void> tallying_producer(corio::mpmc::sender<msg> tx, std::uint32_t p, send_tally* t) {
    for (std::uint32_t i = 0;; ++i) {
        msg m(p, i);
        auto r = co_await tx.send(std::move(m));
        if (r) {
            t->ok.fetch_add(1, std::memory_order_relaxed);
            continue;
        }
        (r.error().value.seq == i ? t->back : t->wrong_back).fetch_add(1, std::memory_order_relaxed);
        co_return;
    }
}

corio::task<long> take_some(corio::mpmc::receiver<msg> rx, long n) {
    long got = 0;
    while (got < n) {
        auto m = co_await rx.recv();
        if (!m) break;
        ++got;
    }
    co_return got;  // rx goes here
}

TEST(mpmc_stress, dropping_every_receiver_fails_waiting_senders_with_their_own_value) {
    const std::size_t rounds = iterations(200, 30);
    std::atomic<std::size_t> round{0};
    hang_guard guard("mpmc drop receivers", [&] { return "round " + std::to_string(round.load()); });
    const long live_before = msg::made.load() - msg::destroyed.load();
    corio::runtime rt({.worker_threads = 2});
    for (std::size_t r = 0; r < rounds; ++r) {
        round = r;
        send_tally t;
        auto [tx, rx] = corio::mpmc::channel<msg>(r % 3);
        std::vector<corio::join_handle<long>> cs;
        for (std::uint32_t c = 0; c < 2; ++c) cs.push_back(rt.spawn(take_some(rx, static_cast<long>(50 + 37 * c))));
        { auto gone = std::move(rx); }
        std::vector<corio::join_handle<void>> ps;
        for (std::uint32_t p = 0; p < producers; ++p) ps.push_back(rt.spawn(tallying_producer(tx, p, &t)));
        { auto gone = std::move(tx); }
        long received = 0;
        for (auto& h : cs) received += h.blocking_join().value();
        for (auto& h : ps) h.blocking_join().value();
        EXPECT_EQ(t.back.load(), static_cast<long>(producers));  // every producer ends with its value back
        EXPECT_EQ(t.wrong_back.load(), 0);
        // The sends that went through were received, or queued (at most the capacity) and dropped
        // with the last receiver.
        EXPECT_GE(t.ok.load(), received);
        EXPECT_LE(t.ok.load() - received, static_cast<long>(r % 3));
    }
    EXPECT_EQ(msg::made.load() - msg::destroyed.load(), live_before);
}

}  // namespace
