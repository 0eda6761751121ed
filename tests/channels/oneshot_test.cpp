// oneshot_test: corio::oneshot delivery, disconnection both ways, try_recv, closed(), blocking_recv and value lifetimes.
#include <corio/channels/oneshot.hpp>
#include <corio/runtime/runtime.hpp>
#include <corio/runtime/yield_now.hpp>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

namespace {

using namespace std::chrono_literals;
using corio::oneshot::recv_error;
using corio::oneshot::try_recv_error;

// Counts constructions and destructions, to prove each value is destroyed exactly once.
struct counted {
    static inline std::atomic<int> made{0};
    static inline std::atomic<int> destroyed{0};
    static void reset() {
        made = 0;
        destroyed = 0;
    }
    static int live() { return made.load() - destroyed.load(); }

    explicit counted(int v) noexcept : value(v) { ++made; }
    counted(const counted& o) noexcept : value(o.value) { ++made; }
    counted(counted&& o) noexcept : value(o.value) { ++made; }
    ~counted() { ++destroyed; }
    int value;
};

corio::task<int> recv_int(corio::oneshot::receiver<int>* rx) {
    auto r = co_await *rx;
    co_return r ? *r : -1;
}

corio::task<bool> recv_is_closed(corio::oneshot::receiver<int>* rx) {
    auto r = co_await rx->recv();
    co_return !r && r.error() == recv_error::closed;
}

corio::task<int> send_then_receive() {
    auto [tx, rx] = corio::oneshot::channel<int>();
    auto sent = tx.send(7);
    EXPECT_TRUE(sent.has_value());
    EXPECT_FALSE(tx);
    auto r = co_await rx;
    co_return r.value();
}

TEST(oneshot, send_before_receiver_waits) {
    corio::runtime rt({.worker_threads = 2});
    EXPECT_EQ(rt.block_on(send_then_receive()), 7);
}

TEST(oneshot, send_after_receiver_waits) {
    corio::runtime rt({.worker_threads = 2});
    auto [tx, rx] = corio::oneshot::channel<int>();
    auto h = rt.spawn(recv_int(&rx));
    std::this_thread::sleep_for(30ms);  // let the receiver park first
    EXPECT_FALSE(h.is_finished());
    EXPECT_TRUE(tx.send(42).has_value());
    EXPECT_EQ(h.blocking_join().value(), 42);
}

corio::task<int> send_from_task(corio::oneshot::sender<int> tx, int v) {
    co_await corio::yield_now();
    auto r = tx.send(v);
    co_return r ? 1 : 0;
}

corio::task<int> spawn_sender_and_receive() {
    auto [tx, rx] = corio::oneshot::channel<int>();
    auto h = corio::spawn(send_from_task(std::move(tx), 5));
    auto r = co_await rx;
    int ok = (co_await h).value();
    co_return ok ? r.value() : -1;
}

TEST(oneshot, send_from_another_task) {
    corio::runtime rt({.worker_threads = 2});
    for (int i = 0; i < 100; ++i) EXPECT_EQ(rt.block_on(spawn_sender_and_receive()), 5);
}

TEST(oneshot, receiver_dropped_send_returns_value) {
    auto [tx, rx] = corio::oneshot::channel<std::string>();
    EXPECT_FALSE(tx.is_closed());
    { auto gone = std::move(rx); }
    EXPECT_TRUE(tx.is_closed());
    auto r = tx.send(std::string("hello"));
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().value, "hello");
    EXPECT_EQ(fmt::format("{}", r.error()), "channel closed");
}

TEST(oneshot, sender_dropped_recv_errors) {
    corio::runtime rt({.worker_threads = 2});
    {
        auto [tx, rx] = corio::oneshot::channel<int>();
        { auto gone = std::move(tx); }
        EXPECT_TRUE(rt.block_on(recv_is_closed(&rx)));
    }
    {
        // The receiver is parked when the sender goes away.
        auto [tx, rx] = corio::oneshot::channel<int>();
        auto h = rt.spawn(recv_is_closed(&rx));
        std::this_thread::sleep_for(20ms);
        { auto gone = std::move(tx); }
        EXPECT_TRUE(h.blocking_join().value());
    }
}

TEST(oneshot, try_recv_empty_value_closed) {
    {
        auto [tx, rx] = corio::oneshot::channel<int>();
        auto r = rx.try_recv();
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error(), try_recv_error::empty);
        EXPECT_EQ(fmt::format("{}", r.error()), "channel empty");
        EXPECT_TRUE(tx.send(3).has_value());
        auto v = rx.try_recv();
        ASSERT_TRUE(v);
        EXPECT_EQ(*v, 3);
        // Spent: a second receive reports closed.
        auto again = rx.try_recv();
        ASSERT_FALSE(again);
        EXPECT_EQ(again.error(), try_recv_error::closed);
    }
    {
        auto [tx, rx] = corio::oneshot::channel<int>();
        { auto gone = std::move(tx); }
        auto r = rx.try_recv();
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error(), try_recv_error::closed);
        EXPECT_EQ(fmt::format("{}", r.error()), "channel closed");
        EXPECT_EQ(fmt::format("{}", recv_error::closed), "channel closed");
    }
}

TEST(oneshot, close_keeps_a_value_sent_before_and_refuses_later_sends) {
    {
        auto [tx, rx] = corio::oneshot::channel<int>();
        EXPECT_TRUE(tx.send(9).has_value());
        rx.close();
        auto v = rx.try_recv();
        ASSERT_TRUE(v);
        EXPECT_EQ(*v, 9);
    }
    {
        auto [tx, rx] = corio::oneshot::channel<int>();
        rx.close();
        EXPECT_TRUE(tx.is_closed());
        auto r = tx.send(1);
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().value, 1);
        auto v = rx.try_recv();
        ASSERT_FALSE(v);
        EXPECT_EQ(v.error(), try_recv_error::closed);
    }
}

corio::task<bool> wait_closed(corio::oneshot::sender<int> tx) {
    co_await tx.closed();
    co_return tx.is_closed();
}

TEST(oneshot, closed_resolves_when_receiver_dropped) {
    corio::runtime rt({.worker_threads = 2});
    auto [tx, rx] = corio::oneshot::channel<int>();
    auto h = rt.spawn(wait_closed(std::move(tx)));
    std::this_thread::sleep_for(20ms);
    EXPECT_FALSE(h.is_finished());
    { auto gone = std::move(rx); }
    EXPECT_TRUE(h.blocking_join().value());
}

TEST(oneshot, closed_resolves_at_once_when_already_closed) {
    corio::runtime rt({.worker_threads = 2});
    auto [tx, rx] = corio::oneshot::channel<int>();
    rx.close();
    EXPECT_TRUE(rt.block_on(wait_closed(std::move(tx))));
}

corio::task<void> send_later(corio::oneshot::sender<int> tx, int v) {
    for (int i = 0; i < 10; ++i) co_await corio::yield_now();
    auto r = tx.send(v);
    EXPECT_TRUE(r.has_value());
}

TEST(oneshot, blocking_recv_from_plain_thread) {
    corio::runtime rt({.worker_threads = 2});
    for (int i = 0; i < 50; ++i) {
        auto [tx, rx] = corio::oneshot::channel<int>();
        int got = 0;
        auto* prx = &rx;  // clang 14 cannot capture structured bindings
        std::thread t([prx, &got] { got = prx->blocking_recv().value(); });
        auto h = rt.spawn(send_later(std::move(tx), i));
        t.join();
        EXPECT_EQ(got, i);
        h.blocking_join().value();
    }
    // Sender dropped: blocking_recv reports closed.
    auto [tx, rx] = corio::oneshot::channel<int>();
    auto* prx = &rx;
    std::thread t([prx] {
        auto r = prx->blocking_recv();
        EXPECT_FALSE(r);
    });
    std::this_thread::sleep_for(10ms);
    { auto gone = std::move(tx); }
    t.join();
}

corio::task<int> recv_counted(corio::oneshot::receiver<counted>* rx) {
    auto r = co_await *rx;
    co_return r ? r->value : -1;
}

TEST(oneshot, value_destroyed_exactly_once) {
    counted::reset();
    {  // received
        corio::runtime rt({.worker_threads = 2});
        auto [tx, rx] = corio::oneshot::channel<counted>();
        EXPECT_TRUE(tx.send(counted(1)).has_value());
        EXPECT_EQ(rt.block_on(recv_counted(&rx)), 1);
        EXPECT_EQ(counted::live(), 0);
    }
    {  // sent, never received: destroyed with the receiver
        auto [tx, rx] = corio::oneshot::channel<counted>();
        EXPECT_TRUE(tx.send(counted(2)).has_value());
        EXPECT_EQ(counted::live(), 1);
        { auto gone = std::move(rx); }
        EXPECT_EQ(counted::live(), 0);
    }
    {  // receiver gone: the value comes back, once
        auto [tx, rx] = corio::oneshot::channel<counted>();
        { auto gone = std::move(rx); }
        {
            auto r = tx.send(counted(3));
            ASSERT_FALSE(r);
            EXPECT_EQ(r.error().value.value, 3);
            EXPECT_EQ(counted::live(), 1);
        }
        EXPECT_EQ(counted::live(), 0);
    }
    {  // taken by try_recv
        auto [tx, rx] = corio::oneshot::channel<counted>();
        EXPECT_TRUE(tx.send(counted(4)).has_value());
        auto v = rx.try_recv();
        ASSERT_TRUE(v);
        EXPECT_EQ(v->value, 4);
    }
    EXPECT_EQ(counted::live(), 0);
    EXPECT_GT(counted::made.load(), 0);
}

corio::task<int> park_on(corio::oneshot::receiver<int>* rx) {
    auto r = co_await *rx;
    co_return r.value();
}

TEST(oneshot, abandoned_receive_consumes_nothing) {
    corio::runtime rt({.worker_threads = 2});
    auto [tx, rx] = corio::oneshot::channel<int>();
    auto h = rt.spawn(park_on(&rx));
    std::this_thread::sleep_for(20ms);
    h.abort();
    auto j = h.blocking_join();
    ASSERT_FALSE(j);
    EXPECT_TRUE(j.error().is_cancelled());
    EXPECT_TRUE(tx.send(11).has_value());
    auto v = rx.try_recv();
    ASSERT_TRUE(v);
    EXPECT_EQ(*v, 11);
}

TEST(oneshot, handles_are_nothrow_movable) {
    static_assert(std::is_nothrow_move_constructible_v<corio::oneshot::sender<std::string>>);
    static_assert(std::is_nothrow_move_constructible_v<corio::oneshot::receiver<std::string>>);
    static_assert(!std::is_copy_constructible_v<corio::oneshot::sender<int>>);
    static_assert(!std::is_copy_constructible_v<corio::oneshot::receiver<int>>);
    auto [tx, rx] = corio::oneshot::channel<std::unique_ptr<int>>();
    auto tx2 = std::move(tx);
    auto rx2 = std::move(rx);
    EXPECT_FALSE(tx);
    EXPECT_TRUE(tx2.send(std::make_unique<int>(8)).has_value());
    auto v = rx2.try_recv();
    ASSERT_TRUE(v);
    EXPECT_EQ(**v, 8);
}

}  // namespace
