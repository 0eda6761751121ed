// join_set_test: join_next in completion order, empty sets, abort_all, detach_all, destruction.
#include "support/pending_forever.hpp"
#include "support/test_event.hpp"

#include <corio/runtime/join_set.hpp>
#include <corio/runtime/runtime.hpp>
#include <corio/runtime/yield_now.hpp>

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;

template <class F>
bool wait_until(F cond) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!cond()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(1ms);
    }
    return true;
}

corio::task<bool> wait_above(std::atomic<int>* counter, int threshold) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (counter->load() <= threshold) {
        if (std::chrono::steady_clock::now() > deadline) co_return false;
        co_await corio::yield_now();
    }
    co_return true;
}

corio::task<int> waits_then_returns(corio::testing::test_event* ev, int v) {
    co_await ev->wait();
    co_return v;
}

corio::task<int> parked(std::atomic<int>* leaf_destroyed, std::atomic<int>* polled) {
    co_await corio::testing::pending_forever(leaf_destroyed, polled);
    co_return 0;
}

corio::task<int> value_of(int v) { co_return v; }

corio::task<std::vector<int>> completion_order(std::array<corio::testing::test_event, 4>* evs) {
    corio::join_set<int> set;
    for (int i = 0; i < 4; ++i) set.spawn(waits_then_returns(&(*evs)[i], i));
    std::vector<int> order;
    const std::array<int, 4> release = {2, 0, 3, 1};
    for (int i : release) {
        (*evs)[i].set();
        auto r = co_await set.join_next();
        order.push_back(r ? r->value() : -1);
    }
    auto end = co_await set.join_next();
    if (end.has_value()) order.push_back(-2);
    co_return order;
}

TEST(join_set, join_next_yields_in_completion_order) {
    corio::runtime rt({.worker_threads = 2});
    std::array<corio::testing::test_event, 4> evs;
    EXPECT_EQ(rt.block_on(completion_order(&evs)), (std::vector<int>{2, 0, 3, 1}));
}

corio::task<bool> empty_set() {
    corio::join_set<int> set;
    if (!set.is_empty() || set.len() != 0) co_return false;
    auto r = co_await set.join_next();
    co_return !r.has_value();
}

TEST(join_set, join_next_on_an_empty_set_is_nullopt) {
    corio::runtime rt({.worker_threads = 1});
    EXPECT_TRUE(rt.block_on(empty_set()));
}

corio::task<int> sum_of_many(int n) {
    corio::join_set<int> set;
    for (int i = 1; i <= n; ++i) set.spawn(value_of(i));
    if (set.len() != static_cast<std::size_t>(n)) co_return -1;
    int sum = 0;
    int count = 0;
    for (;;) {
        auto r = co_await set.join_next();
        if (!r) break;
        sum += r->value();
        ++count;
    }
    if (count != n || !set.is_empty()) co_return -2;
    co_return sum;
}

TEST(join_set, joins_many_tasks) {
    corio::runtime rt({.worker_threads = 2});
    EXPECT_EQ(rt.block_on(sum_of_many(2000)), 2000 * 2001 / 2);
}

TEST(join_set, joins_many_tasks_on_current_thread) {
    corio::runtime rt({.flavor = corio::runtime_flavor::current_thread});
    EXPECT_EQ(rt.block_on(sum_of_many(500)), 500 * 501 / 2);
}

corio::task<int> abort_all_cancels(std::atomic<int>* leaf_destroyed) {
    std::atomic<int> polled{0};
    corio::join_set<int> set;
    for (int i = 0; i < 3; ++i) set.spawn(parked(leaf_destroyed, &polled));
    bool ok = co_await wait_above(&polled, 2);
    if (!ok) co_return -1;
    set.abort_all();
    if (set.len() != 3) co_return -2;  // aborted tasks stay until joined
    int cancelled = 0;
    for (;;) {
        auto r = co_await set.join_next();
        if (!r) break;
        if (!r->has_value() && r->error().is_cancelled()) ++cancelled;
    }
    co_return cancelled;
}

TEST(join_set, abort_all_yields_cancelled) {
    std::atomic<int> leaf_destroyed{0};
    corio::runtime rt({.worker_threads = 2});
    EXPECT_EQ(rt.block_on(abort_all_cancels(&leaf_destroyed)), 3);
    EXPECT_EQ(leaf_destroyed.load(), 3);
}

corio::task<bool> destroy_with_parked(std::atomic<int>* leaf_destroyed) {
    std::atomic<int> polled{0};
    {
        corio::join_set<int> set;
        for (int i = 0; i < 5; ++i) set.spawn(parked(leaf_destroyed, &polled));
        bool ok = co_await wait_above(&polled, 4);
        if (!ok) co_return false;
    }
    bool all = co_await wait_above(leaf_destroyed, 4);
    co_return all;
}

TEST(join_set, destruction_aborts_every_task) {
    std::atomic<int> leaf_destroyed{0};
    corio::runtime rt({.worker_threads = 2});
    EXPECT_TRUE(rt.block_on(destroy_with_parked(&leaf_destroyed)));
    EXPECT_EQ(leaf_destroyed.load(), 5);
}

corio::task<void> count_after(corio::testing::test_event* ev, std::atomic<int>* finished) {
    co_await ev->wait();
    finished->fetch_add(1);
}

corio::task<bool> detach_all_then_finish(corio::testing::test_event* ev, std::atomic<int>* finished) {
    corio::join_set<void> set;
    for (int i = 0; i < 3; ++i) set.spawn(count_after(ev, finished));
    set.detach_all();
    if (!set.is_empty()) co_return false;
    ev->set();
    auto r = co_await set.join_next();
    co_return !r.has_value();
}

TEST(join_set, detach_all_empties_the_set_and_tasks_run_on) {
    corio::runtime rt({.worker_threads = 2});
    corio::testing::test_event ev;
    std::atomic<int> finished{0};
    EXPECT_TRUE(rt.block_on(detach_all_then_finish(&ev, &finished)));
    EXPECT_TRUE(wait_until([&] { return finished.load() == 3; }));
}

corio::task<int> spawn_on_handle(corio::runtime_handle rh) {
    corio::join_set<int> set;
    set.spawn_on(rh, value_of(5));
    auto r = co_await set.join_next();
    co_return r ? r->value() : -1;
}

TEST(join_set, spawn_on_a_runtime_handle) {
    corio::runtime rt({.worker_threads = 2});
    EXPECT_EQ(rt.block_on(spawn_on_handle(rt.handle())), 5);
}

corio::task<int> throws_in_set() {
    throw std::runtime_error("in set");
    co_return 0;
}

corio::task<bool> panic_in_set() {
    corio::join_set<int> set;
    set.spawn(throws_in_set());
    auto r = co_await set.join_next();
    co_return r && !r->has_value() && r->error().is_panic();
}

TEST(join_set, exception_is_a_panic) {
    corio::runtime rt({.worker_threads = 2});
    EXPECT_TRUE(rt.block_on(panic_in_set()));
}

}  // namespace
