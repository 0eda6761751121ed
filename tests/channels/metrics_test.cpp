// metrics_test: the built-in channel metrics (corio/channels/metrics.hpp): off by default, and
// with `with_metrics` exact counts of sent / received / dropped / lagged / high_water for mpsc
// (bounded and unbounded), broadcast and watch, including blocking twins and a plain-thread
// producer/consumer pair.
#include <corio/channels/broadcast.hpp>
#include <corio/channels/mpsc.hpp>
#include <corio/channels/watch.hpp>
#include <corio/runtime/runtime.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

namespace {

using namespace std::chrono_literals;

TEST(channel_metrics, off_by_default) {
    auto [tx, rx] = corio::mpsc::channel<int>(4);
    ASSERT_TRUE(tx.try_send(1).has_value());
    EXPECT_FALSE(tx.metrics().has_value());
    EXPECT_FALSE(rx.metrics().has_value());
    auto [utx, urx] = corio::mpsc::unbounded_channel<int>();
    EXPECT_FALSE(utx.metrics().has_value());
    auto [btx, brx] = corio::broadcast::channel<int>(4);
    EXPECT_FALSE(btx.metrics().has_value());
    EXPECT_FALSE(brx.metrics().has_value());
    auto [wtx, wrx] = corio::watch::channel<int>(0);
    EXPECT_FALSE(wtx.metrics().has_value());
    EXPECT_FALSE(wrx.metrics().has_value());
}

TEST(channel_metrics, mpsc_bounded_counts_sends_receives_drops_and_high_water) {
    auto [tx, rx] = corio::mpsc::channel<int>(3, corio::with_metrics);
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(tx.try_send(i).has_value());
    EXPECT_FALSE(tx.try_send(99).has_value());  // full: dropped
    auto m = tx.metrics();
    ASSERT_TRUE(m.has_value());
    EXPECT_EQ(m->sent, 3u);
    EXPECT_EQ(m->dropped, 1u);
    EXPECT_EQ(m->received, 0u);
    EXPECT_EQ(m->high_water, 3u);

    ASSERT_EQ(rx.try_recv().value(), 0);
    ASSERT_EQ(rx.try_recv().value(), 1);
    ASSERT_TRUE(tx.try_send(3).has_value());
    m = rx.metrics();  // both ends see the same counters
    EXPECT_EQ(m->sent, 4u);
    EXPECT_EQ(m->received, 2u);
    EXPECT_EQ(m->high_water, 3u);  // the length never went above 3

    // A permit counts when its value is sent, not when reserved.
    auto p = tx.try_reserve();
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ(tx.metrics()->sent, 4u);
    p->send(4);
    EXPECT_EQ(tx.metrics()->sent, 5u);

    // Closing the receiver: later sends fail (dropped); destroying it drops what is queued (3).
    rx.close();
    EXPECT_FALSE(tx.try_send(5).has_value());
    EXPECT_EQ(tx.metrics()->dropped, 2u);
    { auto gone = std::move(rx); }
    const auto end = tx.metrics();
    EXPECT_EQ(end->sent, 5u);
    EXPECT_EQ(end->received, 2u);
    EXPECT_EQ(end->dropped, 5u);  // try_send full, try_send closed, 3 queued values discarded
    EXPECT_EQ(end->sent, end->received + end->dropped - 2);  // every sent value accounted for
}

corio::task<std::string> mpsc_async_cases() {
    auto [tx, rx] = corio::mpsc::channel<std::string>(1, corio::with_metrics);
    auto r1 = co_await tx.send(std::string("a"));
    if (!r1) co_return "send failed";
    auto r2 = co_await tx.send_timeout(std::string("b"), 2ms);  // full: times out
    if (r2) co_return "send_timeout on a full channel succeeded";
    auto m = tx.metrics();
    if (m->sent != 1 || m->dropped != 1) co_return "send_timeout that timed out was not counted dropped";
    auto v = co_await rx.recv();
    if (!v || *v != "a") co_return "recv lost the value";
    rx.close();
    auto r3 = co_await tx.send(std::string("c"));
    if (r3) co_return "send after close succeeded";
    m = tx.metrics();
    if (m->sent != 1 || m->received != 1 || m->dropped != 2 || m->high_water != 1)
        co_return "wrong counts after the async sends";
    co_return "";
}

TEST(channel_metrics, mpsc_async_send_timeout_and_failed_send_count_as_dropped) {
    corio::runtime rt({.worker_threads = 2});
    EXPECT_EQ(rt.block_on(mpsc_async_cases()), "");
}

TEST(channel_metrics, mpsc_unbounded_high_water_and_recv_many) {
    auto [tx, rx] = corio::mpsc::unbounded_channel<int>(corio::with_metrics);
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(tx.send(i).has_value());
    std::vector<int> buf;
    EXPECT_EQ(rx.blocking_recv_many(buf, 6), 6u);
    for (int i = 10; i < 12; ++i) ASSERT_TRUE(tx.send(i).has_value());
    const auto m = rx.metrics();
    EXPECT_EQ(m->sent, 12u);
    EXPECT_EQ(m->received, 6u);
    EXPECT_EQ(m->high_water, 10u);
    EXPECT_EQ(m->dropped, 0u);
}

TEST(channel_metrics, mpsc_threads_account_for_every_message) {
    // Plain threads through the blocking twins: the counters are exact after both sides finish.
    constexpr int n = 20000;
    auto [tx, rx] = corio::mpsc::channel<int>(8, corio::with_metrics);
    std::thread producer([tx = std::move(tx)]() mutable {
        for (int i = 0; i < n; ++i) ASSERT_TRUE(tx.blocking_send(i).has_value());
    });
    int got = 0;
    while (auto v = rx.blocking_recv()) {
        ASSERT_EQ(*v, got);
        ++got;
    }
    producer.join();
    EXPECT_EQ(got, n);
    const auto m = rx.metrics();
    EXPECT_EQ(m->sent, static_cast<std::uint64_t>(n));
    EXPECT_EQ(m->received, static_cast<std::uint64_t>(n));
    EXPECT_EQ(m->dropped, 0u);
    EXPECT_GE(m->high_water, 1u);
    EXPECT_LE(m->high_water, 8u);
}

TEST(channel_metrics, mpsc_blocking_reserve_sends_through_the_permit) {
    auto [tx, rx] = corio::mpsc::channel<int>(1, corio::with_metrics);
    auto p = tx.blocking_reserve();
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ(tx.capacity(), 0u);
    p->send(7);
    EXPECT_EQ(rx.blocking_recv().value(), 7);
    rx.close();
    auto closed = tx.blocking_reserve();
    ASSERT_FALSE(closed.has_value());
    EXPECT_EQ(closed.error(), corio::mpsc::reserve_error::closed);
    EXPECT_EQ(tx.metrics()->sent, 1u);
}

TEST(channel_metrics, broadcast_counts_copies_lag_and_sends_without_receivers) {
    auto [tx, rx1] = corio::broadcast::channel<int>(4, corio::with_metrics);
    auto rx2 = tx.subscribe();
    for (int i = 0; i < 4; ++i) ASSERT_TRUE(tx.send(i).has_value());
    // rx1 reads everything at once: its first receive saw a backlog of 4.
    for (int i = 0; i < 4; ++i) ASSERT_EQ(rx1.try_recv().value(), i);
    auto m = tx.metrics();
    EXPECT_EQ(m->sent, 4u);
    EXPECT_EQ(m->received, 4u);
    EXPECT_EQ(m->high_water, 4u);
    // 6 more: rx2 is 10 behind with room for 4, so it lags by 6.
    for (int i = 4; i < 10; ++i) ASSERT_TRUE(tx.send(i).has_value());
    auto lag = rx2.try_recv();
    ASSERT_FALSE(lag.has_value());
    ASSERT_TRUE(lag.error().is_lagged());
    EXPECT_EQ(lag.error().skipped(), 6u);
    for (int i = 6; i < 10; ++i) ASSERT_EQ(rx2.try_recv().value(), i);
    m = rx2.metrics();
    EXPECT_EQ(m->sent, 10u);
    EXPECT_EQ(m->received, 8u);
    EXPECT_EQ(m->lagged, 6u);
    // No receivers: send fails and counts as dropped.
    { auto a = std::move(rx1); auto b = std::move(rx2); }
    EXPECT_FALSE(tx.send(10).has_value());
    m = tx.metrics();
    EXPECT_EQ(m->dropped, 1u);
    EXPECT_EQ(m->sent, 10u);
}

TEST(channel_metrics, watch_counts_versions_seen_and_coalesced) {
    auto [tx, rx] = corio::watch::channel<int>(0, corio::with_metrics);
    ASSERT_TRUE(tx.send(1).has_value());
    EXPECT_EQ(*rx.borrow_and_update(), 1);  // saw version 1
    ASSERT_TRUE(tx.send(2).has_value());
    ASSERT_TRUE(tx.send(3).has_value());
    ASSERT_TRUE(tx.send(4).has_value());
    ASSERT_TRUE(rx.blocking_changed().has_value());  // jumps 1 -> 4: versions 2 and 3 coalesced
    EXPECT_EQ(*rx.borrow_and_update(), 4);           // already seen: not counted again
    EXPECT_FALSE(tx.send_if_modified([](int&) { return false; }));  // not published
    auto m = tx.metrics();
    EXPECT_EQ(m->sent, 4u);
    EXPECT_EQ(m->received, 2u);
    EXPECT_EQ(m->lagged, 2u);
    EXPECT_EQ(m->dropped, 0u);
    { auto gone = std::move(rx); }
    EXPECT_FALSE(tx.send(5).has_value());
    EXPECT_EQ(tx.metrics()->dropped, 1u);
}

}  // namespace
