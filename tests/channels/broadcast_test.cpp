// broadcast_test: corio::broadcast delivery to every receiver, exact lag semantics, late subscribers, close after drain, try_recv, value lifetimes, cancellation and the blocking twin.
#include <corio/channels/broadcast.hpp>
#include <corio/runtime/runtime.hpp>
#include <corio/runtime/yield_now.hpp>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using corio::broadcast::recv_error;
using corio::broadcast::try_recv_error;

template <class F>
bool eventually(F cond) {
    for (int i = 0; i < 5000; ++i) {
        if (cond()) return true;
        std::this_thread::sleep_for(1ms);
    }
    return cond();
}

struct counted {
    static inline std::atomic<int> live{0};
    explicit counted(int v) noexcept : value(v) { ++live; }
    counted(const counted& o) noexcept : value(o.value) { ++live; }
    counted(counted&& o) noexcept : value(o.value) { ++live; }
    counted& operator=(const counted&) = default;
    ~counted() { --live; }
    int value;
};

corio::task<int> recv_one(corio::broadcast::receiver<int>* rx) {
    auto r = co_await rx->recv();
    if (!r) co_return r.error().is_closed() ? -1 : -1000 - static_cast<int>(r.error().skipped());
    co_return *r;
}

corio::task<int> recv_one_owned(corio::broadcast::receiver<int> rx) {
    auto r = co_await rx.recv();
    co_return r ? *r : -1;
}

// Everything until closed: values as they are, lag as -skipped.
corio::task<std::vector<long>> drain(corio::broadcast::receiver<int>* rx) {
    std::vector<long> out;
    for (;;) {
        auto r = co_await rx->recv();
        if (r) {
            out.push_back(*r);
        } else if (r.error().is_lagged()) {
            out.push_back(-static_cast<long>(r.error().skipped()));
        } else {
            break;
        }
    }
    co_return out;
}

TEST(broadcast, send_returns_the_receiver_count_and_every_receiver_gets_a_copy) {
    corio::runtime rt({.worker_threads = 2});
    auto [tx, rx1] = corio::broadcast::channel<int>(16);
    auto rx2 = tx.subscribe();
    EXPECT_EQ(tx.receiver_count(), 2u);
    EXPECT_EQ(tx.send(1).value(), 2u);
    EXPECT_EQ(tx.send(2).value(), 2u);
    EXPECT_EQ(rt.block_on(recv_one(&rx1)), 1);
    EXPECT_EQ(rt.block_on(recv_one(&rx1)), 2);
    EXPECT_EQ(rt.block_on(recv_one(&rx2)), 1);
    EXPECT_EQ(rt.block_on(recv_one(&rx2)), 2);
}

TEST(broadcast, send_without_receivers_hands_the_value_back) {
    auto [tx, rx] = corio::broadcast::channel<std::string>(4);
    { auto gone = std::move(rx); }
    EXPECT_EQ(tx.receiver_count(), 0u);
    auto r = tx.send("v");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().value, "v");
    EXPECT_EQ(fmt::format("{}", r.error()), "channel closed");
    auto late = tx.subscribe();  // reopens for sends
    EXPECT_EQ(tx.send("w").value(), 1u);
    EXPECT_EQ(late.try_recv().value(), "w");
}

// docs/design/invariants.md, item 8.
TEST(broadcast, capacity_4_ten_sends_lag_6_then_the_last_4_in_order) {
    corio::runtime rt({.worker_threads = 2});
    auto [tx, rx] = corio::broadcast::channel<int>(4);
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(tx.send(i));
    EXPECT_EQ(rx.len(), 10u);
    auto late = tx.subscribe();
    { auto gone = std::move(tx); }
    EXPECT_EQ(rt.block_on(drain(&rx)), (std::vector<long>{-6, 6, 7, 8, 9}));
    EXPECT_EQ(rt.block_on(drain(&late)), (std::vector<long>{}));
}

TEST(broadcast, late_subscriber_sees_only_later_sends) {
    corio::runtime rt({.worker_threads = 2});
    auto [tx, rx] = corio::broadcast::channel<int>(8);
    ASSERT_TRUE(tx.send(1));
    ASSERT_TRUE(tx.send(2));
    auto late = tx.subscribe();
    auto resub = rx.resubscribe();
    ASSERT_TRUE(tx.send(3));
    { auto gone = std::move(tx); }
    EXPECT_EQ(rt.block_on(drain(&rx)), (std::vector<long>{1, 2, 3}));
    EXPECT_EQ(rt.block_on(drain(&late)), (std::vector<long>{3}));
    EXPECT_EQ(rt.block_on(drain(&resub)), (std::vector<long>{3}));
}

TEST(broadcast, capacity_rounds_up_to_a_power_of_two) {
    auto [tx, rx] = corio::broadcast::channel<int>(3);  // 4 slots
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(tx.send(i));
    EXPECT_EQ(rx.try_recv().error(), try_recv_error::lagged(1));
    EXPECT_EQ(rx.try_recv().value(), 1);
    EXPECT_THROW(corio::broadcast::channel<int>(0), std::invalid_argument);
}

TEST(broadcast, lag_with_try_recv_and_then_catch_up) {
    auto [tx, rx] = corio::broadcast::channel<int>(2);
    EXPECT_EQ(rx.try_recv().error(), try_recv_error::empty());
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(tx.send(i));
    auto e = rx.try_recv();
    ASSERT_FALSE(e);
    EXPECT_TRUE(e.error().is_lagged());
    EXPECT_EQ(e.error().skipped(), 3u);
    EXPECT_EQ(fmt::format("{}", e.error()), "channel lagged by 3");
    EXPECT_EQ(rx.try_recv().value(), 3);
    ASSERT_TRUE(tx.send(5));
    ASSERT_TRUE(tx.send(6));  // overwrites 4 while unread: lagged again
    EXPECT_EQ(rx.try_recv().error(), try_recv_error::lagged(1));
    EXPECT_EQ(rx.try_recv().value(), 5);
    EXPECT_EQ(rx.try_recv().value(), 6);
    EXPECT_TRUE(rx.try_recv().error().is_empty());
    EXPECT_TRUE(rx.is_empty());
}

TEST(broadcast, closed_only_after_the_last_sender_and_the_backlog) {
    auto [tx, rx] = corio::broadcast::channel<int>(4);
    auto tx2 = tx;
    ASSERT_TRUE(tx.send(1));
    { auto gone = std::move(tx); }
    EXPECT_EQ(rx.try_recv().value(), 1);
    EXPECT_TRUE(rx.try_recv().error().is_empty());  // tx2 keeps it open
    ASSERT_TRUE(tx2.send(2));
    { auto gone = std::move(tx2); }
    EXPECT_EQ(rx.try_recv().value(), 2);
    EXPECT_TRUE(rx.try_recv().error().is_closed());
    EXPECT_TRUE(rx.try_recv().error().is_closed());
    EXPECT_EQ(fmt::format("{}", recv_error::closed()), "channel closed");
}

TEST(broadcast, recv_waits_for_a_send) {
    corio::runtime rt({.worker_threads = 2});
    auto [tx, rx] = corio::broadcast::channel<int>(4);
    auto h = rt.spawn(recv_one(&rx));
    std::this_thread::sleep_for(20ms);
    EXPECT_FALSE(h.is_finished());
    ASSERT_TRUE(tx.send(8));
    EXPECT_EQ(h.blocking_join().value(), 8);
}

TEST(broadcast, last_sender_drop_wakes_a_parked_recv_with_closed) {
    corio::runtime rt({.worker_threads = 2});
    auto [tx, rx] = corio::broadcast::channel<int>(4);
    auto h = rt.spawn(recv_one(&rx));
    std::this_thread::sleep_for(20ms);
    EXPECT_FALSE(h.is_finished());
    { auto gone = std::move(tx); }
    EXPECT_EQ(h.blocking_join().value(), -1);
}

corio::task<int> parked_receiver(corio::broadcast::receiver<int> rx, std::atomic<int>* parked) {
    parked->fetch_add(1);
    auto r = co_await rx.recv();
    co_return r ? *r : -1;
}

TEST(broadcast, one_send_wakes_every_waiter_beyond_a_batch) {
    corio::runtime rt({.worker_threads = 2});
    auto [tx, rx] = corio::broadcast::channel<int>(4);
    std::atomic<int> parked{0};
    std::vector<corio::join_handle<int>> hs;
    for (int i = 0; i < 100; ++i) hs.push_back(rt.spawn(parked_receiver(tx.subscribe(), &parked)));
    ASSERT_TRUE(eventually([&] { return parked.load() == 100; }));
    std::this_thread::sleep_for(20ms);
    EXPECT_EQ(tx.send(77).value(), 101u);
    for (auto& h : hs) EXPECT_EQ(h.blocking_join().value(), 77);
}

TEST(broadcast, abort_of_a_task_parked_in_recv_consumes_nothing) {
    corio::runtime rt({.worker_threads = 2});
    auto [tx, rx] = corio::broadcast::channel<int>(4);
    auto h = rt.spawn(recv_one(&rx));
    auto owned = rt.spawn(recv_one_owned(tx.subscribe()));
    std::this_thread::sleep_for(20ms);
    h.abort();
    owned.abort();
    auto j = h.blocking_join();
    ASSERT_FALSE(j);
    EXPECT_TRUE(j.error().is_cancelled());
    EXPECT_TRUE(owned.blocking_join().error().is_cancelled());
    EXPECT_EQ(tx.receiver_count(), 1u);
    EXPECT_EQ(tx.send(3).value(), 1u);  // touches no destroyed waiter
    EXPECT_EQ(rx.try_recv().value(), 3);
}

TEST(broadcast, an_abandoned_recv_leaves_the_value) {
    corio::runtime rt({.worker_threads = 2});
    auto [tx, rx] = corio::broadcast::channel<int>(4);
    { auto op = rx.recv(); }
    ASSERT_TRUE(tx.send(1));
    EXPECT_EQ(rt.block_on(recv_one(&rx)), 1);
}

TEST(broadcast, values_are_destroyed_once_every_receiver_read_them) {
    counted::live = 0;
    {
        auto [tx, rx1] = corio::broadcast::channel<counted>(4);
        auto rx2 = tx.subscribe();
        for (int i = 0; i < 3; ++i) {
            counted c(i);
            ASSERT_TRUE(tx.send(c));
        }
        EXPECT_EQ(counted::live.load(), 3);
        for (int i = 0; i < 3; ++i) EXPECT_EQ(rx1.try_recv().value().value, i);
        EXPECT_EQ(counted::live.load(), 3);  // rx2 has not read them
        EXPECT_EQ(rx2.try_recv().value().value, 0);
        EXPECT_EQ(counted::live.load(), 2);
        { auto gone = std::move(rx2); }  // gives up its unread values
        EXPECT_EQ(counted::live.load(), 0);
        {
            counted c(9);
            ASSERT_TRUE(tx.send(c));
        }
        EXPECT_EQ(counted::live.load(), 1);
    }
    EXPECT_EQ(counted::live.load(), 0);
}

TEST(broadcast, receiver_count_len_and_resubscribe) {
    auto [tx, rx] = corio::broadcast::channel<int>(8);
    EXPECT_EQ(rx.receiver_count(), 1u);
    ASSERT_TRUE(tx.send(1));
    ASSERT_TRUE(tx.send(2));
    EXPECT_EQ(rx.len(), 2u);
    auto r2 = rx.resubscribe();
    EXPECT_EQ(r2.len(), 0u);
    EXPECT_EQ(tx.receiver_count(), 2u);
    EXPECT_TRUE(tx.same_channel(tx));
    corio::broadcast::receiver<int> moved = std::move(r2);
    EXPECT_FALSE(r2);
    EXPECT_EQ(tx.receiver_count(), 2u);
    EXPECT_TRUE(r2.try_recv().error().is_closed());
}

TEST(broadcast, blocking_recv_from_a_plain_thread) {
    auto [tx, rx] = corio::broadcast::channel<int>(4);
    std::thread t([tx = std::move(tx)]() mutable {
        std::this_thread::sleep_for(10ms);
        (void)tx.send(4);
    });
    EXPECT_EQ(rx.blocking_recv().value(), 4);
    EXPECT_TRUE(rx.blocking_recv().error().is_closed());
    t.join();
}

corio::task<void> send_range(corio::broadcast::sender<int> tx, int n) {
    for (int i = 0; i < n; ++i) {
        (void)tx.send(i);
        if (i % 16 == 0) co_await corio::yield_now();
    }
}

TEST(broadcast, concurrent_fanout_without_lag_is_complete_and_ordered) {
    corio::runtime rt({.worker_threads = 2});
    constexpr int n = 20'000;
    auto [tx, rx] = corio::broadcast::channel<int>(n);
    std::vector<corio::broadcast::receiver<int>> rxs;
    for (int i = 0; i < 4; ++i) rxs.push_back(tx.subscribe());
    std::vector<corio::join_handle<std::vector<long>>> hs;
    for (auto& r : rxs) hs.push_back(rt.spawn(drain(&r)));
    { auto gone = std::move(rx); }
    rt.spawn(send_range(std::move(tx), n)).detach();
    for (auto& h : hs) {
        auto got = h.blocking_join().value();
        ASSERT_EQ(got.size(), static_cast<std::size_t>(n));
        for (int i = 0; i < n; ++i) ASSERT_EQ(got[i], i);
    }
}

TEST(broadcast, handles_are_nothrow_movable) {
    static_assert(std::is_nothrow_move_constructible_v<corio::broadcast::sender<std::string>>);
    static_assert(std::is_nothrow_move_constructible_v<corio::broadcast::receiver<std::string>>);
    static_assert(std::is_copy_constructible_v<corio::broadcast::sender<int>>);
    static_assert(!std::is_copy_constructible_v<corio::broadcast::receiver<int>>);
    EXPECT_EQ(recv_error::lagged(2), recv_error::lagged(2));
    EXPECT_NE(recv_error::lagged(2), recv_error::closed());
    EXPECT_EQ(recv_error::lagged(2).what_kind(), recv_error::kind::lagged);
}

}  // namespace
