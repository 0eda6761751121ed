// shutdown_test: tasks still alive at shutdown are cancelled exactly once, spawn after shutdown
// yields cancelled, and the current_thread flavour runs and shuts down spawned tasks.
#include "support/pending_forever.hpp"

#include <corio/runtime/join_handle.hpp>
#include <corio/runtime/runtime.hpp>
#include <corio/runtime/yield_now.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;

struct raii_guard {
    std::atomic<int>* count;
    ~raii_guard() { count->fetch_add(1); }
};

template <class F>
bool wait_until(F cond) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!cond()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(1ms);
    }
    return true;
}

corio::task<void> parked(std::atomic<int>* guards, std::atomic<int>* leaf_destroyed, std::atomic<int>* polled) {
    raii_guard g{guards};
    co_await corio::testing::pending_forever(leaf_destroyed, polled);
}

corio::task<void> spinning(std::atomic<int>* guards, std::atomic<int>* iterations) {
    raii_guard g{guards};
    for (;;) {
        iterations->fetch_add(1);
        co_await corio::yield_now();
    }
}

corio::task<int> answer() { co_return 42; }

TEST(shutdown, destroying_the_runtime_cancels_parked_tasks_once) {
    std::atomic<int> guards{0};
    std::atomic<int> leaf_destroyed{0};
    std::atomic<int> polled{0};
    constexpr int n = 20;
    {
        corio::runtime rt({.worker_threads = 2});
        for (int i = 0; i < n; ++i) rt.spawn(parked(&guards, &leaf_destroyed, &polled)).detach();
        EXPECT_TRUE(wait_until([&] { return polled.load() >= n; }));
        EXPECT_EQ(guards.load(), 0);
    }
    EXPECT_EQ(guards.load(), n);
    EXPECT_EQ(leaf_destroyed.load(), n);
}

TEST(shutdown, shutdown_with_tasks_mid_flight) {
    std::atomic<int> guards{0};
    std::atomic<int> leaf_destroyed{0};
    std::atomic<int> polled{0};
    std::atomic<int> iterations{0};
    corio::runtime rt({.worker_threads = 2});
    std::vector<corio::join_handle<void>> hs;
    for (int i = 0; i < 4; ++i) hs.push_back(rt.spawn(spinning(&guards, &iterations)));
    for (int i = 0; i < 4; ++i) hs.push_back(rt.spawn(parked(&guards, &leaf_destroyed, &polled)));
    EXPECT_TRUE(wait_until([&] { return polled.load() >= 4 && iterations.load() > 100; }));
    rt.shutdown(5s);
    EXPECT_EQ(guards.load(), 8);
    EXPECT_EQ(leaf_destroyed.load(), 4);
    for (auto& h : hs) {
        EXPECT_TRUE(h.is_finished());
        auto r = h.blocking_join();
        ASSERT_FALSE(r.has_value());
        EXPECT_TRUE(r.error().is_cancelled());
    }
    rt.shutdown(5s);  // idempotent
    EXPECT_EQ(guards.load(), 8);
}

TEST(shutdown, spawn_after_shutdown_yields_cancelled) {
    std::atomic<int> guards{0};
    std::atomic<int> leaf_destroyed{0};
    corio::runtime rt({.worker_threads = 2});
    rt.shutdown(5s);
    auto h = rt.spawn(answer());
    EXPECT_TRUE(h.is_finished());
    auto r = h.blocking_join();
    ASSERT_FALSE(r.has_value());
    EXPECT_TRUE(r.error().is_cancelled());
    auto p = rt.spawn(parked(&guards, &leaf_destroyed, nullptr));
    EXPECT_TRUE(p.blocking_join().error().is_cancelled());
    EXPECT_EQ(guards.load(), 0);  // never started: the frame is destroyed before its body ran
    EXPECT_EQ(leaf_destroyed.load(), 0);
    auto via_handle = rt.handle().spawn(answer());
    EXPECT_TRUE(via_handle.blocking_join().error().is_cancelled());
}

corio::task<int> spawn_children(int n) {
    std::vector<corio::join_handle<int>> hs;
    for (int i = 0; i < n; ++i) hs.push_back(corio::spawn(answer()));
    int sum = 0;
    for (auto& h : hs) {
        auto r = co_await h;
        sum += r.value();
    }
    co_return sum;
}

corio::task<void> spawn_parked_children(int n, std::atomic<int>* guards, std::atomic<int>* leaf_destroyed,
                                        std::atomic<int>* polled) {
    for (int i = 0; i < n; ++i) corio::spawn(parked(guards, leaf_destroyed, polled)).detach();
    while (polled->load() < n) co_await corio::yield_now();
}

TEST(shutdown, current_thread_with_spawned_tasks) {
    std::atomic<int> guards{0};
    std::atomic<int> leaf_destroyed{0};
    std::atomic<int> polled{0};
    {
        corio::runtime rt({.flavor = corio::runtime_flavor::current_thread});
        EXPECT_EQ(rt.block_on(spawn_children(10)), 420);
        rt.block_on(spawn_parked_children(5, &guards, &leaf_destroyed, &polled));
        EXPECT_EQ(polled.load(), 5);
        EXPECT_EQ(guards.load(), 0);
    }
    EXPECT_EQ(guards.load(), 5);
    EXPECT_EQ(leaf_destroyed.load(), 5);
}

}  // namespace
