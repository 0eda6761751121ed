// leaf_cancel_test: the leaf contract (corio/runtime/leaf.hpp) for the runtime's own leaves —
// after cancel() nothing of the operation is registered (no waker clone held, a later event wakes
// nobody), and the operation can be polled again keeping its argument — and the combinators'
// side of the rule: a task<T> operand runs inline and is destroyed when it loses; a temporary
// join_handle operand is aborted and waited for.
#include <corio/channels/sync/mutex.hpp>
#include <corio/runtime/join_handle.hpp>
#include <corio/runtime/join_set.hpp>
#include <corio/runtime/runtime.hpp>
#include <corio/runtime/select.hpp>
#include <corio/runtime/join.hpp>
#include <corio/runtime/time.hpp>
#include <corio/runtime/yield_now.hpp>

#include "support/manual_poll.hpp"
#include "support/pending_forever.hpp"
#include "support/test_event.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

using namespace std::chrono_literals;
using corio::testing::counting_waker;
using corio::testing::poll_once;

namespace {

corio::runtime_options paused_options() {
    corio::runtime_options o;
    o.worker_threads = 1;
    o.start_paused = true;
    return o;
}

corio::task<void> sleep_cancel_body() {
    counting_waker w;
    auto s = corio::sleep(10ms);
    EXPECT_FALSE(poll_once(s, w));
    EXPECT_EQ(w.clones_alive(), 1);  // registered in the wheel
    s.cancel();
    EXPECT_EQ(w.clones_alive(), 0);  // unlinked: the wheel holds no waker of it
    s.cancel();                      // idempotent
    co_await corio::time::advance(20ms);
    EXPECT_EQ(w.wakes(), 0);         // the deadline passed: nobody was woken
    EXPECT_TRUE(poll_once(s, w));    // the deadline was kept: it is elapsed now
    EXPECT_EQ(w.clones_alive(), 0);
}

TEST(leaf_cancel, a_cancelled_sleep_leaves_the_wheel_and_keeps_its_deadline) {
    corio::runtime rt(paused_options());
    rt.block_on(sleep_cancel_body());
}

corio::task<void> interval_cancel_body() {
    counting_waker w;
    auto iv = corio::interval(10ms);
    {
        auto first = iv.tick();
        EXPECT_TRUE(poll_once(first, w));  // the first tick completes at once
    }
    auto second = iv.tick();
    EXPECT_FALSE(poll_once(second, w));
    second.cancel();
    EXPECT_EQ(w.clones_alive(), 0);
    co_await corio::time::advance(10ms);
    EXPECT_EQ(w.wakes(), 0);
    auto again = iv.tick();
    EXPECT_TRUE(poll_once(again, w));  // the abandoned tick was not lost
}

TEST(leaf_cancel, a_cancelled_tick_loses_no_tick) {
    corio::runtime rt(paused_options());
    rt.block_on(interval_cancel_body());
}

corio::task<int> wait_then_return(corio::testing::test_event* ev) {
    co_await ev->wait();
    co_return 7;
}

corio::task<void> join_handle_cancel_body() {
    corio::testing::test_event ev;
    auto h = corio::spawn(wait_then_return(&ev));
    counting_waker w;
    {
        auto a = h.operator co_await();
        EXPECT_FALSE(poll_once(a, w));
        EXPECT_EQ(w.clones_alive(), 1);  // our waker is the task's join waker
        a.cancel();
        EXPECT_EQ(w.clones_alive(), 0);
    }
    ev.set();
    auto r = co_await h;  // the handle still owns the outcome
    EXPECT_EQ(r.value(), 7);
    EXPECT_EQ(w.wakes(), 0);
}

TEST(leaf_cancel, a_cancelled_join_await_takes_its_waker_back) {
    corio::runtime rt({.worker_threads = 2});
    rt.block_on(join_handle_cancel_body());
}

corio::task<void> join_next_cancel_body() {
    corio::testing::test_event ev;
    corio::join_set<int> set;
    set.spawn(wait_then_return(&ev));
    counting_waker w;
    {
        auto op = set.join_next();
        EXPECT_FALSE(poll_once(op, w));
        EXPECT_EQ(w.clones_alive(), 1);
        op.cancel();
        EXPECT_EQ(w.clones_alive(), 0);
    }
    ev.set();
    auto r = co_await set.join_next();
    EXPECT_TRUE(r.has_value());
    if (r) {
        EXPECT_EQ(r->value(), 7);
    }
    EXPECT_EQ(w.wakes(), 0);
}

TEST(leaf_cancel, a_cancelled_join_next_is_no_longer_the_sets_waiter) {
    corio::runtime rt({.worker_threads = 2});
    rt.block_on(join_next_cancel_body());
}

corio::task<void> yield_cancel_body() {
    counting_waker w;
    auto y = corio::yield_now();
    EXPECT_FALSE(poll_once(y, w));
    EXPECT_EQ(w.wakes(), 1);
    y.cancel();
    EXPECT_FALSE(poll_once(y, w));  // starts over: yields again
    EXPECT_EQ(w.wakes(), 2);
    EXPECT_TRUE(poll_once(y, w));
    co_return;
}

TEST(leaf_cancel, a_cancelled_yield_starts_over) {
    corio::runtime rt({.worker_threads = 1});
    rt.block_on(yield_cancel_body());
}

// --- coroutine operands ---------------------------------------------------------------------

struct borrowed {
    int writes = 0;
    int frames_destroyed = 0;
    bool select_returned = false;
    int touched_after_return = 0;
};

struct frame_guard {
    borrowed* b;
    ~frame_guard() { ++b->frames_destroyed; }
};

// Borrows the caller's `b`: a spawned operand could touch it after the select returned.
corio::task<int> borrowing_operand(borrowed& b, corio::testing::test_event* ev) {
    frame_guard g{&b};
    co_await ev->wait();
    if (b.select_returned) ++b.touched_after_return;
    ++b.writes;
    co_return 1;
}

corio::task<void> inline_loser_body() {
    borrowed b;
    corio::testing::test_event never;
    auto r = co_await corio::select(borrowing_operand(b, &never), corio::sleep(5ms));
    b.select_returned = true;
    EXPECT_EQ(r.index(), 1u);
    EXPECT_EQ(b.frames_destroyed, 1);  // the losing operand's frame is gone before select returned
    never.set();                        // would resume a spawned operand
    for (int i = 0; i < 10; ++i) co_await corio::yield_now();
    EXPECT_EQ(b.writes, 0);
    EXPECT_EQ(b.touched_after_return, 0);
}

TEST(combinator_cancel, a_losing_task_operand_is_destroyed_before_select_returns) {
    corio::runtime rt({.worker_threads = 2});
    rt.block_on(inline_loser_body());
}

corio::task<void> inline_timeout_body() {
    borrowed b;
    corio::testing::test_event never;
    auto r = co_await corio::timeout(5ms, borrowing_operand(b, &never));
    EXPECT_FALSE(r.has_value());
    EXPECT_EQ(b.frames_destroyed, 1);
    never.set();
    for (int i = 0; i < 10; ++i) co_await corio::yield_now();
    EXPECT_EQ(b.writes, 0);
}

TEST(combinator_cancel, a_timed_out_task_operand_is_destroyed_before_timeout_returns) {
    corio::runtime rt({.worker_threads = 2});
    rt.block_on(inline_timeout_body());
}

corio::task<int> fails_after(corio::testing::test_event* ev) {
    co_await ev->wait();
    throw std::runtime_error("boom");
}

corio::task<void> join_stop_body() {
    borrowed b;
    corio::testing::test_event never, go;
    go.set();
    EXPECT_THROW((void)(co_await corio::join(borrowing_operand(b, &never), fails_after(&go))), std::runtime_error);
    EXPECT_EQ(b.frames_destroyed, 1);  // the other operand was destroyed when the first one threw
    never.set();
    for (int i = 0; i < 10; ++i) co_await corio::yield_now();
    EXPECT_EQ(b.writes, 0);
}

TEST(combinator_cancel, join_destroys_the_other_task_operands_when_one_throws) {
    corio::runtime rt({.worker_threads = 2});
    rt.block_on(join_stop_body());
}

corio::task<void> both_run_inline_body() {
    // Inline operands interleave in the awaiting task: each completes once its leaf is ready.
    corio::testing::test_event a, c;
    borrowed b1, b2;
    a.set();
    c.set();
    auto [x, y] = co_await corio::join(borrowing_operand(b1, &a), borrowing_operand(b2, &c));
    EXPECT_EQ(x + y, 2);
    EXPECT_EQ(b1.writes + b2.writes, 2);
}

TEST(combinator_cancel, join_runs_task_operands_to_completion) {
    corio::runtime rt({.worker_threads = 1});
    rt.block_on(both_run_inline_body());
}

// --- a temporary join_handle operand: abort and wait ------------------------------------------

corio::task<void> long_spawned(std::atomic<int>* destroyed, std::atomic<int>* polled) {
    co_await corio::testing::pending_forever(destroyed, polled);
}

corio::task<void> abort_and_wait_body() {
    std::atomic<int> destroyed{0}, polled{0};
    auto r = co_await corio::select(corio::spawn(long_spawned(&destroyed, &polled)), corio::sleep(2ms));
    EXPECT_EQ(r.index(), 1u);
    // select returned only after the aborted task finished: its frame has been destroyed.
    EXPECT_EQ(destroyed.load(), 1);
}

TEST(combinator_cancel, a_losing_temporary_join_handle_is_aborted_and_waited_for) {
    corio::runtime rt({.worker_threads = 2});
    rt.block_on(abort_and_wait_body());
}

corio::task<void> abort_and_wait_timeout_body() {
    std::atomic<int> destroyed{0}, polled{0};
    auto r = co_await corio::timeout(2ms, corio::spawn(long_spawned(&destroyed, &polled)));
    EXPECT_FALSE(r.has_value());
    EXPECT_EQ(destroyed.load(), 1);
}

TEST(combinator_cancel, timeout_aborts_and_waits_for_a_temporary_join_handle) {
    corio::runtime rt({.worker_threads = 2});
    rt.block_on(abort_and_wait_timeout_body());
}

corio::task<void> named_handle_body() {
    corio::testing::test_event ev;
    auto h = corio::spawn(wait_then_return(&ev));
    auto r = co_await corio::select(h, corio::sleep(2ms));
    EXPECT_EQ(r.index(), 1u);
    EXPECT_FALSE(h.is_finished());  // a named handle is the caller's: its task runs on
    ev.set();
    EXPECT_EQ((co_await h).value(), 7);
}

TEST(combinator_cancel, a_named_join_handle_keeps_its_task_running) {
    corio::runtime rt({.worker_threads = 2});
    rt.block_on(named_handle_body());
}

// A winner's result is kept by the select while it waits for an aborted loser; if the selecting
// task is itself aborted meanwhile, the result (a lock guard) is destroyed with the select instead
// of staying untaken in the winning lock operation, which would hold the mutex forever.
corio::task<void> spin_until(std::atomic<bool>* started, std::atomic<bool>* release) {
    started->store(true);
    while (!release->load()) std::this_thread::yield();  // never suspends: abort waits for it
    co_await corio::yield_now();
}

struct stash_state {
    corio::sync::mutex<int> m{0};
    std::atomic<bool> started{false}, release{false}, in_select{false};
};

corio::task<void> select_lock_against_spinner(stash_state* st, corio::join_handle<void> h) {
    st->in_select.store(true);
    co_await corio::select(st->m.lock(), std::move(h));  // the lock wins; the spinner is aborted
    ADD_FAILURE() << "select returned while its aborted loser was still running";
}

TEST(combinator_cancel, a_winner_waiting_on_an_aborted_loser_gives_its_result_back_if_the_select_dies) {
    corio::runtime rt({.worker_threads = 2});
    stash_state st;
    // The spinner occupies one worker (spawned from outside: the inject queue); the selecting task
    // runs on the other.
    auto h = rt.spawn(spin_until(&st.started, &st.release));
    while (!st.started.load()) std::this_thread::yield();
    auto a = rt.spawn(select_lock_against_spinner(&st, std::move(h)));
    while (!st.in_select.load()) std::this_thread::yield();
    a.abort();
    auto r = a.blocking_join();
    EXPECT_TRUE(!r && r.error().is_cancelled());
    EXPECT_TRUE(st.m.try_lock().has_value());  // the stashed guard unlocked when the select died
    st.release.store(true);
}

}  // namespace
