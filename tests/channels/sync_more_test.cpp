// sync_more_test: corio::sync cancellation_token, rw_lock and barrier — token trees, writers not
// starved, cancelled waits giving back what they were granted, one barrier leader per generation.
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
// cancellation_token

TEST(cancellation_token, cancel_is_idempotent_and_shared_by_copies) {
    cancellation_token t;
    cancellation_token copy = t;
    EXPECT_TRUE(copy == t);
    EXPECT_FALSE(t.is_cancelled());
    copy.cancel();
    EXPECT_TRUE(t.is_cancelled());
    t.cancel();
    EXPECT_TRUE(copy.is_cancelled());
}

TEST(cancellation_token, cancelling_a_parent_cancels_the_whole_subtree_but_not_the_reverse) {
    cancellation_token root;
    auto child = root.child_token();
    auto sibling = root.child_token();
    auto grandchild = child.child_token();
    auto other = sibling.child_token();
    sibling.cancel();
    EXPECT_TRUE(sibling.is_cancelled());
    EXPECT_TRUE(other.is_cancelled());
    EXPECT_FALSE(root.is_cancelled());
    EXPECT_FALSE(child.is_cancelled());
    EXPECT_FALSE(grandchild.is_cancelled());
    root.cancel();
    EXPECT_TRUE(child.is_cancelled());
    EXPECT_TRUE(grandchild.is_cancelled());
    // A child of a cancelled token starts cancelled.
    EXPECT_TRUE(root.child_token().is_cancelled());
    EXPECT_TRUE(grandchild.child_token().is_cancelled());
}

TEST(cancellation_token, destroyed_children_leave_the_parent_and_children_keep_the_parent_alive) {
    cancellation_token root;
    for (int i = 0; i < 100; ++i) {
        auto c = root.child_token();
        auto gc = c.child_token();
    }
    auto survivor = root.child_token().child_token();  // intermediate handle dropped at once
    {
        auto orphan = cancellation_token().child_token();  // its root handle is gone
        EXPECT_FALSE(orphan.is_cancelled());
        orphan.cancel();
        EXPECT_TRUE(orphan.is_cancelled());
    }
    root.cancel();
    EXPECT_TRUE(survivor.is_cancelled());
}

TEST(cancellation_token, cancelled_waits_until_an_ancestor_cancels) {
    cancellation_token root;
    auto child = root.child_token();
    manual_cx c1, c2, c3;
    auto w1 = child.cancelled();
    auto w2 = child.cancelled();
    auto w3 = root.cancelled();
    EXPECT_FALSE(w1.poll(c1.cx));
    EXPECT_FALSE(w2.poll(c2.cx));
    EXPECT_FALSE(w3.poll(c3.cx));
    {
        auto dropped = child.cancelled();  // a pending wait destroyed: unlinked
        EXPECT_FALSE(dropped.poll(c1.cx));
    }
    EXPECT_FALSE(w1.poll(c1.cx));  // spurious poll
    root.cancel();
    EXPECT_EQ(c1.w.wakes.load(), 1);
    EXPECT_EQ(c2.w.wakes.load(), 1);
    EXPECT_EQ(c3.w.wakes.load(), 1);
    EXPECT_TRUE(w1.poll(c1.cx));
    EXPECT_TRUE(w2.poll(c2.cx));
    EXPECT_TRUE(w3.poll(c3.cx));
    auto late = child.cancelled();
    EXPECT_TRUE(late.poll(c1.cx));
}

TEST(cancellation_token, many_waiters_are_all_woken) {
    cancellation_token t;
    manual_cx c;
    struct holder {
        explicit holder(const cancellation_token& t) : op(t.cancelled()) {}
        cancellation_token::cancelled_operation op;
    };
    std::vector<std::unique_ptr<holder>> ops;
    for (int i = 0; i < 100; ++i) {
        ops.push_back(std::make_unique<holder>(t));
        EXPECT_FALSE(ops.back()->op.poll(c.cx));
    }
    t.cancel();
    EXPECT_EQ(c.w.wakes.load(), 100);
    for (auto& h : ops) EXPECT_TRUE(h->op.poll(c.cx));
}

corio::task<int> wait_cancelled(cancellation_token t, std::atomic<int>* parked) {
    auto op = t.cancelled();
    parked->fetch_add(1);
    co_await op;
    co_return t.is_cancelled() ? 1 : 0;
}

TEST(cancellation_token, tasks_on_both_workers_wake_when_the_root_is_cancelled) {
    corio::runtime rt({.worker_threads = 2});
    cancellation_token root;
    std::atomic<int> parked{0};
    std::vector<corio::join_handle<int>> hs;
    std::vector<cancellation_token> kids;
    for (int i = 0; i < 10; ++i) kids.push_back(root.child_token());
    for (int i = 0; i < 10; ++i) {
        auto grandchild = kids[i].child_token();
        hs.push_back(rt.spawn(wait_cancelled(grandchild, &parked)));
    }
    ASSERT_TRUE(eventually([&] { return parked.load() == 10; }));
    // Abort one parked waiter: it is unlinked, the cancel below touches nothing freed.
    hs[0].abort();
    EXPECT_TRUE(hs[0].blocking_join().error().is_cancelled());
    root.cancel();
    for (std::size_t i = 1; i < hs.size(); ++i) EXPECT_EQ(hs[i].blocking_join().value(), 1);
}

TEST(cancellation_token, concurrent_child_creation_destruction_and_cancel) {
    for (int round = 0; round < 20; ++round) {
        cancellation_token root;
        std::atomic<bool> go{false};
        std::vector<std::thread> ts;
        std::atomic<int> cancelled_children{0};
        for (int t = 0; t < 2; ++t) {
            ts.emplace_back([&] {
                while (!go.load()) std::this_thread::yield();
                for (int i = 0; i < 200; ++i) {
                    auto c = root.child_token();
                    auto gc = c.child_token();
                    if (gc.is_cancelled()) cancelled_children.fetch_add(1);
                }
            });
        }
        go = true;
        std::this_thread::sleep_for(100us);
        root.cancel();
        for (auto& t : ts) t.join();
        EXPECT_TRUE(root.child_token().is_cancelled());
    }
}

// ---------------------------------------------------------------------------------------------
// rw_lock

using int_rw_lock = corio::sync::rw_lock<int>;

TEST(rw_lock, readers_share_writers_exclude) {
    int_rw_lock l(5, 3);
    EXPECT_EQ(l.max_reads(), 3u);
    {
        auto r1 = l.try_read();
        auto r2 = l.try_read();
        auto r3 = l.try_read();
        ASSERT_TRUE(r1 && r2 && r3);
        EXPECT_EQ(**r1, 5);
        EXPECT_FALSE(l.try_read());  // max_reads reached
        EXPECT_FALSE(l.try_write());
    }
    {
        auto w = l.try_write();
        ASSERT_TRUE(w);
        **w = 6;
        EXPECT_FALSE(l.try_read());
        EXPECT_FALSE(l.try_write());
    }
    auto r = l.try_read();
    ASSERT_TRUE(r);
    EXPECT_EQ(**r, 6);
}

TEST(rw_lock, a_queued_writer_is_not_starved_by_later_readers) {
    int_rw_lock l(0);
    auto r0 = l.try_read();
    ASSERT_TRUE(r0);
    manual_cx cw, cr1, cr2;
    auto w = l.write();
    EXPECT_FALSE(w.poll(cw.cx));
    EXPECT_FALSE(l.try_read());  // the writer is queued: no barging
    auto r1 = l.read();
    auto r2 = l.read();
    EXPECT_FALSE(r1.poll(cr1.cx));
    EXPECT_FALSE(r2.poll(cr2.cx));
    r0.reset();
    EXPECT_EQ(cw.w.wakes.load(), 1);
    EXPECT_EQ(cr1.w.wakes.load(), 0);
    ASSERT_TRUE(w.poll(cw.cx));
    {
        auto g = w.await_resume();
        *g = 1;
        EXPECT_FALSE(r1.poll(cr1.cx));
    }
    // Both readers behind the writer get in together.
    EXPECT_EQ(cr1.w.wakes.load(), 1);
    EXPECT_EQ(cr2.w.wakes.load(), 1);
    ASSERT_TRUE(r1.poll(cr1.cx));
    ASSERT_TRUE(r2.poll(cr2.cx));
    auto g1 = r1.await_resume();
    auto g2 = r2.await_resume();
    EXPECT_EQ(*g1 + *g2, 2);
}

TEST(rw_lock, cancelled_writer_gives_back_partially_assigned_permits) {
    int_rw_lock l(0, 4);
    auto r0 = l.try_read();
    manual_cx cw, cr;
    std::optional<int_rw_lock::write_operation> w;
    w.emplace(&l);
    EXPECT_FALSE(w->poll(cw.cx));  // took 3 of 4 permits, waits for the 4th
    auto r = l.read();
    EXPECT_FALSE(r.poll(cr.cx));  // queued behind the writer
    w.reset();                    // abandoned: its 3 permits go to the reader
    EXPECT_EQ(cr.w.wakes.load(), 1);
    ASSERT_TRUE(r.poll(cr.cx));
    auto g = r.await_resume();
    r0.reset();
    { auto gone = std::move(g); }
    EXPECT_TRUE(l.try_write());
}

corio::task<int> rw_worker(int_rw_lock* l, int id, int n) {
    int seen = 0;
    for (int i = 0; i < n; ++i) {
        if ((i + id) % 4 == 0) {
            auto g = co_await l->write();
            int v = *g;
            co_await corio::yield_now();
            *g = v + 1;
        } else {
            auto g = co_await l->read();
            seen += *g >= 0 ? 1 : 0;
            co_await corio::yield_now();
        }
    }
    co_return seen;
}

TEST(rw_lock, writes_are_exclusive_across_workers) {
    corio::runtime rt({.worker_threads = 2});
    int_rw_lock l(0);
    std::vector<corio::join_handle<int>> hs;
    for (int i = 0; i < 6; ++i) hs.push_back(rt.spawn(rw_worker(&l, i, 200)));
    for (auto& h : hs) EXPECT_EQ(h.blocking_join().value(), 150);
    EXPECT_EQ(l.get_mut(), 6 * 50);
}

TEST(rw_lock, blocking_twins) {
    int_rw_lock l(1);
    {
        auto w = l.blocking_write();
        *w = 2;
    }
    auto r = l.blocking_read();
    EXPECT_EQ(*r, 2);
}

// ---------------------------------------------------------------------------------------------
// barrier

TEST(barrier, the_last_arrival_is_the_only_leader_and_the_barrier_is_reusable) {
    corio::sync::barrier b(3);
    manual_cx c1, c2, c3;
    for (int gen = 0; gen < 3; ++gen) {
        auto a = b.wait();
        auto d = b.wait();
        auto e = b.wait();
        EXPECT_FALSE(a.poll(c1.cx));
        EXPECT_FALSE(d.poll(c2.cx));
        EXPECT_FALSE(a.poll(c1.cx));  // spurious
        ASSERT_TRUE(e.poll(c3.cx));
        EXPECT_TRUE(e.await_resume().is_leader());
        ASSERT_TRUE(a.poll(c1.cx));
        ASSERT_TRUE(d.poll(c2.cx));
        EXPECT_FALSE(a.await_resume().is_leader());
        EXPECT_FALSE(d.await_resume().is_leader());
    }
    EXPECT_EQ(c1.w.wakes.load(), 3);
    EXPECT_EQ(c2.w.wakes.load(), 3);
}

TEST(barrier, zero_behaves_as_one) {
    corio::sync::barrier b(0);
    manual_cx c;
    auto a = b.wait();
    ASSERT_TRUE(a.poll(c.cx));
    EXPECT_TRUE(a.await_resume().is_leader());
}

TEST(barrier, a_cancelled_wait_withdraws_its_arrival) {
    corio::sync::barrier b(2);
    manual_cx c1, c2;
    {
        auto gone = b.wait();
        EXPECT_FALSE(gone.poll(c1.cx));
    }
    auto a = b.wait();
    EXPECT_FALSE(a.poll(c1.cx));  // not released by the withdrawn arrival
    auto d = b.wait();
    ASSERT_TRUE(d.poll(c2.cx));
    EXPECT_TRUE(d.await_resume().is_leader());
    ASSERT_TRUE(a.poll(c1.cx));
}

corio::task<int> barrier_rounds(corio::sync::barrier* b, std::atomic<int>* leaders, std::atomic<int>* phase,
                                int rounds, int n) {
    int bad = 0;
    for (int r = 0; r < rounds; ++r) {
        phase->fetch_add(1);
        auto res = co_await b->wait();
        // Every arrival of round r has happened once any wait of round r returns.
        if (phase->load() < (r + 1) * n) ++bad;
        if (res.is_leader()) leaders->fetch_add(1);
        co_await corio::yield_now();
    }
    co_return bad;
}

TEST(barrier, exactly_one_leader_per_generation_across_workers) {
    corio::runtime rt({.worker_threads = 2});
    constexpr int n = 5, rounds = 200;
    corio::sync::barrier b(n);
    std::atomic<int> leaders{0}, phase{0};
    std::vector<corio::join_handle<int>> hs;
    for (int i = 0; i < n; ++i) hs.push_back(rt.spawn(barrier_rounds(&b, &leaders, &phase, rounds, n)));
    for (auto& h : hs) EXPECT_EQ(h.blocking_join().value(), 0);
    EXPECT_EQ(leaders.load(), rounds);
}

corio::task<int> barrier_once(corio::sync::barrier* b, std::atomic<int>* parked) {
    auto op = b->wait();
    parked->fetch_add(1);
    auto res = co_await op;
    co_return res.is_leader() ? 1 : 0;
}

TEST(barrier, abort_of_a_parked_waiter_withdraws_it) {
    corio::runtime rt({.worker_threads = 2});
    corio::sync::barrier b(2);
    std::atomic<int> parked{0};
    auto a = rt.spawn(barrier_once(&b, &parked));
    ASSERT_TRUE(eventually([&] { return parked.load() == 1; }));
    std::this_thread::sleep_for(10ms);
    a.abort();
    EXPECT_TRUE(a.blocking_join().error().is_cancelled());
    auto x = rt.spawn(barrier_once(&b, &parked));
    ASSERT_TRUE(eventually([&] { return parked.load() == 2; }));
    std::this_thread::sleep_for(10ms);
    EXPECT_FALSE(x.is_finished());  // needs a second live arrival
    auto y = rt.spawn(barrier_once(&b, &parked));
    EXPECT_EQ(x.blocking_join().value() + y.blocking_join().value(), 1);
}

}  // namespace
