// mpmc_test: corio::mpmc bounded / unbounded / rendezvous delivery, each value to exactly one
// receiver, per-sender FIFO, disconnection both ways and close(), try_ and blocking_ twins,
// send_timeout, metrics, select over two receives; the channel's ring buffer and mutex on their
// own (mpmc/detail/ring.hpp, detail/adaptive_mutex_word.hpp). The leaf contract of recv/send, driven by hand,
// is in mpmc_cancel_test.cpp.
#include <corio/channels/detail/adaptive_mutex_word.hpp>
#include <corio/channels/mpmc.hpp>
#include <corio/channels/mpmc/detail/ring.hpp>
#include <corio/runtime/runtime.hpp>
#include <corio/runtime/select.hpp>
#include <corio/runtime/yield_now.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <mutex>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using corio::mpmc::try_recv_error;

struct counted {
    static inline std::atomic<int> made{0};
    static inline std::atomic<int> destroyed{0};
    static int live() { return made.load() - destroyed.load(); }
    explicit counted(int v) noexcept : value(v) { ++made; }
    counted(counted&& o) noexcept : value(o.value) { ++made; }
    counted(const counted&) = delete;
    ~counted() { ++destroyed; }
    int value;
};

TEST(mpmc, bounded_is_fifo_and_full_at_capacity) {
    auto [tx, rx] = corio::mpmc::channel<int>(2);
    EXPECT_EQ(tx.max_capacity(), 2u);
    EXPECT_EQ(tx.capacity(), 2u);
    ASSERT_TRUE(tx.try_send(1));
    ASSERT_TRUE(tx.try_send(2));
    auto full = tx.try_send(3);
    ASSERT_FALSE(full);
    EXPECT_TRUE(full.error().is_full());
    EXPECT_EQ(full.error().value, 3);
    EXPECT_EQ(rx.len(), 2u);
    EXPECT_EQ(rx.capacity(), 0u);
    EXPECT_EQ(*rx.try_recv(), 1);
    EXPECT_EQ(*rx.try_recv(), 2);
    EXPECT_EQ(rx.try_recv().error(), try_recv_error::empty);
}

TEST(mpmc, unbounded_never_waits_and_keeps_order) {
    auto [tx, rx] = corio::mpmc::unbounded_channel<int>();
    for (int i = 0; i < 1000; ++i) ASSERT_TRUE(tx.send(i));
    EXPECT_EQ(rx.len(), 1000u);
    EXPECT_EQ(rx.max_capacity(), SIZE_MAX);
    for (int i = 0; i < 1000; ++i) ASSERT_EQ(*rx.try_recv(), i);
}

TEST(mpmc, capacity_max_is_refused) {
    EXPECT_THROW((void)corio::mpmc::channel<int>(SIZE_MAX), std::invalid_argument);
}

TEST(mpmc, rendezvous_try_send_never_leaves_a_value) {
    auto [tx, rx] = corio::mpmc::channel<int>(0);
    auto r = tx.try_send(1);
    ASSERT_FALSE(r);
    EXPECT_TRUE(r.error().is_full());
    EXPECT_EQ(rx.try_recv().error(), try_recv_error::empty);
    EXPECT_EQ(rx.len(), 0u);
}

TEST(mpmc, copies_of_a_receiver_share_the_values_and_see_the_end_together) {
    auto [tx, rx] = corio::mpmc::unbounded_channel<int>();
    auto rx2 = rx;
    EXPECT_EQ(rx.receiver_count(), 2u);
    ASSERT_TRUE(tx.send(1));
    ASSERT_TRUE(tx.send(2));
    EXPECT_EQ(*rx2.try_recv(), 1);
    EXPECT_EQ(*rx.try_recv(), 2);
    EXPECT_EQ(rx.try_recv().error(), try_recv_error::empty);
    { auto gone = std::move(tx); }
    EXPECT_TRUE(rx.is_closed());
    EXPECT_EQ(rx.try_recv().error(), try_recv_error::closed);
    EXPECT_EQ(rx2.try_recv().error(), try_recv_error::closed);
}

// ---- on a runtime ------------------------------------------------------------------------------

corio::task<std::uint64_t> produce(corio::mpmc::sender<std::uint64_t> tx, std::uint64_t p, std::uint64_t n) {
    std::uint64_t ok = 0;
    for (std::uint64_t i = 0; i < n; ++i) {
        auto r = co_await tx.send((p << 32) | i);
        if (!r) break;
        ++ok;
    }
    co_return ok;
}

corio::task<std::vector<std::uint64_t>> consume(corio::mpmc::receiver<std::uint64_t> rx) {
    std::vector<std::uint64_t> got;
    while (auto v = co_await rx.recv()) got.push_back(*v);
    co_return got;
}

// Each value is received exactly once, and each consumer sees each producer's values in order.
void check_exactly_once_and_ordered(std::size_t capacity) {
    constexpr std::uint64_t producers = 3, consumers = 3, per = 2000;
    corio::runtime rt({.worker_threads = 2});
    auto [tx, rx] = corio::mpmc::channel<std::uint64_t>(capacity);
    std::vector<corio::join_handle<std::vector<std::uint64_t>>> cs;
    for (std::uint64_t c = 0; c < consumers; ++c) cs.push_back(rt.spawn(consume(rx)));
    { auto gone = std::move(rx); }
    std::vector<corio::join_handle<std::uint64_t>> ps;
    for (std::uint64_t p = 0; p < producers; ++p) ps.push_back(rt.spawn(produce(tx, p, per)));
    { auto gone = std::move(tx); }
    for (auto& h : ps) EXPECT_EQ(h.blocking_join().value(), per);
    std::vector<std::uint64_t> all;
    for (auto& h : cs) {
        std::vector<std::uint64_t> got = h.blocking_join().value();
        std::vector<std::int64_t> last(producers, -1);
        for (std::uint64_t v : got) {
            const std::uint64_t p = v >> 32;
            const auto seq = static_cast<std::int64_t>(v & 0xffffffffu);
            ASSERT_LT(p, producers);
            EXPECT_GT(seq, last[p]) << "a consumer saw producer " << p << " go backwards";
            last[p] = seq;
        }
        all.insert(all.end(), got.begin(), got.end());
    }
    std::sort(all.begin(), all.end());
    ASSERT_EQ(all.size(), producers * per);
    EXPECT_EQ(std::adjacent_find(all.begin(), all.end()), all.end()) << "a value was received twice";
}

TEST(mpmc, bounded_many_to_many_exactly_once_in_order) { check_exactly_once_and_ordered(8); }
TEST(mpmc, rendezvous_many_to_many_exactly_once_in_order) { check_exactly_once_and_ordered(0); }

corio::task<bool> send_one(corio::mpmc::sender<int>* tx, int v) {
    auto r = co_await tx->send(v);
    const bool ok = static_cast<bool>(r);
    co_return ok;
}

corio::task<std::optional<int>> recv_one(corio::mpmc::receiver<int>* rx) {
    auto v = co_await rx->recv();
    co_return v;
}

TEST(mpmc, rendezvous_send_completes_only_once_a_receiver_took_the_value) {
    corio::runtime rt({.worker_threads = 2});
    auto [tx, rx] = corio::mpmc::channel<int>(0);
    auto s = rt.spawn(send_one(&tx, 7));
    std::this_thread::sleep_for(20ms);
    EXPECT_FALSE(s.is_finished());  // nobody has taken it
    EXPECT_EQ(rt.block_on(recv_one(&rx)), 7);
    EXPECT_TRUE(s.blocking_join().value());
}

TEST(mpmc, last_receiver_gone_fails_sends_with_the_value_and_destroys_the_queue) {
    const int before = counted::live();
    auto [tx, rx] = corio::mpmc::channel<counted>(4, corio::with_metrics);
    ASSERT_TRUE(tx.try_send(counted(1)));
    ASSERT_TRUE(tx.try_send(counted(2)));
    auto rx2 = rx;
    { auto gone = std::move(rx); }
    EXPECT_FALSE(tx.is_closed());  // rx2 still there
    EXPECT_EQ(counted::live(), before + 2);
    { auto gone = std::move(rx2); }
    EXPECT_TRUE(tx.is_closed());
    EXPECT_EQ(counted::live(), before);  // the queued values are destroyed with the last receiver
    auto r = tx.try_send(counted(3));
    ASSERT_FALSE(r);
    EXPECT_TRUE(r.error().is_closed());
    EXPECT_EQ(r.error().value.value, 3);
    auto b = tx.blocking_send(counted(4));
    ASSERT_FALSE(b);
    EXPECT_EQ(b.error().value.value, 4);
    auto m = *tx.metrics();
    EXPECT_EQ(m.sent, 2u);
    EXPECT_EQ(m.dropped, 4u);  // 2 queued + try_send + blocking_send
}

corio::task<int> send_until_closed(corio::mpmc::sender<int> tx) {
    for (int i = 0;; ++i) {
        auto r = co_await tx.send(i);
        if (!r) co_return r.error().value;
    }
}

TEST(mpmc, close_fails_waiting_senders_and_keeps_the_queue_for_receivers) {
    corio::runtime rt({.worker_threads = 2});
    auto [tx, rx] = corio::mpmc::channel<int>(2);
    auto s = rt.spawn(send_until_closed(tx));
    while (rx.len() < 2) std::this_thread::sleep_for(1ms);
    std::this_thread::sleep_for(10ms);  // the third send is waiting
    auto rx2 = rx;
    rx2.close();
    EXPECT_EQ(s.blocking_join().value(), 2);  // the waiting send got its value back
    EXPECT_TRUE(tx.is_closed());
    EXPECT_EQ(rx.blocking_recv(), 0);
    EXPECT_EQ(rx2.blocking_recv(), 1);
    EXPECT_EQ(rx.blocking_recv(), std::nullopt);
    EXPECT_EQ(rx2.try_recv().error(), try_recv_error::closed);
    EXPECT_FALSE(tx.try_send(9));
}

TEST(mpmc, metrics_count_sends_receives_drops_and_the_high_water) {
    auto [tx, rx] = corio::mpmc::channel<int>(3, corio::with_metrics);
    EXPECT_FALSE(corio::mpmc::channel<int>(3).second.metrics());  // off unless asked for
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(tx.try_send(i));
    EXPECT_FALSE(tx.try_send(3));  // full: dropped
    EXPECT_EQ(*rx.try_recv(), 0);
    EXPECT_EQ(*rx.try_recv(), 1);
    auto m = *rx.metrics();
    EXPECT_EQ(m.sent, 3u);
    EXPECT_EQ(m.received, 2u);
    EXPECT_EQ(m.dropped, 1u);
    EXPECT_EQ(m.high_water, 3u);
}

TEST(mpmc, blocking_twins_connect_plain_threads) {
    auto [tx, rx] = corio::mpmc::channel<int>(1);
    std::vector<int> a, b;
    auto rx2 = rx;
    std::thread ta([&a, r = std::move(rx)]() mutable {
        while (auto v = r.blocking_recv()) a.push_back(*v);
    });
    std::thread tb([&b, r = std::move(rx2)]() mutable {
        while (auto v = r.blocking_recv()) b.push_back(*v);
    });
    for (int i = 0; i < 500; ++i) ASSERT_TRUE(tx.blocking_send(i));
    { auto gone = std::move(tx); }
    ta.join();
    tb.join();
    EXPECT_TRUE(std::is_sorted(a.begin(), a.end()));
    EXPECT_TRUE(std::is_sorted(b.begin(), b.end()));
    EXPECT_EQ(a.size() + b.size(), 500u);
}

corio::task<int> send_with_deadline(corio::mpmc::sender<int>* tx, int v) {
    auto r = co_await tx->send_timeout(v, 5ms);
    if (r) co_return -1;
    if (!r.error().is_timeout()) co_return -2;
    const int back = r.error().value;
    co_return back;
}

TEST(mpmc, send_timeout_hands_the_value_back_and_sends_nothing) {
    corio::runtime rt({.worker_threads = 2});
    auto [tx, rx] = corio::mpmc::channel<int>(1);
    ASSERT_TRUE(tx.try_send(1));
    EXPECT_EQ(rt.block_on(send_with_deadline(&tx, 2)), 2);
    EXPECT_EQ(*rx.try_recv(), 1);
    EXPECT_EQ(rx.try_recv().error(), try_recv_error::empty);
    auto [ztx, zrx] = corio::mpmc::channel<int>(0);
    EXPECT_EQ(rt.block_on(send_with_deadline(&ztx, 3)), 3);  // nobody took it
    EXPECT_EQ(zrx.try_recv().error(), try_recv_error::empty);
}

corio::task<void> send_until_n(corio::mpmc::sender<int> tx, int first, int n) {
    for (int i = 0; i < n; ++i) {
        auto r = co_await tx.send(first + i);
        if (!r) co_return;
    }
}

corio::task<int> recv_with_deadline(corio::mpmc::receiver<int>* rx) {
    auto r = co_await rx->recv_timeout(5ms);
    if (r) {
        const int v = *r;
        co_return v;
    }
    const int code = r.error() == corio::mpmc::recv_timeout_error::timeout ? -1 : -2;
    co_return code;
}

TEST(mpmc, recv_timeout_takes_nothing_when_it_expires_and_reports_the_end) {
    corio::runtime rt({.worker_threads = 2});
    auto [tx, rx] = corio::mpmc::channel<int>(1);
    EXPECT_EQ(rt.block_on(recv_with_deadline(&rx)), -1);
    ASSERT_TRUE(tx.try_send(4));
    EXPECT_EQ(rt.block_on(recv_with_deadline(&rx)), 4);
    { auto gone = std::move(tx); }
    EXPECT_EQ(rt.block_on(recv_with_deadline(&rx)), -2);
}

corio::task<std::vector<int>> select_both(corio::mpmc::receiver<int>* a, corio::mpmc::receiver<int>* b) {
    std::vector<int> got;
    for (;;) {
        bool done = false;
        co_await corio::select(corio::branch(a->recv()).when_some([&](int v) { got.push_back(v); }),
                               corio::branch(b->recv()).when_some([&](int v) { got.push_back(v); }),
                               corio::otherwise([&] { done = true; }));
        if (done) break;
    }
    co_return got;
}

TEST(mpmc, select_over_two_receives_loses_nothing) {
    corio::runtime rt({.worker_threads = 2});
    auto [atx, arx] = corio::mpmc::channel<int>(4);
    auto [btx, brx] = corio::mpmc::channel<int>(0);
    auto s = rt.spawn(select_both(&arx, &brx));
    auto pa = rt.spawn(send_until_n(std::move(atx), 0, 300));
    auto pb = rt.spawn(send_until_n(std::move(btx), 1000, 300));
    pa.blocking_join().value();
    pb.blocking_join().value();
    std::vector<int> got = s.blocking_join().value();
    ASSERT_EQ(got.size(), 600u);
    std::vector<int> from_a, from_b;
    for (int v : got) (v < 1000 ? from_a : from_b).push_back(v);
    ASSERT_EQ(from_a.size(), 300u);
    ASSERT_EQ(from_b.size(), 300u);
    for (int i = 0; i < 300; ++i) {
        EXPECT_EQ(from_a[static_cast<std::size_t>(i)], i);
        EXPECT_EQ(from_b[static_cast<std::size_t>(i)], 1000 + i);
    }
}

// The ring, through wrap-around, growth while wrapped, and the release of a large drained ring:
// FIFO throughout, and every value constructed is destroyed exactly once (counted).
TEST(mpmc_ring, stays_fifo_across_wraps_and_growth_and_destroys_every_value_once) {
    const int live_before = counted::live();
    {
        corio::detail::mpmc::ring<counted> r;
        int next_in = 0, next_out = 0;
        std::optional<counted> out;
        // Push 3, pop 2, repeatedly: the head walks around each capacity while the ring grows.
        while (next_in < 20000) {
            for (int i = 0; i < 3; ++i) r.push_back(counted(next_in++));
            for (int i = 0; i < 2; ++i) {
                r.pop_front_into(out);
                ASSERT_EQ(out->value, next_out++);
            }
        }
        EXPECT_EQ(r.size(), static_cast<std::size_t>(next_in - next_out));
        while (!r.empty()) {  // drains past keep_cap: the ring frees its slots
            r.pop_front_into(out);
            ASSERT_EQ(out->value, next_out++);
        }
        out.reset();
        EXPECT_EQ(counted::live(), live_before);
        r.push_back(counted(-1));  // usable again after the release
        corio::detail::mpmc::ring<counted> moved(std::move(r));
        EXPECT_TRUE(r.empty());
        EXPECT_EQ(moved.size(), 1u);
        r = std::move(moved);
        EXPECT_EQ(r.size(), 1u);
    }  // one value left: destroyed with the ring
    EXPECT_EQ(counted::live(), live_before);
}

// Mutual exclusion under contention (more threads than cores, and a plain counter that loses
// increments if two holders ever overlap). The test holds the lock while the threads start, so
// that they spin out and sleep on the word (the pause only makes that likely; nothing depends on
// it), and every unlock after that has sleepers to wake.
TEST(mpmc_mutex, excludes_under_contention) {
    corio::detail::adaptive_mutex_word m;
    std::uint64_t counter = 0;
    constexpr int threads = 4, rounds = 50000;
    std::vector<std::thread> ts;
    m.lock();
    for (int t = 0; t < threads; ++t)
        ts.emplace_back([&] {
            for (int i = 0; i < rounds; ++i) {
                std::lock_guard<corio::detail::adaptive_mutex_word> g(m);
                ++counter;
            }
        });
    std::this_thread::sleep_for(20ms);
    m.unlock();
    for (auto& t : ts) t.join();
    EXPECT_EQ(counter, std::uint64_t{threads} * rounds);
    EXPECT_TRUE(m.try_lock());
    EXPECT_FALSE(m.try_lock());
    m.unlock();
}

}  // namespace
