// corio_test_test: CORIO_TEST (corio/testing.hpp). Bodies that pass run as coroutines on their
// own runtime with the options asked for; failures — a failed ASSERT_* inside the coroutine, an
// exception, a detached task's exception, a body that waits forever, a task left running — are
// caught with GoogleTest's spi as exactly the failures expected, and a failed ASSERT_* ends the
// body.
#include <corio/testing.hpp>

#include <corio/channels/mpsc.hpp>
#include <corio/runtime/join_handle.hpp>
#include <corio/runtime/time.hpp>
#include <corio/runtime/timeout.hpp>
#include <corio/runtime/yield_now.hpp>

#include <gtest/gtest-spi.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <thread>

using namespace std::chrono_literals;

namespace {

corio::task<int> child(int v) {
    co_await corio::sleep(1ms);
    co_return v * 2;
}

}  // namespace

CORIO_TEST(corio_test, the_body_is_a_coroutine_on_a_runtime_of_its_own) {
    auto h = corio::spawn(child(21));
    auto r = co_await h;
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(*r, 42);
    auto [tx, rx] = corio::mpsc::channel<int>(4);
    EXPECT_TRUE((co_await tx.send(7)).has_value());
    auto v = co_await rx.recv();
    ASSERT_TRUE(v.has_value());
    EXPECT_EQ(*v, 7);
}

CORIO_TEST_WITH(corio_test, a_paused_current_thread_runtime_moves_its_clock_only_by_timers,
                .flavor = corio::runtime_flavor::current_thread, .start_paused = true) {
    const auto t0 = corio::time::now();
    auto [tx, rx] = corio::mpsc::channel<int>(1);  // nobody sends
    auto r = co_await corio::timeout(1h, rx.recv());
    EXPECT_FALSE(r.has_value());
    EXPECT_EQ(corio::time::now() - t0, std::chrono::nanoseconds(1h));
    (void)tx;
}

// --- failures, checked as expected failures -------------------------------------------------------

namespace {

std::atomic<bool> g_after_assert{false};
std::atomic<bool> g_frame_destroyed{false};

struct frame_flag {
    std::atomic<bool>* flag;
    ~frame_flag() { flag->store(true); }
};

corio::task<void> body_with_failing_assert() {
    co_await corio::yield_now();
    ASSERT_EQ(1, 2) << "streamed detail";
    g_after_assert = true;
}

void helper_that_asserts(int v) { ASSERT_GT(v, 10) << "from a plain function"; }

corio::task<void> body_calling_an_asserting_helper() {
    co_await corio::yield_now();
    helper_that_asserts(3);
    g_after_assert = true;  // the helper's ASSERT ended the body, not just the helper
}

corio::task<void> body_that_throws() {
    co_await corio::yield_now();
    throw std::runtime_error("boom from the body");
}

corio::task<void> detached_thrower() {
    co_await corio::yield_now();
    throw std::runtime_error("boom from a detached task");
}

corio::task<void> body_detaching_a_thrower() {
    corio::spawn(detached_thrower()).detach();
    co_await corio::sleep(20ms);
}

corio::task<void> body_waiting_forever() {
    frame_flag f{&g_frame_destroyed};
    auto [tx, rx] = corio::mpsc::channel<int>(1);
    (void)co_await rx.recv();  // tx is alive in this frame: never ends
    (void)tx;
}

void run_failing_assert() { corio::testing::run_test(&body_with_failing_assert, {}); }
void run_asserting_helper() { corio::testing::run_test(&body_calling_an_asserting_helper, {}); }
void run_thrower() { corio::testing::run_test(&body_that_throws, {}); }
void run_detached_thrower() { corio::testing::run_test(&body_detaching_a_thrower, {}); }
void run_forever() { corio::testing::run_test(&body_waiting_forever, {.deadline = 200ms}); }

// A spawned task that waits on a channel whose sender outlives the body: it is still running
// when the body ends. The sender is reset by the test after run_test returns.
std::optional<corio::mpsc::sender<int>> g_kept_sender;

corio::task<void> wait_for_one(corio::mpsc::receiver<int> rx) { (void)co_await rx.recv(); }

corio::task<void> body_leaving_a_task_behind() {
    auto [tx, rx] = corio::mpsc::channel<int>(3);
    g_kept_sender.emplace(std::move(tx));
    corio::task_builder().name("left-behind").spawn(wait_for_one(std::move(rx))).detach();
    co_await corio::yield_now();
}

void run_leaving_a_task() { corio::testing::run_test(&body_leaving_a_task_behind, {}); }

}  // namespace

TEST(corio_test, a_failed_assert_in_the_coroutine_is_one_fatal_failure_and_ends_the_body) {
    g_after_assert = false;
    EXPECT_FATAL_FAILURE_ON_ALL_THREADS(run_failing_assert(), "streamed detail");
    EXPECT_FALSE(g_after_assert.load());
}

TEST(corio_test, a_failed_assert_in_a_function_the_body_calls_ends_the_body) {
    g_after_assert = false;
    EXPECT_FATAL_FAILURE_ON_ALL_THREADS(run_asserting_helper(), "from a plain function");
    EXPECT_FALSE(g_after_assert.load());
}

TEST(corio_test, an_exception_from_the_body_fails_the_test_with_its_message) {
    EXPECT_NONFATAL_FAILURE_ON_ALL_THREADS(run_thrower(), "boom from the body");
}

TEST(corio_test, an_exception_from_a_detached_task_fails_the_test) {
    EXPECT_NONFATAL_FAILURE_ON_ALL_THREADS(run_detached_thrower(), "boom from a detached task");
}

TEST(corio_test, a_body_past_its_deadline_fails_and_is_aborted) {
    g_frame_destroyed = false;
    EXPECT_NONFATAL_FAILURE_ON_ALL_THREADS(run_forever(), "deadline");
    EXPECT_TRUE(g_frame_destroyed.load()) << "the aborted body's frame was destroyed";
}

TEST(corio_test, the_deadline_failure_says_what_the_body_waited_on) {
    EXPECT_NONFATAL_FAILURE_ON_ALL_THREADS(run_forever(), "waiting on: recv on mpsc channel (0 of 1 queued, 1 senders alive)");
}

TEST(corio_test, a_task_left_running_after_the_body_fails_the_test_and_is_listed) {
    EXPECT_NONFATAL_FAILURE_ON_ALL_THREADS(run_leaving_a_task(), "'left-behind' [suspended]");
    g_kept_sender.reset();
}

TEST(corio_test, allow_leftover_tasks_lets_a_test_leave_tasks_behind) {
    corio::testing::run_test(&body_leaving_a_task_behind, {.allow_leftover_tasks = true});
    g_kept_sender.reset();
}
