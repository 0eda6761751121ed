// sync_cancel_test: cancel() of every corio::sync leaf (runtime/leaf.hpp), driven by hand with
// counting wakers — a cancelled leaf holds no waker clone, gives back what was assigned to it
// since its last poll (a lock grant, permits, a notify_one) to the next waiter, loses its place
// (polled again it queues at the back), is idempotent, and leaves an unpolled or completed
// operation alone. Also the select deadlock it fixes: a losing m.lock() operand, still alive,
// must not keep the lock from the handler that locks m.
#include <corio/channels/detail/batch_semaphore.hpp>
#include <corio/channels/sync/barrier.hpp>
#include <corio/channels/sync/cancellation_token.hpp>
#include <corio/channels/sync/mutex.hpp>
#include <corio/channels/sync/notify.hpp>
#include <corio/channels/sync/rw_lock.hpp>
#include <corio/channels/sync/semaphore.hpp>

#include <gtest/gtest.h>

#include <memory>

#include "support/manual_poll.hpp"

namespace {

using corio::sync::notify;
using corio::sync::semaphore;
using corio::testing::counting_waker;
using corio::testing::poll_once;
using int_mutex = corio::sync::mutex<int>;

// --- batch_semaphore::acquirer ----------------------------------------------------------------

TEST(acquirer_cancel, drops_the_waker_and_gives_back_partial_permits) {
    corio::detail::batch_semaphore sem(1);
    counting_waker w;
    corio::detail::batch_semaphore::acquirer a(&sem, 3);
    EXPECT_EQ(a.poll(w.ref()), corio::detail::batch_semaphore::poll_result::pending);  // took 1
    EXPECT_EQ(w.clones_alive(), 1);
    sem.release(1);  // 2 of 3 assigned
    EXPECT_EQ(sem.available_permits(), 0u);
    a.cancel();
    EXPECT_EQ(w.clones_alive(), 0);
    EXPECT_EQ(sem.available_permits(), 2u);
    a.cancel();  // idempotent
    EXPECT_EQ(sem.available_permits(), 2u);
    // Polled again, it starts afresh.
    EXPECT_EQ(a.poll(w.ref()), corio::detail::batch_semaphore::poll_result::pending);
    sem.release(1);
    EXPECT_EQ(w.wakes(), 1);
    EXPECT_EQ(a.poll(w.ref()), corio::detail::batch_semaphore::poll_result::acquired);
    a.cancel();  // after acquired: the permits are the caller's
    EXPECT_EQ(sem.available_permits(), 0u);
    sem.release(3);
    EXPECT_EQ(w.clones_alive(), 0);
}

// --- mutex ------------------------------------------------------------------------------------

TEST(mutex_cancel, a_granted_then_cancelled_lock_passes_the_lock_to_the_next_waiter) {
    int_mutex m(0);
    auto held = m.try_lock();
    counting_waker wa, wb;
    auto a = m.lock();
    auto b = m.lock();
    EXPECT_FALSE(poll_once(a, wa));
    EXPECT_FALSE(poll_once(b, wb));
    held.reset();  // granted to a (its queue node), not yet reported
    EXPECT_EQ(wa.wakes(), 1);
    EXPECT_EQ(wb.wakes(), 0);
    a.cancel();  // a is still alive: the grant must move on now, not at its destructor
    EXPECT_EQ(wb.wakes(), 1);
    EXPECT_EQ(wa.clones_alive(), 0);
    ASSERT_TRUE(poll_once(b, wb));
    {
        auto g = b.await_resume();
        EXPECT_FALSE(m.try_lock());
        // a may be polled again: it queues behind nobody but the holder.
        EXPECT_FALSE(poll_once(a, wa));
    }
    EXPECT_EQ(wa.wakes(), 2);
    ASSERT_TRUE(poll_once(a, wa));
    { auto g = a.await_resume(); }
    EXPECT_TRUE(m.try_lock());
}

// The bug cancel() fixes: select(branch(m.lock(), h1), branch(rx.recv(), h2)) where h2 locks m.
// The losing m.lock() temporary lives to the end of the statement, i.e. through h2.
TEST(mutex_cancel, a_losing_lock_operand_does_not_block_a_handler_that_locks_the_same_mutex) {
    int_mutex m(0);
    notify n;
    auto held = m.try_lock();
    counting_waker w;
    auto losing = m.lock();  // the select operand
    auto other = n.notified();
    EXPECT_FALSE(poll_once(losing, w));
    EXPECT_FALSE(poll_once(other, w));
    n.notify_one();
    ASSERT_TRUE(poll_once(other, w));  // the other branch wins
    losing.cancel();                   // the combinator cancels the loser before the handler
    // The handler: locks m while `losing` is still alive.
    auto handler_lock = m.lock();
    EXPECT_FALSE(poll_once(handler_lock, w));
    held.reset();
    ASSERT_TRUE(poll_once(handler_lock, w));  // without cancel(): `losing` would have the lock
    { auto g = handler_lock.await_resume(); }
    EXPECT_TRUE(m.try_lock());
    EXPECT_EQ(w.clones_alive(), 0);
}

TEST(mutex_cancel, cancel_is_idempotent_and_a_cancelled_waiter_loses_its_place) {
    int_mutex m(0);
    auto held = m.try_lock();
    counting_waker wa, wb;
    auto a = m.lock();
    auto b = m.lock();
    EXPECT_FALSE(poll_once(a, wa));
    EXPECT_FALSE(poll_once(b, wb));
    a.cancel();
    a.cancel();
    EXPECT_EQ(wa.clones_alive(), 0);
    EXPECT_FALSE(poll_once(a, wa));  // now behind b
    held.reset();
    EXPECT_EQ(wb.wakes(), 1);
    EXPECT_EQ(wa.wakes(), 0);
    ASSERT_TRUE(poll_once(b, wb));
    { auto g = b.await_resume(); }
    EXPECT_EQ(wa.wakes(), 1);
    ASSERT_TRUE(poll_once(a, wa));
    { auto g = a.await_resume(); }
    EXPECT_TRUE(m.try_lock());
}

TEST(mutex_cancel, cancel_of_an_unpolled_or_completed_lock_is_a_no_op) {
    int_mutex m(0);
    counting_waker w;
    {
        auto never = m.lock();
        never.cancel();
        EXPECT_TRUE(m.try_lock());  // (dropped at once)
    }
    auto op = m.lock();
    ASSERT_TRUE(poll_once(op, w));  // the lock is free: ready at the first poll
    op.cancel();
    op.cancel();
    EXPECT_FALSE(m.try_lock());  // still op's
    {
        auto g = op.await_resume();
        op.cancel();  // even after the guard was taken
        EXPECT_FALSE(m.try_lock());
        *g = 7;
    }
    EXPECT_EQ(*m.try_lock().value(), 7);
    EXPECT_EQ(w.clones_alive(), 0);
}

// --- rw_lock ----------------------------------------------------------------------------------

TEST(rw_lock_cancel, a_cancelled_writer_gives_back_partial_and_full_grants) {
    corio::sync::rw_lock<int> l(0, 4);
    counting_waker ww, wr;
    auto reader = l.try_read();
    auto writer = l.write();
    EXPECT_FALSE(poll_once(writer, ww));  // holds 3 of 4
    auto late_reader = l.read();
    EXPECT_FALSE(poll_once(late_reader, wr));  // FIFO: behind the writer
    writer.cancel();                           // the 3 go on: the late reader gets in
    EXPECT_EQ(ww.clones_alive(), 0);
    EXPECT_EQ(wr.wakes(), 1);
    ASSERT_TRUE(poll_once(late_reader, wr));
    auto r2 = late_reader.await_resume();
    // Polled again, the writer waits for both readers; granted, then cancelled: all 4 go back.
    EXPECT_FALSE(poll_once(writer, ww));
    reader.reset();
    r2.unlock();
    EXPECT_EQ(ww.wakes(), 1);
    writer.cancel();
    EXPECT_TRUE(l.try_write());
    EXPECT_EQ(ww.clones_alive(), 0);
}

// --- semaphore --------------------------------------------------------------------------------

TEST(semaphore_cancel, a_cancelled_acquire_holds_no_waker_and_loses_its_place) {
    semaphore sem(0);
    counting_waker wa, wb;
    auto a = sem.acquire();
    auto b = sem.acquire();
    EXPECT_FALSE(poll_once(a, wa));
    EXPECT_FALSE(poll_once(b, wb));
    EXPECT_EQ(wa.clones_alive(), 1);
    a.cancel();
    EXPECT_EQ(wa.clones_alive(), 0);
    EXPECT_FALSE(poll_once(a, wa));  // back in the queue, behind b
    sem.add_permits(1);
    EXPECT_EQ(wb.wakes(), 1);  // b first
    EXPECT_EQ(wa.wakes(), 0);
    ASSERT_TRUE(poll_once(b, wb));
    auto pb = b.await_resume();
    ASSERT_TRUE(pb);
    sem.add_permits(1);
    EXPECT_EQ(wa.wakes(), 1);
    ASSERT_TRUE(poll_once(a, wa));
    auto pa = a.await_resume();
    ASSERT_TRUE(pa);
    EXPECT_EQ(sem.available_permits(), 0u);
}

TEST(semaphore_cancel, a_partially_assigned_acquire_many_returns_its_permits_on_cancel) {
    semaphore sem(1);
    counting_waker wa, wb;
    auto a = sem.acquire_many(3);
    auto b = sem.acquire_many(2);
    EXPECT_FALSE(poll_once(a, wa));  // took the 1
    EXPECT_FALSE(poll_once(b, wb));
    sem.add_permits(1);  // a: 2 of 3
    EXPECT_EQ(wb.wakes(), 0);
    a.cancel();  // its 2 go to b, which needs exactly 2
    EXPECT_EQ(wb.wakes(), 1);
    EXPECT_EQ(wa.clones_alive(), 0);
    ASSERT_TRUE(poll_once(b, wb));
    {
        auto pb = b.await_resume();
        ASSERT_TRUE(pb);
        EXPECT_EQ(pb->num_permits(), 2u);
        EXPECT_EQ(sem.available_permits(), 0u);
    }
    EXPECT_EQ(sem.available_permits(), 2u);
    a.cancel();  // idempotent: nothing more to give
    EXPECT_EQ(sem.available_permits(), 2u);
}

TEST(semaphore_cancel, owned_acquire_cancel_returns_permits_to_the_count) {
    auto sem = std::make_shared<semaphore>(2);
    counting_waker w;
    auto op = semaphore::acquire_many_owned(sem, 5);
    EXPECT_FALSE(poll_once(op, w));
    EXPECT_EQ(sem->available_permits(), 0u);
    sem->add_permits(2);  // 4 of 5
    op.cancel();
    EXPECT_EQ(sem->available_permits(), 4u);
    EXPECT_EQ(w.clones_alive(), 0);
    sem->add_permits(1);
    ASSERT_TRUE(poll_once(op, w));  // re-polled: takes 5 from the count at once
    auto p = op.await_resume();
    ASSERT_TRUE(p);
    op.cancel();  // after a ready poll: no-op
    EXPECT_EQ(sem->available_permits(), 0u);
}

TEST(semaphore_cancel, cancel_of_an_unpolled_or_closed_acquire_is_a_no_op) {
    semaphore sem(1);
    counting_waker w;
    auto never = sem.acquire_many(2);
    never.cancel();
    EXPECT_EQ(sem.available_permits(), 1u);
    auto op = sem.acquire_many(2);
    EXPECT_FALSE(poll_once(op, w));
    sem.close();
    EXPECT_EQ(w.wakes(), 1);
    ASSERT_TRUE(poll_once(op, w));  // closed; the 1 it had went back
    op.cancel();
    EXPECT_FALSE(op.await_resume());
    EXPECT_EQ(sem.available_permits(), 1u);
}

// --- notify -----------------------------------------------------------------------------------

TEST(notify_cancel, a_notify_one_handed_to_a_cancelled_waiter_is_forwarded) {
    notify n;
    counting_waker wa, wb;
    auto a = n.notified();
    auto b = n.notified();
    EXPECT_FALSE(poll_once(a, wa));
    EXPECT_FALSE(poll_once(b, wb));
    n.notify_one();  // handed to a
    EXPECT_EQ(wa.wakes(), 1);
    a.cancel();
    a.cancel();  // idempotent: forwarded once
    EXPECT_EQ(wb.wakes(), 1);
    ASSERT_TRUE(poll_once(b, wb));
    EXPECT_FALSE(poll_once(a, wa));  // a may wait again; no permit is left over
    EXPECT_EQ(wa.clones_alive(), 1);
    a.cancel();
    EXPECT_EQ(wa.clones_alive(), 0);
    EXPECT_EQ(wb.clones_alive(), 0);
}

TEST(notify_cancel, with_nobody_behind_the_notification_becomes_the_permit) {
    notify n;
    counting_waker w;
    auto a = n.notified();
    EXPECT_FALSE(poll_once(a, w));
    n.notify_one();
    a.cancel();
    auto c = n.notified();
    EXPECT_TRUE(poll_once(c, w));  // the stored permit
    auto d = n.notified();
    EXPECT_FALSE(poll_once(d, w));  // only one
    d.cancel();
    EXPECT_EQ(w.clones_alive(), 0);
}

TEST(notify_cancel, a_cancelled_pending_waiter_receives_nothing_and_a_re_poll_queues_at_the_back) {
    notify n;
    counting_waker wa, wb;
    auto a = n.notified();
    auto b = n.notified();
    EXPECT_FALSE(poll_once(a, wa));
    EXPECT_FALSE(poll_once(b, wb));
    a.cancel();
    EXPECT_EQ(wa.clones_alive(), 0);
    EXPECT_FALSE(poll_once(a, wa));  // behind b
    n.notify_one();
    EXPECT_EQ(wb.wakes(), 1);
    EXPECT_EQ(wa.wakes(), 0);
    n.notify_one();
    EXPECT_EQ(wa.wakes(), 1);
    EXPECT_TRUE(poll_once(a, wa));
    EXPECT_TRUE(poll_once(b, wb));
}

TEST(notify_cancel, a_notify_waiters_survives_cancel_and_completes_the_next_poll) {
    notify n;
    counting_waker w;
    auto a = n.notified();
    EXPECT_FALSE(poll_once(a, w));
    n.notify_waiters();
    a.cancel();
    EXPECT_EQ(w.clones_alive(), 0);
    EXPECT_TRUE(poll_once(a, w));
    a.cancel();  // completed: no-op
    auto c = n.notified();
    EXPECT_FALSE(poll_once(c, w));  // notify_waiters stored no permit, and cancel forwarded none
    c.cancel();
}

// --- barrier ----------------------------------------------------------------------------------

TEST(barrier_cancel, a_cancelled_wait_withdraws_its_arrival_and_arrives_anew_when_re_polled) {
    corio::sync::barrier b(2);
    counting_waker w1, w2;
    auto first = b.wait();
    EXPECT_FALSE(poll_once(first, w1));
    first.cancel();
    first.cancel();
    EXPECT_EQ(w1.clones_alive(), 0);
    auto second = b.wait();
    EXPECT_FALSE(poll_once(second, w2));  // the withdrawn arrival does not count
    ASSERT_TRUE(poll_once(first, w1));    // arrives anew: completes the generation
    EXPECT_TRUE(first.await_resume().is_leader());
    EXPECT_EQ(w2.wakes(), 1);
    ASSERT_TRUE(poll_once(second, w2));
    EXPECT_FALSE(second.await_resume().is_leader());
}

TEST(barrier_cancel, a_wait_cancelled_after_its_release_stays_released) {
    corio::sync::barrier b(2);
    counting_waker w1, w2;
    auto first = b.wait();
    EXPECT_FALSE(poll_once(first, w1));
    auto leader = b.wait();
    ASSERT_TRUE(poll_once(leader, w2));
    first.cancel();  // the release cannot be taken back from the leader
    EXPECT_EQ(w1.clones_alive(), 0);
    ASSERT_TRUE(poll_once(first, w1));
    EXPECT_FALSE(first.await_resume().is_leader());
    // The next generation starts empty: one wait alone does not complete it.
    auto next = b.wait();
    EXPECT_FALSE(poll_once(next, w1));
    next.cancel();
    EXPECT_EQ(w1.clones_alive(), 0);
}

// --- cancellation_token -----------------------------------------------------------------------

TEST(cancellation_token_cancel, a_cancelled_wait_leaves_the_list_and_completes_when_re_polled_after) {
    corio::sync::cancellation_token t;
    counting_waker w;
    auto op = t.cancelled();
    op.cancel();  // unpolled: no-op
    EXPECT_FALSE(poll_once(op, w));
    EXPECT_EQ(w.clones_alive(), 1);
    op.cancel();
    op.cancel();
    EXPECT_EQ(w.clones_alive(), 0);
    t.cancel();
    EXPECT_EQ(w.wakes(), 0);  // not registered any more
    EXPECT_TRUE(poll_once(op, w));
    op.cancel();  // completed: no-op
    EXPECT_TRUE(poll_once(op, w));
    EXPECT_EQ(w.clones_alive(), 0);
}

TEST(cancellation_token_cancel, cancel_after_the_token_fired_drops_nothing_twice) {
    corio::sync::cancellation_token t;
    auto child = t.child_token();
    counting_waker w;
    auto op = child.cancelled();
    EXPECT_FALSE(poll_once(op, w));
    t.cancel();  // pops op's node and wakes it
    EXPECT_EQ(w.wakes(), 1);
    EXPECT_EQ(w.clones_alive(), 0);
    op.cancel();  // nothing left to undo; the cancellation stays visible
    EXPECT_TRUE(poll_once(op, w));
    EXPECT_EQ(w.clones_alive(), 0);
}

}  // namespace
