// mpmc_cancel_test: cancel() of mpmc's recv and send (the leaf contract, corio/runtime/leaf.hpp),
// driven by hand with a counting waker: a cancelled operation holds no waker and is not woken by a
// later event; a recv cancelled after its wake took nothing and passed the wake on; a send keeps
// its value and queues afresh; a send whose value a receiver already took has happened.
#include <corio/channels/mpmc.hpp>

#include "support/manual_poll.hpp"

#include <gtest/gtest.h>

#include <optional>

namespace {

using corio::mpmc::try_recv_error;
using corio::testing::counting_waker;
using corio::testing::poll_once;

TEST(mpmc_cancel, a_cancelled_pending_recv_holds_no_waker_and_is_not_woken) {
    auto [tx, rx] = corio::mpmc::unbounded_channel<int>();
    counting_waker w;
    auto op = rx.recv();
    op.cancel();  // never polled: no-op
    EXPECT_FALSE(poll_once(op, w));
    EXPECT_EQ(w.clones_alive(), 1);
    op.cancel();
    op.cancel();  // idempotent
    EXPECT_EQ(w.clones_alive(), 0);
    ASSERT_TRUE(tx.send(5));
    EXPECT_EQ(w.wakes(), 0);
    ASSERT_TRUE(poll_once(op, w));  // polled again: as a new recv
    EXPECT_EQ(op.await_resume(), 5);
    EXPECT_EQ(w.clones_alive(), 0);
}

TEST(mpmc_cancel, a_recv_cancelled_after_its_wake_passes_it_on_and_the_value_stays) {
    auto [tx, rx] = corio::mpmc::channel<int>(4);
    auto rx2 = rx;
    counting_waker w1, w2;
    auto r1 = rx.recv();
    auto r2 = rx2.recv();
    EXPECT_FALSE(poll_once(r1, w1));
    EXPECT_FALSE(poll_once(r2, w2));
    ASSERT_TRUE(tx.try_send(5));
    EXPECT_EQ(w1.wakes(), 1);  // the oldest waiting receiver
    EXPECT_EQ(w2.wakes(), 0);
    r1.cancel();  // woken, never took it: the wake goes to r2
    EXPECT_EQ(w2.wakes(), 1);
    EXPECT_EQ(rx.len(), 1u);
    ASSERT_TRUE(poll_once(r2, w2));
    EXPECT_EQ(r2.await_resume(), 5);
    EXPECT_EQ(w1.clones_alive(), 0);
    EXPECT_EQ(w2.clones_alive(), 0);
}

// What a select does: two receives pending with the task's waker; a value reaches the first, the
// second wins the poll, the first is cancelled. The first channel's value is still there.
TEST(mpmc_cancel, a_recv_that_lost_a_select_after_its_value_arrived_loses_nothing) {
    auto [atx, arx] = corio::mpmc::channel<int>(2);
    auto [btx, brx] = corio::mpmc::channel<int>(0);
    auto other = arx;  // another consumer of a
    counting_waker w, wo;
    auto ra = arx.recv();
    auto rb = brx.recv();
    EXPECT_FALSE(poll_once(ra, w));
    EXPECT_FALSE(poll_once(rb, w));
    auto other_op = other.recv();
    EXPECT_FALSE(poll_once(other_op, wo));
    ASSERT_TRUE(atx.try_send(1));  // wakes ra (the oldest)
    auto sb = btx.send(2);
    EXPECT_FALSE(poll_once(sb, wo));  // rendezvous: waits for rb, and wakes it
    EXPECT_EQ(w.wakes(), 2);
    ASSERT_TRUE(poll_once(rb, w));  // b wins
    EXPECT_EQ(rb.await_resume(), 2);
    ra.cancel();  // a loses: its wake goes to the other consumer, the value stays queued
    EXPECT_EQ(wo.wakes(), 2);  // sb delivered, other_op notified
    ASSERT_TRUE(poll_once(other_op, wo));
    EXPECT_EQ(other_op.await_resume(), 1);
    ASSERT_TRUE(poll_once(sb, wo));
    EXPECT_TRUE(sb.await_resume());
    EXPECT_EQ(w.clones_alive(), 0);
    EXPECT_EQ(wo.clones_alive(), 0);
}

// A take that refills the freed slot from a waiting sender queues a new value: it must wake another
// waiting receiver, or that one sleeps next to a value if the taker stops receiving.
TEST(mpmc_cancel, a_refill_from_a_waiting_sender_wakes_the_next_waiting_receiver) {
    auto [tx, rx] = corio::mpmc::channel<int>(1);
    auto rx2 = rx;
    counting_waker w1, w2, ws;
    auto r1 = rx.recv();
    auto r2 = rx2.recv();
    EXPECT_FALSE(poll_once(r1, w1));
    EXPECT_FALSE(poll_once(r2, w2));
    ASSERT_TRUE(tx.try_send(1));  // wakes r1
    auto s = tx.send(2);
    EXPECT_FALSE(poll_once(s, ws));  // full
    EXPECT_EQ(w2.wakes(), 0);
    ASSERT_TRUE(poll_once(r1, w1));  // takes 1, refills the slot with 2
    EXPECT_EQ(r1.await_resume(), 1);
    EXPECT_EQ(ws.wakes(), 1);
    EXPECT_EQ(w2.wakes(), 1);
    ASSERT_TRUE(poll_once(r2, w2));
    EXPECT_EQ(r2.await_resume(), 2);
    ASSERT_TRUE(poll_once(s, ws));
    EXPECT_TRUE(s.await_resume());
}

TEST(mpmc_cancel, destroying_a_pending_recv_withdraws_it) {
    auto [tx, rx] = corio::mpmc::unbounded_channel<int>();
    counting_waker w;
    {
        auto op = rx.recv();
        EXPECT_FALSE(poll_once(op, w));
    }
    EXPECT_EQ(w.clones_alive(), 0);
    ASSERT_TRUE(tx.send(1));
    EXPECT_EQ(w.wakes(), 0);
    EXPECT_EQ(*rx.try_recv(), 1);
}

TEST(mpmc_cancel, a_cancelled_send_keeps_its_value_and_polled_again_queues_at_the_back) {
    auto [tx, rx] = corio::mpmc::channel<int>(1);
    ASSERT_TRUE(tx.try_send(0));
    counting_waker wa, wb;
    auto a = tx.send(1);
    auto b = tx.send(2);
    EXPECT_FALSE(poll_once(a, wa));
    EXPECT_FALSE(poll_once(b, wb));
    a.cancel();
    EXPECT_EQ(wa.clones_alive(), 0);
    ASSERT_EQ(*rx.try_recv(), 0);  // the freed slot takes b's value: a is no longer queued
    EXPECT_EQ(wa.wakes(), 0);
    EXPECT_EQ(wb.wakes(), 1);
    ASSERT_TRUE(poll_once(b, wb));
    EXPECT_TRUE(b.await_resume());
    EXPECT_FALSE(poll_once(a, wa));  // queued afresh behind the full slot
    ASSERT_EQ(*rx.try_recv(), 2);
    EXPECT_EQ(wa.wakes(), 1);
    ASSERT_TRUE(poll_once(a, wa));
    EXPECT_TRUE(a.await_resume());
    EXPECT_EQ(*rx.try_recv(), 1);
    EXPECT_EQ(wa.clones_alive(), 0);
    EXPECT_EQ(wb.clones_alive(), 0);
}

TEST(mpmc_cancel, take_value_hands_back_an_unsent_value_and_sends_nothing) {
    auto [tx, rx] = corio::mpmc::channel<int>(0);
    counting_waker w;
    auto s = tx.send(4);
    EXPECT_FALSE(poll_once(s, w));
    std::optional<int> v = s.take_value();
    ASSERT_TRUE(v);
    EXPECT_EQ(*v, 4);
    EXPECT_EQ(w.clones_alive(), 0);
    EXPECT_EQ(rx.try_recv().error(), try_recv_error::empty);  // no sender waits any more
}

TEST(mpmc_cancel, a_send_whose_value_a_receiver_took_has_happened_and_cancel_does_not_undo_it) {
    auto [tx, rx] = corio::mpmc::channel<int>(0);
    counting_waker w;
    auto s = tx.send(7);
    EXPECT_FALSE(poll_once(s, w));
    EXPECT_EQ(*rx.try_recv(), 7);  // straight from the waiting sender
    EXPECT_EQ(w.wakes(), 1);
    s.cancel();
    EXPECT_FALSE(s.take_value());  // nothing to hand back: it was delivered
    EXPECT_EQ(rx.try_recv().error(), try_recv_error::empty);
    EXPECT_EQ(w.clones_alive(), 0);
}

TEST(mpmc_cancel, a_delivered_send_polled_again_reports_sent) {
    auto [tx, rx] = corio::mpmc::channel<int>(1);
    ASSERT_TRUE(tx.try_send(0));
    counting_waker w;
    auto s = tx.send(1);
    EXPECT_FALSE(poll_once(s, w));
    EXPECT_EQ(*rx.try_recv(), 0);  // pulls s's value into the freed slot
    s.cancel();                    // too late: a no-op
    ASSERT_TRUE(poll_once(s, w));
    EXPECT_TRUE(s.await_resume());
    EXPECT_EQ(*rx.try_recv(), 1);
}

TEST(mpmc_cancel, destroying_a_pending_send_withdraws_its_value) {
    auto [tx, rx] = corio::mpmc::channel<int>(0);
    counting_waker w;
    {
        auto s = tx.send(3);
        EXPECT_FALSE(poll_once(s, w));
    }
    EXPECT_EQ(w.clones_alive(), 0);
    EXPECT_EQ(rx.try_recv().error(), try_recv_error::empty);
}

TEST(mpmc_cancel, a_rendezvous_send_wakes_a_waiting_receiver_which_takes_the_value) {
    auto [tx, rx] = corio::mpmc::channel<int>(0);
    counting_waker wr, ws;
    auto r = rx.recv();
    EXPECT_FALSE(poll_once(r, wr));
    auto s = tx.send(9);
    EXPECT_FALSE(poll_once(s, ws));  // not taken yet
    EXPECT_EQ(wr.wakes(), 1);
    ASSERT_TRUE(poll_once(r, wr));
    EXPECT_EQ(r.await_resume(), 9);
    EXPECT_EQ(ws.wakes(), 1);
    ASSERT_TRUE(poll_once(s, ws));
    EXPECT_TRUE(s.await_resume());
}

TEST(mpmc_cancel, a_pending_send_fails_with_its_value_when_the_last_receiver_goes) {
    auto [tx, rx] = corio::mpmc::channel<int>(1);
    ASSERT_TRUE(tx.try_send(0));
    counting_waker w;
    auto s = tx.send(5);
    EXPECT_FALSE(poll_once(s, w));
    { auto gone = std::move(rx); }
    EXPECT_EQ(w.wakes(), 1);
    ASSERT_TRUE(poll_once(s, w));
    auto r = s.await_resume();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().value, 5);
    EXPECT_EQ(w.clones_alive(), 0);
}

TEST(mpmc_cancel, the_last_sender_gone_wakes_every_waiting_receiver_with_the_end) {
    auto [tx, rx] = corio::mpmc::channel<int>(1);
    auto rx2 = rx;
    counting_waker w1, w2;
    auto r1 = rx.recv();
    auto r2 = rx2.recv();
    EXPECT_FALSE(poll_once(r1, w1));
    EXPECT_FALSE(poll_once(r2, w2));
    { auto gone = std::move(tx); }
    EXPECT_EQ(w1.wakes(), 1);
    EXPECT_EQ(w2.wakes(), 1);
    ASSERT_TRUE(poll_once(r1, w1));
    ASSERT_TRUE(poll_once(r2, w2));
    EXPECT_EQ(r1.await_resume(), std::nullopt);
    EXPECT_EQ(r2.await_resume(), std::nullopt);
}

}  // namespace
