// blocking_test: the blocking twins added for plain threads — mpsc blocking_closed /
// blocking_reserve / blocking_recv_many, oneshot and watch blocking_closed, watch
// blocking_wait_for — each woken by another thread, and each refusing to run on a worker.
#include <corio/channels/mpsc.hpp>
#include <corio/channels/oneshot.hpp>
#include <corio/channels/watch.hpp>
#include <corio/runtime/runtime.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;

TEST(blocking_twins, mpsc_blocking_closed_returns_when_the_receiver_goes) {
    auto [tx, rx] = corio::mpsc::channel<int>(1);
    std::atomic<bool> returned{false};
    std::thread waiter([&, t = tx]() mutable {
        t.blocking_closed();
        returned = true;
    });
    std::this_thread::sleep_for(10ms);
    EXPECT_FALSE(returned.load());  // the receiver is alive: still waiting
    { auto gone = std::move(rx); }
    waiter.join();
    EXPECT_TRUE(returned.load());
    EXPECT_TRUE(tx.is_closed());
}

TEST(blocking_twins, mpsc_blocking_reserve_waits_for_capacity) {
    auto [tx, rx] = corio::mpsc::channel<int>(1);
    ASSERT_TRUE(tx.try_send(1).has_value());
    std::thread producer([t = tx]() mutable {
        auto p = t.blocking_reserve();  // full: waits until the main thread receives
        ASSERT_TRUE(p.has_value());
        p->send(2);
    });
    EXPECT_EQ(rx.blocking_recv().value(), 1);
    EXPECT_EQ(rx.blocking_recv().value(), 2);
    producer.join();
}

TEST(blocking_twins, mpsc_blocking_recv_many_takes_a_batch_then_reports_the_end) {
    auto [tx, rx] = corio::mpsc::channel<int>(8);
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(tx.try_send(i).has_value());
    std::vector<int> buf;
    EXPECT_EQ(rx.blocking_recv_many(buf, 3), 3u);
    EXPECT_EQ(rx.blocking_recv_many(buf, 10), 2u);
    EXPECT_EQ(buf, (std::vector<int>{0, 1, 2, 3, 4}));
    std::thread closer([t = std::move(tx)]() mutable { auto gone = std::move(t); });
    EXPECT_EQ(rx.blocking_recv_many(buf, 10), 0u);  // every sender gone and drained
    closer.join();
}

TEST(blocking_twins, oneshot_blocking_closed_returns_when_the_receiver_goes) {
    auto [tx, rx] = corio::oneshot::channel<int>();
    std::thread dropper([r = std::move(rx)]() mutable {
        std::this_thread::sleep_for(5ms);
        auto gone = std::move(r);
    });
    tx.blocking_closed();
    EXPECT_TRUE(tx.is_closed());
    dropper.join();
}

TEST(blocking_twins, watch_blocking_wait_for_and_closed) {
    auto [tx, rx] = corio::watch::channel<int>(0);
    std::thread sender([t = std::move(tx)]() mutable {
        for (int i = 1; i <= 10; ++i) {
            std::this_thread::sleep_for(1ms);
            (void)t.send(i);
        }
        t.blocking_closed();  // returns once the main thread drops its receiver
    });
    auto ten = [](const int& v) { return v >= 10; };
    {
        auto r = rx.blocking_wait_for(ten);
        ASSERT_TRUE(r.has_value());
        EXPECT_EQ(**r, 10);
    }
    { auto gone = std::move(rx); }
    sender.join();
}

corio::task<bool> blocking_on_a_worker() {
    auto [tx, rx] = corio::mpsc::channel<int>(1);
    try {
        tx.blocking_closed();
    } catch (const std::logic_error&) {
        co_return true;
    }
    co_return false;
}

TEST(blocking_twins, refuse_to_block_a_worker) {
    corio::runtime rt({.worker_threads = 1});
    EXPECT_TRUE(rt.block_on(blocking_on_a_worker()));
}

}  // namespace
