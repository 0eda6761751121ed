// cancel_test: cancel() of every channel leaf (corio/runtime/leaf.hpp), driven by hand with a
// counting waker — a cancelled pending operation holds no waker and is not woken by a later event,
// what was assigned to it goes to the next waiter (mpsc capacity), it keeps its argument (a send's
// value), and polled again it behaves as if never polled (nothing taken, nothing marked seen).
// cancel() is idempotent, a no-op on an unpolled operation and on one whose poll was ready, and
// the destructor of a pending operation does what cancel() does.
#include <corio/channels/broadcast.hpp>
#include <corio/channels/mpsc.hpp>
#include <corio/channels/oneshot.hpp>
#include <corio/channels/watch.hpp>

#include "support/manual_poll.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <thread>
#include <vector>

namespace {

using corio::testing::counting_waker;
using corio::testing::poll_once;

// --- mpsc: reserve / send (capacity) -----------------------------------------------------------

TEST(mpsc_cancel, a_reserve_assigned_capacity_then_cancelled_passes_it_to_the_next_waiting_sender) {
    auto [tx, rx] = corio::mpsc::channel<int>(1);
    ASSERT_TRUE(tx.try_send(0));
    counting_waker wa, wb;
    auto a = tx.reserve();
    auto b = tx.reserve();
    EXPECT_FALSE(poll_once(a, wa));
    EXPECT_FALSE(poll_once(b, wb));
    ASSERT_EQ(*rx.try_recv(), 0);  // the freed slot is assigned to `a`, the oldest waiter
    EXPECT_EQ(wa.wakes(), 1);
    EXPECT_EQ(wb.wakes(), 0);

    a.cancel();  // before `a` saw its grant: the slot goes on to `b`
    EXPECT_EQ(wb.wakes(), 1);
    EXPECT_EQ(wa.clones_alive(), 0);
    EXPECT_EQ(wb.clones_alive(), 0);
    ASSERT_TRUE(poll_once(b, wb));
    auto p = b.await_resume();
    ASSERT_TRUE(p);
    EXPECT_EQ(tx.capacity(), 0u);
    p->send(7);
    EXPECT_EQ(*rx.try_recv(), 7);
    EXPECT_EQ(tx.capacity(), 1u);
}

// The select example: a losing reserve must have released the capacity assigned to it before the
// winner's handler sends on the same channel.
TEST(mpsc_cancel, a_cancelled_reserve_releases_assigned_capacity_before_the_next_send) {
    auto [tx, rx] = corio::mpsc::channel<int>(1);
    ASSERT_TRUE(tx.try_send(0));
    counting_waker w;
    auto r = tx.reserve();
    EXPECT_FALSE(poll_once(r, w));
    ASSERT_EQ(*rx.try_recv(), 0);  // assigned to r
    EXPECT_FALSE(tx.try_send(1));  // r holds it
    r.cancel();
    EXPECT_EQ(tx.capacity(), 1u);
    EXPECT_TRUE(tx.try_send(1));
    EXPECT_EQ(*rx.try_recv(), 1);
}

TEST(mpsc_cancel, a_cancelled_pending_reserve_is_not_woken_and_polled_again_queues_afresh) {
    auto [tx, rx] = corio::mpsc::channel<int>(1);
    ASSERT_TRUE(tx.try_send(0));
    counting_waker w;
    {
        auto r = tx.reserve();
        EXPECT_FALSE(poll_once(r, w));
        r.cancel();
        r.cancel();  // idempotent
        ASSERT_EQ(*rx.try_recv(), 0);
        EXPECT_EQ(w.wakes(), 0);          // it left the queue: the release did not go to it
        EXPECT_EQ(tx.capacity(), 1u);     // but to the count
        ASSERT_TRUE(poll_once(r, w));     // polled again, as a new reserve
        auto p = r.await_resume();
        ASSERT_TRUE(p);
        EXPECT_EQ(tx.capacity(), 0u);
    }
    EXPECT_EQ(tx.capacity(), 1u);  // the permit dropped unused
    EXPECT_EQ(w.clones_alive(), 0);
}

TEST(mpsc_cancel, cancel_after_a_ready_reserve_keeps_the_permit_for_await_resume) {
    auto [tx, rx] = corio::mpsc::channel<int>(2);
    counting_waker w;
    auto r = tx.reserve();
    r.cancel();  // never polled: no-op
    ASSERT_TRUE(poll_once(r, w));
    r.cancel();  // ready: no-op
    EXPECT_EQ(tx.capacity(), 1u);
    auto p = r.await_resume();
    ASSERT_TRUE(p);
    p->send(3);
    EXPECT_EQ(*rx.try_recv(), 3);
}

TEST(mpsc_cancel, a_cancelled_send_keeps_its_value_and_polled_again_queues_at_the_back) {
    auto [tx, rx] = corio::mpsc::channel<int>(1);
    ASSERT_TRUE(tx.try_send(0));
    counting_waker wa, wb;
    auto a = tx.send(1);
    auto b = tx.send(2);
    EXPECT_FALSE(poll_once(a, wa));
    EXPECT_FALSE(poll_once(b, wb));
    a.cancel();
    ASSERT_EQ(*rx.try_recv(), 0);  // the slot goes to b: a is no longer queued
    EXPECT_EQ(wa.wakes(), 0);
    EXPECT_EQ(wb.wakes(), 1);
    EXPECT_FALSE(poll_once(a, wa));  // behind b now
    ASSERT_TRUE(poll_once(b, wb));
    EXPECT_TRUE(b.await_resume());
    ASSERT_EQ(*rx.try_recv(), 2);
    EXPECT_EQ(wa.wakes(), 1);
    ASSERT_TRUE(poll_once(a, wa));
    EXPECT_TRUE(a.await_resume());
    EXPECT_EQ(*rx.try_recv(), 1);
    EXPECT_EQ(wa.clones_alive(), 0);
    EXPECT_EQ(wb.clones_alive(), 0);
}

TEST(mpsc_cancel, a_send_cancelled_after_capacity_was_assigned_gives_it_back_and_keeps_the_value) {
    auto [tx, rx] = corio::mpsc::channel<int>(1);
    ASSERT_TRUE(tx.try_send(0));
    counting_waker w;
    auto s = tx.send(1);
    EXPECT_FALSE(poll_once(s, w));
    ASSERT_EQ(*rx.try_recv(), 0);  // assigned to s
    EXPECT_EQ(tx.capacity(), 0u);
    s.cancel();
    EXPECT_EQ(tx.capacity(), 1u);  // nobody else waits: back to the count
    std::optional<int> v = s.take_value();
    ASSERT_TRUE(v);
    EXPECT_EQ(*v, 1);
    EXPECT_FALSE(rx.try_recv());  // nothing was sent
}

// --- mpsc: recv / recv_many / closed -------------------------------------------------------------

TEST(mpsc_cancel, a_cancelled_recv_holds_no_waker_and_a_later_send_does_not_wake_it) {
    auto [tx, rx] = corio::mpsc::unbounded_channel<int>();
    counting_waker w;
    auto op = rx.recv();
    op.cancel();  // never polled: no-op
    EXPECT_FALSE(poll_once(op, w));
    EXPECT_EQ(w.clones_alive(), 1);
    op.cancel();
    EXPECT_EQ(w.clones_alive(), 0);
    op.cancel();  // idempotent
    ASSERT_TRUE(tx.send(5));
    EXPECT_EQ(w.wakes(), 0);
    ASSERT_TRUE(poll_once(op, w));  // polled again: the value is there
    EXPECT_EQ(op.await_resume(), 5);
}

TEST(mpsc_cancel, a_recv_cancelled_after_its_wake_took_nothing) {
    auto [tx, rx] = corio::mpsc::channel<int>(2);
    counting_waker w;
    auto op = rx.recv();
    EXPECT_FALSE(poll_once(op, w));
    ASSERT_TRUE(tx.try_send(9));
    EXPECT_EQ(w.wakes(), 1);
    op.cancel();
    EXPECT_EQ(rx.len(), 1u);  // still queued, its slot still used
    EXPECT_EQ(tx.capacity(), 1u);
    ASSERT_TRUE(poll_once(op, w));
    EXPECT_EQ(op.await_resume(), 9);
    EXPECT_EQ(tx.capacity(), 2u);
}

TEST(mpsc_cancel, cancel_after_a_ready_recv_keeps_the_value) {
    auto [tx, rx] = corio::mpsc::unbounded_channel<int>();
    ASSERT_TRUE(tx.send(4));
    counting_waker w;
    auto op = rx.recv();
    ASSERT_TRUE(poll_once(op, w));
    op.cancel();
    EXPECT_EQ(op.await_resume(), 4);
}

TEST(mpsc_cancel, destroying_a_pending_recv_withdraws_its_waker) {
    auto [tx, rx] = corio::mpsc::unbounded_channel<int>();
    counting_waker w;
    {
        auto op = rx.recv();
        EXPECT_FALSE(poll_once(op, w));
        EXPECT_EQ(w.clones_alive(), 1);
    }
    EXPECT_EQ(w.clones_alive(), 0);
    ASSERT_TRUE(tx.send(1));
    EXPECT_EQ(w.wakes(), 0);
    EXPECT_EQ(*rx.try_recv(), 1);
}

TEST(mpsc_cancel, a_cancelled_recv_many_takes_nothing_and_is_not_woken) {
    auto [tx, rx] = corio::mpsc::unbounded_channel<int>();
    counting_waker w;
    std::vector<int> buf;
    auto op = rx.recv_many(buf, 4);
    EXPECT_FALSE(poll_once(op, w));
    op.cancel();
    EXPECT_EQ(w.clones_alive(), 0);
    ASSERT_TRUE(tx.send(1));
    ASSERT_TRUE(tx.send(2));
    EXPECT_EQ(w.wakes(), 0);
    EXPECT_TRUE(buf.empty());
    ASSERT_TRUE(poll_once(op, w));
    EXPECT_EQ(op.await_resume(), 2u);
    EXPECT_EQ(buf, (std::vector<int>{1, 2}));
}

TEST(mpsc_cancel, a_cancelled_closed_leaves_the_waiters) {
    auto [tx, rx] = corio::mpsc::channel<int>(1);
    counting_waker w;
    auto op = tx.closed();
    EXPECT_FALSE(poll_once(op, w));
    EXPECT_EQ(w.clones_alive(), 1);
    op.cancel();
    op.cancel();
    EXPECT_EQ(w.clones_alive(), 0);
    rx.close();
    EXPECT_EQ(w.wakes(), 0);
    EXPECT_TRUE(poll_once(op, w));
    EXPECT_EQ(w.clones_alive(), 0);
}

// --- mpsc: cancel racing with other threads (counts and orders only) -----------------------------

TEST(mpsc_cancel, recvs_cancelled_while_a_sender_races_lose_nothing_and_leave_no_waker) {
    constexpr int n = 2000;
    counting_waker w;
    std::vector<int> got;
    {
        auto [tx, rx] = corio::mpsc::channel<int>(4);
        std::thread producer([t = std::move(tx)]() mutable {
            for (int i = 0; i < n; ++i) (void)t.blocking_send(i);
        });
        for (;;) {
            auto op = rx.recv();
            bool ready = false;
            for (int k = 0; !ready; ++k) {
                ready = poll_once(op, w);
                if (!ready) {
                    if (k % 2 == 0) op.cancel();  // every other pending poll is undone, then re-polled
                    std::this_thread::yield();
                }
            }
            auto v = op.await_resume();
            if (!v) break;
            got.push_back(*v);
        }
        producer.join();
    }  // the channel goes: a registration left by a ready poll goes with it
    ASSERT_EQ(got.size(), std::size_t{n});
    for (int i = 0; i < n; ++i) ASSERT_EQ(got[i], i);
    EXPECT_EQ(w.clones_alive(), 0);
}

TEST(mpsc_cancel, sends_cancelled_while_the_receiver_frees_capacity_lose_no_slot) {
    constexpr int n = 2000;
    auto [tx, rx] = corio::mpsc::channel<int>(2);
    std::vector<int> got;
    std::thread consumer([&r = rx, &got] {
        while (auto v = r.blocking_recv()) got.push_back(*v);
    });
    counting_waker w;
    for (int i = 0; i < n; ++i) {
        auto s = tx.send(i);
        for (int k = 0;; ++k) {
            if (poll_once(s, w)) break;
            if (k % 2 == 0) s.cancel();  // gives back whatever the receiver assigned meanwhile
            std::this_thread::yield();
        }
        EXPECT_TRUE(s.await_resume());  // not ASSERT: the consumer thread must be joined
    }
    { auto gone = std::move(tx); }
    consumer.join();
    ASSERT_EQ(got.size(), std::size_t{n});
    for (int i = 0; i < n; ++i) ASSERT_EQ(got[i], i);
    EXPECT_EQ(rx.capacity(), 2u);  // every slot came back
    EXPECT_EQ(w.clones_alive(), 0);
}

// --- oneshot -------------------------------------------------------------------------------------

TEST(oneshot_cancel, a_cancelled_recv_holds_no_waker_and_polled_again_gets_the_value) {
    auto [tx, rx] = corio::oneshot::channel<int>();
    counting_waker w;
    auto op = rx.recv();
    op.cancel();  // never polled: no-op
    EXPECT_FALSE(poll_once(op, w));
    EXPECT_EQ(w.clones_alive(), 1);
    op.cancel();
    EXPECT_EQ(w.clones_alive(), 0);
    op.cancel();
    ASSERT_TRUE(tx.send(8));
    EXPECT_EQ(w.wakes(), 0);
    ASSERT_TRUE(poll_once(op, w));
    auto r = op.await_resume();
    ASSERT_TRUE(r);
    EXPECT_EQ(*r, 8);
    EXPECT_EQ(w.clones_alive(), 0);
}

TEST(oneshot_cancel, a_recv_cancelled_after_the_send_took_nothing) {
    auto [tx, rx] = corio::oneshot::channel<int>();
    counting_waker w;
    auto op = rx.recv();
    EXPECT_FALSE(poll_once(op, w));
    ASSERT_TRUE(tx.send(3));
    EXPECT_EQ(w.wakes(), 1);
    op.cancel();  // value_sent: the slot is left to the sender (protocol 3)
    ASSERT_TRUE(poll_once(op, w));
    auto r = op.await_resume();
    ASSERT_TRUE(r);
    EXPECT_EQ(*r, 3);
    EXPECT_EQ(w.clones_alive(), 0);  // went with the shared state
}

TEST(oneshot_cancel, destroying_a_pending_recv_withdraws_its_waker) {
    auto [tx, rx] = corio::oneshot::channel<int>();
    counting_waker w;
    {
        auto op = rx.recv();
        EXPECT_FALSE(poll_once(op, w));
    }
    EXPECT_EQ(w.clones_alive(), 0);
    ASSERT_TRUE(tx.send(1));
    EXPECT_EQ(w.wakes(), 0);
    auto r = rx.try_recv();
    ASSERT_TRUE(r);
    EXPECT_EQ(*r, 1);
}

TEST(oneshot_cancel, a_cancelled_closed_is_not_woken_by_close) {
    auto [tx, rx] = corio::oneshot::channel<int>();
    counting_waker w;
    auto op = tx.closed();
    EXPECT_FALSE(poll_once(op, w));
    EXPECT_EQ(w.clones_alive(), 1);
    op.cancel();
    EXPECT_EQ(w.clones_alive(), 0);
    rx.close();
    EXPECT_EQ(w.wakes(), 0);
    EXPECT_TRUE(poll_once(op, w));
}

// --- broadcast -----------------------------------------------------------------------------------

TEST(broadcast_cancel, a_cancelled_recv_is_unlinked_and_polled_again_yields_the_same_value) {
    auto [tx, rx] = corio::broadcast::channel<int>(4);
    auto rx2 = tx.subscribe();
    counting_waker w;
    auto op = rx.recv();
    op.cancel();  // never polled: no-op
    EXPECT_FALSE(poll_once(op, w));
    EXPECT_EQ(w.clones_alive(), 1);
    op.cancel();
    op.cancel();
    EXPECT_EQ(w.clones_alive(), 0);
    ASSERT_TRUE(tx.send(11));
    EXPECT_EQ(w.wakes(), 0);
    ASSERT_TRUE(poll_once(op, w));
    auto r = op.await_resume();
    ASSERT_TRUE(r);
    EXPECT_EQ(*r, 11);
    EXPECT_EQ(*rx2.try_recv(), 11);
}

TEST(broadcast_cancel, a_recv_cancelled_after_its_wake_yields_the_same_value_when_polled_again) {
    auto [tx, rx] = corio::broadcast::channel<int>(4);
    counting_waker w;
    auto op = rx.recv();
    EXPECT_FALSE(poll_once(op, w));
    ASSERT_TRUE(tx.send(5));
    EXPECT_EQ(w.wakes(), 1);
    op.cancel();
    EXPECT_EQ(rx.len(), 1u);  // nothing consumed
    ASSERT_TRUE(poll_once(op, w));
    EXPECT_EQ(*op.await_resume(), 5);
    EXPECT_EQ(w.clones_alive(), 0);
}

TEST(broadcast_cancel, destroying_a_pending_recv_drops_its_waker) {
    auto [tx, rx] = corio::broadcast::channel<int>(4);
    counting_waker w;
    {
        auto op = rx.recv();
        EXPECT_FALSE(poll_once(op, w));
    }
    EXPECT_EQ(w.clones_alive(), 0);
    ASSERT_TRUE(tx.send(1));
    EXPECT_EQ(w.wakes(), 0);
}

// --- watch ---------------------------------------------------------------------------------------

TEST(watch_cancel, a_cancelled_changed_holds_no_waker_and_polled_again_reports_the_change) {
    auto [tx, rx] = corio::watch::channel<int>(0);
    counting_waker w;
    auto op = rx.changed();
    op.cancel();  // never polled: no-op
    EXPECT_FALSE(poll_once(op, w));
    EXPECT_EQ(w.clones_alive(), 1);
    op.cancel();
    op.cancel();
    EXPECT_EQ(w.clones_alive(), 0);
    ASSERT_TRUE(tx.send(1));
    EXPECT_EQ(w.wakes(), 0);
    EXPECT_TRUE(*rx.has_changed());
    ASSERT_TRUE(poll_once(op, w));
    EXPECT_TRUE(op.await_resume());
    EXPECT_EQ(*rx.borrow(), 1);
    EXPECT_FALSE(*rx.has_changed());
}

TEST(watch_cancel, a_changed_cancelled_after_its_wake_marked_nothing_seen) {
    auto [tx, rx] = corio::watch::channel<int>(0);
    counting_waker w;
    auto op = rx.changed();
    EXPECT_FALSE(poll_once(op, w));
    ASSERT_TRUE(tx.send(2));
    EXPECT_EQ(w.wakes(), 1);
    op.cancel();
    EXPECT_TRUE(*rx.has_changed());
    ASSERT_TRUE(poll_once(op, w));  // the same change
    EXPECT_TRUE(op.await_resume());
    EXPECT_EQ(*rx.borrow_and_update(), 2);
    EXPECT_EQ(w.clones_alive(), 0);
}

TEST(watch_cancel, a_cancelled_wait_for_is_not_woken_and_polled_again_checks_the_current_value) {
    auto [tx, rx] = corio::watch::channel<int>(0);
    counting_waker w;
    auto is_three = [](const int& v) { return v == 3; };
    auto op = rx.wait_for(is_three);
    EXPECT_FALSE(poll_once(op, w));
    EXPECT_EQ(w.clones_alive(), 1);
    op.cancel();
    EXPECT_EQ(w.clones_alive(), 0);
    ASSERT_TRUE(tx.send(3));
    EXPECT_EQ(w.wakes(), 0);
    ASSERT_TRUE(poll_once(op, w));
    auto r = op.await_resume();
    ASSERT_TRUE(r);
    EXPECT_EQ(**r, 3);
}

TEST(watch_cancel, a_cancelled_closed_is_not_woken_when_the_receivers_go) {
    auto [tx, rx] = corio::watch::channel<int>(0);
    counting_waker w;
    auto op = tx.closed();
    EXPECT_FALSE(poll_once(op, w));
    op.cancel();
    EXPECT_EQ(w.clones_alive(), 0);
    { auto gone = std::move(rx); }
    EXPECT_EQ(w.wakes(), 0);
    EXPECT_TRUE(poll_once(op, w));
}

TEST(watch_cancel, destroying_a_pending_changed_drops_its_waker) {
    auto [tx, rx] = corio::watch::channel<int>(0);
    counting_waker w;
    {
        auto op = rx.changed();
        EXPECT_FALSE(poll_once(op, w));
    }
    EXPECT_EQ(w.clones_alive(), 0);
    ASSERT_TRUE(tx.send(1));
    EXPECT_EQ(w.wakes(), 0);
}

}  // namespace
