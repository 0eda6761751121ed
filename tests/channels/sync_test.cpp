// sync_test: corio::sync notify and mutex — permits and FIFO wakes, notify_waiters generations,
// forwarding of a notify_one or a lock handed to a cancelled waiter (also by aborting a parked
// task), mutex FIFO fairness and exclusion. sync_more_test.cpp: tokens, rw_lock, barrier.
#include <corio/channels/sync/barrier.hpp>
#include <corio/channels/sync/cancellation_token.hpp>
#include <corio/channels/sync/mutex.hpp>
#include <corio/channels/sync/notify.hpp>
#include <corio/channels/sync/rw_lock.hpp>
#include <corio/runtime/runtime.hpp>
#include <corio/runtime/yield_now.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>
#include "sync_test_support.hpp"

namespace {

using namespace std::chrono_literals;
using corio::sync::cancellation_token;
using corio::sync::notify;
using sync_testing::counting_waker;
using sync_testing::eventually;
using sync_testing::manual_cx;

// ---------------------------------------------------------------------------------------------
// notify

TEST(notify, notify_one_without_waiter_stores_exactly_one_permit) {
    notify n;
    n.notify_one();
    n.notify_one();  // coalesces: one permit at most
    manual_cx c;
    auto a = n.notified();
    EXPECT_TRUE(a.poll(c.cx));
    auto b = n.notified();
    EXPECT_FALSE(b.poll(c.cx));
    n.notify_one();
    EXPECT_EQ(c.w.wakes.load(), 1);
    EXPECT_TRUE(b.poll(c.cx));
}

TEST(notify, notify_one_wakes_waiters_in_fifo_order) {
    notify n;
    manual_cx c1, c2, c3;
    auto a = n.notified();
    auto b = n.notified();
    auto d = n.notified();
    EXPECT_FALSE(a.poll(c1.cx));
    EXPECT_FALSE(b.poll(c2.cx));
    EXPECT_FALSE(d.poll(c3.cx));
    n.notify_one();
    EXPECT_EQ(c1.w.wakes.load(), 1);
    EXPECT_EQ(c2.w.wakes.load(), 0);
    EXPECT_FALSE(b.poll(c2.cx));  // spurious poll: still pending
    EXPECT_TRUE(a.poll(c1.cx));
    n.notify_one();
    EXPECT_EQ(c2.w.wakes.load(), 1);
    EXPECT_EQ(c3.w.wakes.load(), 0);
    EXPECT_TRUE(b.poll(c2.cx));
    EXPECT_FALSE(d.poll(c3.cx));
    n.notify_one();
    EXPECT_TRUE(d.poll(c3.cx));
    // No permit left over.
    auto e = n.notified();
    EXPECT_FALSE(e.poll(c1.cx));
}

TEST(notify, notify_waiters_wakes_everyone_created_before_and_stores_no_permit) {
    notify n;
    manual_cx c1, c2, c3;
    auto a = n.notified();
    auto b = n.notified();
    auto created_not_polled = n.notified();
    EXPECT_FALSE(a.poll(c1.cx));
    EXPECT_FALSE(b.poll(c2.cx));
    n.notify_waiters();
    EXPECT_EQ(c1.w.wakes.load(), 1);
    EXPECT_EQ(c2.w.wakes.load(), 1);
    EXPECT_TRUE(a.poll(c1.cx));
    EXPECT_TRUE(b.poll(c2.cx));
    EXPECT_TRUE(created_not_polled.poll(c3.cx));  // created before the call: counts
    auto later = n.notified();
    EXPECT_FALSE(later.poll(c3.cx));  // no permit stored
    n.notify_waiters();
    EXPECT_TRUE(later.poll(c3.cx));
}

TEST(notify, notify_waiters_with_many_waiters_wakes_all_in_batches) {
    notify n;
    manual_cx c;
    std::vector<std::unique_ptr<notify::notified_operation>> ops;
    for (int i = 0; i < 100; ++i) {
        ops.push_back(std::make_unique<notify::notified_operation>(&n));
        EXPECT_FALSE(ops.back()->poll(c.cx));
    }
    n.notify_waiters();
    EXPECT_EQ(c.w.wakes.load(), 100);
    for (auto& op : ops) EXPECT_TRUE(op->poll(c.cx));
}

TEST(notify, cancelled_waiter_forwards_a_received_notify_one_to_the_next_waiter) {
    notify n;
    manual_cx c1, c2;
    std::optional<notify::notified_operation> first;
    first.emplace(&n);
    auto second = n.notified();
    EXPECT_FALSE(first->poll(c1.cx));
    EXPECT_FALSE(second.poll(c2.cx));
    n.notify_one();  // handed to `first`
    EXPECT_EQ(c1.w.wakes.load(), 1);
    EXPECT_EQ(c2.w.wakes.load(), 0);
    first.reset();  // abandoned before it reported ready: forwarded
    EXPECT_EQ(c2.w.wakes.load(), 1);
    EXPECT_TRUE(second.poll(c2.cx));
}

TEST(notify, cancelled_waiter_with_nobody_behind_turns_the_notification_into_a_permit) {
    notify n;
    manual_cx c;
    {
        auto a = n.notified();
        EXPECT_FALSE(a.poll(c.cx));
        n.notify_one();
    }
    auto b = n.notified();
    EXPECT_TRUE(b.poll(c.cx));
    // A cancelled waiter that received nothing leaves no permit.
    {
        auto d = n.notified();
        EXPECT_FALSE(d.poll(c.cx));
    }
    auto e = n.notified();
    EXPECT_FALSE(e.poll(c.cx));
    n.notify_one();
    EXPECT_TRUE(e.poll(c.cx));
}

TEST(notify, cancelled_notify_waiters_waiter_forwards_nothing) {
    notify n;
    manual_cx c;
    {
        auto a = n.notified();
        EXPECT_FALSE(a.poll(c.cx));
        n.notify_waiters();
    }
    auto b = n.notified();
    EXPECT_FALSE(b.poll(c.cx));
}

corio::task<int> wait_notified(notify* n, std::atomic<int>* parked) {
    auto op = n->notified();
    parked->fetch_add(1);
    co_await op;
    co_return 1;
}

TEST(notify, abort_of_a_parked_task_forwards_a_notify_one_it_received) {
    corio::runtime rt({.worker_threads = 2});
    for (int round = 0; round < 20; ++round) {
        notify n;
        std::atomic<int> parked{0};
        auto a = rt.spawn(wait_notified(&n, &parked));
        ASSERT_TRUE(eventually([&] { return parked.load() == 1; }));
        std::this_thread::sleep_for(2ms);
        n.notify_one();
        a.abort();  // races the wake-up
        auto r = a.blocking_join();
        manual_cx c;
        auto probe = n.notified();
        const bool permit_left = probe.poll(c.cx);
        if (r) EXPECT_FALSE(permit_left) << "round " << round;  // consumed by the task
        else EXPECT_TRUE(permit_left) << "round " << round;     // forwarded to the permit
    }
}

TEST(notify, abort_of_a_parked_task_unlinks_it_and_the_next_waiter_gets_the_notification) {
    corio::runtime rt({.worker_threads = 2});
    notify n;
    std::atomic<int> parked{0};
    auto a = rt.spawn(wait_notified(&n, &parked));
    ASSERT_TRUE(eventually([&] { return parked.load() == 1; }));
    std::this_thread::sleep_for(10ms);
    a.abort();
    EXPECT_TRUE(a.blocking_join().error().is_cancelled());
    auto b = rt.spawn(wait_notified(&n, &parked));
    ASSERT_TRUE(eventually([&] { return parked.load() == 2; }));
    n.notify_one();
    EXPECT_EQ(b.blocking_join().value(), 1);
}

// Strict alternation (one notification outstanding at a time): permits coalesce, so two
// notify_one calls with no wait in between would count as one.
corio::task<int> pinger(notify* mine, notify* theirs, int rounds) {
    for (int i = 0; i < rounds; ++i) {
        theirs->notify_one();
        co_await mine->notified();
    }
    co_return rounds;
}

corio::task<int> ponger(notify* mine, notify* theirs, int rounds) {
    for (int i = 0; i < rounds; ++i) {
        co_await mine->notified();
        theirs->notify_one();
    }
    co_return rounds;
}

TEST(notify, ping_pong_between_two_workers) {
    corio::runtime rt({.worker_threads = 2});
    notify a, b;
    auto x = rt.spawn(pinger(&a, &b, 2000));
    auto y = rt.spawn(ponger(&b, &a, 2000));
    EXPECT_EQ(x.blocking_join().value(), 2000);
    EXPECT_EQ(y.blocking_join().value(), 2000);
}

// ---------------------------------------------------------------------------------------------
// mutex

using int_mutex = corio::sync::mutex<int>;

TEST(mutex, try_lock_and_guard_access) {
    corio::sync::mutex<std::string> m("hi");
    {
        auto g = m.try_lock();
        ASSERT_TRUE(g);
        EXPECT_EQ(**g, "hi");
        (*g)->append("!");
        EXPECT_TRUE(g->owns_lock());
        EXPECT_FALSE(m.try_lock());
    }
    auto g = m.try_lock();
    ASSERT_TRUE(g);
    EXPECT_EQ(**g, "hi!");
    g->unlock();
    EXPECT_FALSE(g->owns_lock());
    EXPECT_TRUE(m.try_lock());
    EXPECT_EQ(m.get_mut(), "hi!");
}

TEST(mutex, waiters_get_the_lock_in_fifo_order_and_try_lock_does_not_barge) {
    int_mutex m(0);
    auto held = m.try_lock();
    ASSERT_TRUE(held);
    manual_cx c[3];
    std::vector<std::unique_ptr<int_mutex::lock_operation>> ops;
    for (int i = 0; i < 3; ++i) {
        ops.push_back(std::make_unique<int_mutex::lock_operation>(&m));
        EXPECT_FALSE(ops.back()->poll(c[i].cx));
    }
    held.reset();  // unlock: handed to ops[0]
    EXPECT_EQ(c[0].w.wakes.load(), 1);
    EXPECT_FALSE(m.try_lock());  // the lock belongs to the woken waiter
    std::vector<int> order;
    for (int i = 0; i < 3; ++i) {
        for (int j = i + 1; j < 3; ++j) EXPECT_FALSE(ops[j]->poll(c[j].cx));
        ASSERT_TRUE(ops[i]->poll(c[i].cx));
        auto g = ops[i]->await_resume();
        *g += 1;
        order.push_back(i);
    }  // each guard unlocks at the end of its iteration, handing over to the next
    EXPECT_EQ(order, (std::vector<int>{0, 1, 2}));
    EXPECT_EQ(m.get_mut(), 3);
    EXPECT_TRUE(m.try_lock());
}

TEST(mutex, cancelled_waiter_that_was_handed_the_lock_passes_it_on) {
    int_mutex m(0);
    auto held = m.try_lock();
    manual_cx c1, c2;
    std::optional<int_mutex::lock_operation> first;
    first.emplace(&m);
    auto second = m.lock();
    EXPECT_FALSE(first->poll(c1.cx));
    EXPECT_FALSE(second.poll(c2.cx));
    held.reset();  // the lock now belongs to `first`
    EXPECT_EQ(c1.w.wakes.load(), 1);
    first.reset();  // abandoned: passed on
    EXPECT_EQ(c2.w.wakes.load(), 1);
    ASSERT_TRUE(second.poll(c2.cx));
    {
        auto g = second.await_resume();
        EXPECT_FALSE(m.try_lock());
    }
    EXPECT_TRUE(m.try_lock());
}

corio::task<int> increment_many(int_mutex* m, int n) {
    for (int i = 0; i < n; ++i) {
        auto g = co_await m->lock();
        int v = *g;
        co_await corio::yield_now();  // held across a suspension
        *g = v + 1;
    }
    co_return n;
}

TEST(mutex, excludes_across_workers_while_held_across_co_await) {
    corio::runtime rt({.worker_threads = 2});
    int_mutex m(0);
    std::vector<corio::join_handle<int>> hs;
    for (int i = 0; i < 8; ++i) hs.push_back(rt.spawn(increment_many(&m, 200)));
    for (auto& h : hs) EXPECT_EQ(h.blocking_join().value(), 200);
    EXPECT_EQ(m.get_mut(), 1600);
}

corio::task<int> lock_and_mark(int_mutex* m, std::atomic<int>* parked, int id) {
    auto op = m->lock();
    parked->fetch_add(1);
    auto g = co_await op;
    *g = id;
    co_return id;
}

TEST(mutex, abort_of_a_task_parked_in_lock_leaves_the_queue) {
    corio::runtime rt({.worker_threads = 2});
    int_mutex m(0);
    auto held = m.try_lock();
    std::atomic<int> parked{0};
    auto a = rt.spawn(lock_and_mark(&m, &parked, 1));
    ASSERT_TRUE(eventually([&] { return parked.load() == 1; }));
    std::this_thread::sleep_for(10ms);
    a.abort();
    EXPECT_TRUE(a.blocking_join().error().is_cancelled());
    auto b = rt.spawn(lock_and_mark(&m, &parked, 2));
    ASSERT_TRUE(eventually([&] { return parked.load() == 2; }));
    held.reset();
    EXPECT_EQ(b.blocking_join().value(), 2);
    EXPECT_EQ(m.get_mut(), 2);
}

TEST(mutex, abort_racing_the_hand_over_never_loses_the_lock) {
    corio::runtime rt({.worker_threads = 2});
    for (int round = 0; round < 20; ++round) {
        int_mutex m(0);
        auto held = m.try_lock();
        std::atomic<int> parked{0};
        auto a = rt.spawn(lock_and_mark(&m, &parked, 1));
        ASSERT_TRUE(eventually([&] { return parked.load() == 1; }));
        std::this_thread::sleep_for(2ms);
        held.reset();  // hands the lock to `a`
        a.abort();     // races it
        (void)a.blocking_join();
        EXPECT_TRUE(m.try_lock()) << "round " << round;  // released or passed back either way
    }
}

TEST(mutex, blocking_lock_bridges_a_thread) {
    corio::runtime rt({.worker_threads = 2});
    int_mutex m(0);
    auto held = m.try_lock();
    std::thread t([&] {
        auto g = m.blocking_lock();
        *g = 7;
    });
    std::this_thread::sleep_for(10ms);
    held.reset();
    t.join();
    EXPECT_EQ(m.get_mut(), 7);
}

}  // namespace
