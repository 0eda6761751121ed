// sync_test: corio::sync notify / mutex / rw_lock / barrier / cancellation_token — permits and FIFO wakes, notify_waiters generations, L2 forwarding of a notify_one or a lock handed to a cancelled waiter (also by aborting a parked task), mutex FIFO fairness and exclusion, rw_lock writers not starved, one barrier leader per generation, token trees.
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

namespace {

using namespace std::chrono_literals;
using corio::sync::cancellation_token;
using corio::sync::notify;

// A waker that counts wakes, for polling leaves by hand (deterministic, no runtime).
struct counting_waker {
    std::atomic<int> wakes{0};
    static const void* clone(const void* d) noexcept { return d; }
    static void wake(const void* d) noexcept { static_cast<counting_waker*>(const_cast<void*>(d))->wakes++; }
    static void drop(const void*) noexcept {}
    static constexpr corio::waker_vtable vtable{&clone, &wake, &wake, &drop};
    corio::waker_ref ref() noexcept { return {this, &vtable}; }
};

struct manual_cx {
    counting_waker w;
    corio::context cx{w.ref(), nullptr};
};

template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = 5000ms) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (!pred()) {
        if (std::chrono::steady_clock::now() > end) return false;
        std::this_thread::sleep_for(1ms);
    }
    return true;
}

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
