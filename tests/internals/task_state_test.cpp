// task_state_test: the task state word (runtime/include/corio/runtime/detail/task_state.hpp)
// transition by transition, then a runner racing wakers with the word's bookkeeping checked:
// at most one notification queued at a time, the task never run twice at once, and the
// references back to their resting count once everything is quiet.
#include "support/stress.hpp"

#include <corio/runtime/detail/task_state.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

using corio::detail::task_state;
using snap = corio::detail::task_snapshot;

namespace {

// A fresh task after the worker took its first notification and ran it once to a suspension.
void make_idle(task_state& s) {
    EXPECT_EQ(s.transition_to_running(), task_state::to_running::success);
    EXPECT_EQ(s.transition_to_idle(), task_state::to_idle::ok);
}

}  // namespace

TEST(task_state, a_new_task_has_three_refs_join_interest_and_its_first_notification) {
    task_state s;
    auto v = s.load();
    EXPECT_EQ(v.ref_count(), 3u);
    EXPECT_TRUE(v.is_notified());
    EXPECT_TRUE(v.is_join_interested());
    EXPECT_TRUE(v.is_idle());
    EXPECT_FALSE(v.is_cancelled());
    EXPECT_FALSE(v.is_join_waker_set());
}

TEST(task_state, running_consumes_the_notification_and_idle_drops_its_ref) {
    task_state s;
    EXPECT_EQ(s.transition_to_running(), task_state::to_running::success);
    EXPECT_TRUE(s.load().is_running());
    EXPECT_FALSE(s.load().is_notified());
    EXPECT_EQ(s.load().ref_count(), 3u);  // the notification's ref is held by the runner
    EXPECT_EQ(s.transition_to_idle(), task_state::to_idle::ok);
    EXPECT_TRUE(s.load().is_idle());
    EXPECT_EQ(s.load().ref_count(), 2u);
}

TEST(task_state, a_wake_by_ref_of_an_idle_task_submits_once_with_a_new_ref) {
    task_state s;
    make_idle(s);
    EXPECT_EQ(s.transition_to_notified_by_ref(), task_state::to_notified::submit);
    EXPECT_EQ(s.load().ref_count(), 3u);
    // Already notified: a second wake does nothing (the task sits in one queue only).
    EXPECT_EQ(s.transition_to_notified_by_ref(), task_state::to_notified::do_nothing);
    EXPECT_EQ(s.load().ref_count(), 3u);
}

TEST(task_state, a_wake_while_running_is_kept_for_after_the_poll) {
    task_state s;
    make_idle(s);
    EXPECT_EQ(s.transition_to_notified_by_ref(), task_state::to_notified::submit);
    EXPECT_EQ(s.transition_to_running(), task_state::to_running::success);
    EXPECT_EQ(s.transition_to_notified_by_ref(), task_state::to_notified::do_nothing);
    EXPECT_TRUE(s.load().is_notified());
    // to_idle makes the new notification's ref; the runner then drops its own (harness.cpp).
    EXPECT_EQ(s.transition_to_idle(), task_state::to_idle::ok_notified);
    EXPECT_EQ(s.load().ref_count(), 4u);
    EXPECT_FALSE(s.ref_dec());
    EXPECT_EQ(s.load().ref_count(), 3u);
    EXPECT_TRUE(s.load().is_notified());
}

TEST(task_state, a_waker_consumed_by_value_hands_its_ref_to_the_notification_or_drops_it) {
    task_state s;
    make_idle(s);
    s.ref_inc();  // the waker's ref
    EXPECT_EQ(s.load().ref_count(), 3u);
    EXPECT_EQ(s.transition_to_notified_by_val(), task_state::to_notified::submit);
    EXPECT_EQ(s.load().ref_count(), 3u);  // the waker's ref became the notification's
    s.ref_inc();                          // a second waker
    EXPECT_EQ(s.transition_to_notified_by_val(), task_state::to_notified::do_nothing);
    EXPECT_EQ(s.load().ref_count(), 3u);  // already notified: its ref was dropped
}

TEST(task_state, abort_of_an_idle_task_submits_a_notification_that_runs_as_cancelled) {
    task_state s;
    make_idle(s);
    EXPECT_TRUE(s.transition_to_notified_and_cancel());
    EXPECT_TRUE(s.load().is_cancelled());
    EXPECT_EQ(s.load().ref_count(), 3u);
    EXPECT_FALSE(s.transition_to_notified_and_cancel());  // once
    EXPECT_EQ(s.transition_to_running(), task_state::to_running::cancelled);
}

TEST(task_state, abort_while_running_is_seen_when_the_poll_ends) {
    task_state s;
    EXPECT_EQ(s.transition_to_running(), task_state::to_running::success);
    EXPECT_FALSE(s.transition_to_notified_and_cancel());  // the runner sees it, no submit
    EXPECT_EQ(s.transition_to_idle(), task_state::to_idle::cancelled);
    EXPECT_TRUE(s.load().is_running());  // the runner still holds the frame, to destroy it
}

TEST(task_state, completion_sets_complete_and_clears_running_in_one_step) {
    task_state s;
    EXPECT_EQ(s.transition_to_running(), task_state::to_running::success);
    auto v = s.transition_to_complete();
    EXPECT_TRUE(v.is_complete());
    EXPECT_FALSE(v.is_running());
    // Late wakes of a complete task never submit.
    EXPECT_EQ(s.transition_to_notified_by_ref(), task_state::to_notified::do_nothing);
    EXPECT_FALSE(s.transition_to_notified_and_cancel());
    // The runner's ref and the owned list's go; the join handle's stays.
    EXPECT_FALSE(s.transition_to_terminal(2));
    EXPECT_EQ(s.load().ref_count(), 1u);
    EXPECT_FALSE(s.unset_join_interested());  // complete: the handle owns the output
    EXPECT_TRUE(s.ref_dec());                 // the last ref: the caller frees the task
}

TEST(task_state, a_join_handle_dropped_before_the_first_run_is_one_cas) {
    task_state s;
    EXPECT_TRUE(s.drop_join_handle_fast());
    EXPECT_EQ(s.load().ref_count(), 2u);
    EXPECT_FALSE(s.load().is_join_interested());
    EXPECT_FALSE(s.drop_join_handle_fast());  // not the initial word any more
}

TEST(task_state, the_join_waker_bit_is_refused_once_complete) {
    task_state s;
    EXPECT_TRUE(s.set_join_waker());
    EXPECT_TRUE(s.unset_join_waker());
    EXPECT_TRUE(s.set_join_waker());
    EXPECT_EQ(s.transition_to_running(), task_state::to_running::success);
    (void)s.transition_to_complete();
    EXPECT_FALSE(s.unset_join_waker());
}

TEST(task_state, shutdown_takes_the_frame_of_an_idle_task_only) {
    task_state idle;
    make_idle(idle);
    EXPECT_TRUE(idle.transition_to_shutdown());
    EXPECT_TRUE(idle.load().is_running());
    EXPECT_TRUE(idle.load().is_cancelled());

    task_state running;
    EXPECT_EQ(running.transition_to_running(), task_state::to_running::success);
    EXPECT_FALSE(running.transition_to_shutdown());  // its runner will see cancelled
    EXPECT_EQ(running.transition_to_idle(), task_state::to_idle::cancelled);
}

// One runner thread plays the worker (run queue = `queued`), two threads wake the task by
// reference, as wakers do. The word must keep at most one notification queued, the runner must
// never find the task running, and when everyone stops the task rests idle with its two resting
// refs (owned list, join handle).
TEST(task_state, a_runner_racing_two_wakers_keeps_one_notification_and_every_ref) {
    const int polls = static_cast<int>(corio::testing::iterations(200'000, 20'000));
    task_state s;
    std::atomic<int> queued{1};  // the initial notification
    std::atomic<int> double_queued{0};
    std::atomic<bool> stop{false};
    std::atomic<long> submits{0};
    corio::testing::hang_guard guard("task_state runner vs wakers",
                                     [&] { return "submits " + std::to_string(submits.load()); });

    auto submit = [&] {
        if (queued.fetch_add(1, std::memory_order_acq_rel) != 0) double_queued.fetch_add(1);
        submits.fetch_add(1, std::memory_order_relaxed);
    };
    auto waker = [&] {
        while (!stop.load(std::memory_order_acquire)) {
            if (s.transition_to_notified_by_ref() == task_state::to_notified::submit) submit();
            std::this_thread::yield();
        }
    };
    std::thread w1(waker), w2(waker);

    int runs = 0, wrong_runs = 0;
    while (runs < polls) {
        if (queued.load(std::memory_order_acquire) == 0) {
            // Nothing queued: play the task's own wake so the loop never waits on the wakers.
            if (s.transition_to_notified_by_ref() == task_state::to_notified::submit) submit();
            continue;
        }
        queued.fetch_sub(1, std::memory_order_acq_rel);
        if (s.transition_to_running() != task_state::to_running::success) ++wrong_runs;
        ++runs;
        switch (s.transition_to_idle()) {
            case task_state::to_idle::ok: break;
            case task_state::to_idle::ok_notified:
                submit();
                EXPECT_FALSE(s.ref_dec());
                break;
            default: ++wrong_runs; break;
        }
    }
    stop.store(true, std::memory_order_release);
    w1.join();
    w2.join();
    // Drain what the wakers queued last.
    while (queued.load() > 0) {
        queued.fetch_sub(1);
        ASSERT_EQ(s.transition_to_running(), task_state::to_running::success);
        ASSERT_EQ(s.transition_to_idle(), task_state::to_idle::ok);
    }

    EXPECT_EQ(wrong_runs, 0);
    EXPECT_EQ(double_queued.load(), 0) << "two notifications were queued at once";
    auto v = s.load();
    EXPECT_TRUE(v.is_idle());
    EXPECT_FALSE(v.is_notified());
    EXPECT_EQ(v.ref_count(), 2u);
}
