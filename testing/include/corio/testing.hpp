/// \file
/// corio/testing.hpp — coroutine tests in one line: Tokio's #[tokio::test] for GoogleTest.
///
///     #include <corio/testing.hpp>
///
///     CORIO_TEST(channel, delivers_in_order) {                 // a fresh multi_thread runtime
///         auto [tx, rx] = corio::mpsc::channel<int>(8);
///         co_await tx.send(1);
///         auto v = co_await rx.recv();
///         ASSERT_TRUE(v.has_value());                          // ASSERT_* work in the body
///         EXPECT_EQ(*v, 1);
///     }
///
///     CORIO_TEST_WITH(timeouts, fire_on_the_paused_clock,     // options: test_options' fields
///                     .flavor = corio::runtime_flavor::current_thread, .start_paused = true) {
///         auto [tx, rx] = corio::mpsc::channel<int>(1);        // nobody sends
///         auto r = co_await corio::timeout(std::chrono::hours(1), rx.recv());
///         EXPECT_FALSE(r.has_value());                         // at once: the clock jumps 1 h
///     }
///
/// What a test gets: the body is a task<void> spawned on a runtime made for this test alone and
/// dropped after it (Tokio's test macro builds a current_thread runtime; corio's default is the
/// multi_thread one with 2 workers, the shape of a service; pick current_thread for exact
/// interleavings). The body's exceptions fail the test with their what(); so does an exception
/// escaping a detached task spawned by the test.
///
/// ASSERT_* inside a coroutine: GoogleTest's fatal assertions `return` from the enclosing
/// function, which a coroutine cannot do. In a file that includes this header they instead report
/// the failure and throw corio::testing::assertion_failed, which ends the body (its frame is
/// destroyed, as by any exception) and which run_test() recognises as already reported. In a plain
/// TEST of the same file a failed ASSERT_* then also ends the test, and GoogleTest adds a line
/// saying an exception ended it.
///
/// Deadline: a body that has not finished after `deadline` of real time (not the runtime's
/// clock, which a paused test moves by hours) fails the test and is aborted, so a lost wake-up
/// fails one test instead of hanging the suite. The failure carries a dump of every task and what
/// it waits on (runtime::dump(): the test runtime has the task registry on). A body that never
/// reaches a suspension point cannot be aborted: after a further grace period the process is
/// ended with a message.
///
/// Leftover tasks: when the body has finished, every task it spawned must have finished too
/// (within a grace period), or the test fails with the dump of those still alive; a test that
/// means to leave tasks behind says so with `.allow_leftover_tasks = true`.
#pragma once

#include <corio/runtime/runtime.hpp>
#include <corio/runtime/task.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <cstddef>
#include <exception>

namespace corio::testing {

/// The runtime a CORIO_TEST body runs on, and how long it may take. CORIO_TEST_WITH sets the fields
/// by name: `.flavor = corio::runtime_flavor::current_thread, .start_paused = true`.
struct test_options {
    /// multi_thread (the default: 2 workers, the shape of a service) or current_thread (exact
    /// interleavings).
    runtime_flavor flavor = runtime_flavor::multi_thread;
    std::size_t workers = 2;  ///< worker threads; multi_thread only
    /// Start with the clock paused: sleeps and timeouts complete at once, in deadline order, as the
    /// runtime auto-advances the clock when it is idle.
    bool start_paused = false;
    /// Real time (not the runtime's clock) after which the body fails the test and is aborted, so a
    /// lost wake-up fails one test instead of hanging the suite.
    std::chrono::milliseconds deadline{60'000};
    /// A body that ends while tasks it spawned still run fails the test, listing them and what each
    /// waits on (after a grace period of real time in which they may still finish). Set this for
    /// a test that means to leave tasks behind (they are cancelled when the runtime goes).
    bool allow_leftover_tasks = false;
};

/// Thrown by a failed ASSERT_* in a file that includes this header, after GoogleTest recorded the
/// failure; run_test() does not report it again.
class assertion_failed : public std::exception {
public:
    /// Says the failure was already reported.
    const char* what() const noexcept override { return "corio::testing: a fatal assertion failed (reported above)"; }
};

/// Runs `body()` as a task on a fresh runtime made from `options`; reports its failures to the
/// current GoogleTest test. What CORIO_TEST expands to.
void run_test(task<void> (*body)(), const test_options& options);

namespace detail {

// The replacement for GoogleTest's `return`-based fatal failure: report, then throw.
struct fatal_failure_reporter {
    const char* file;
    int line;
    const char* message;
    [[noreturn]] void operator=(const ::testing::Message& streamed) const {
        ::testing::internal::AssertHelper(::testing::TestPartResult::kFatalFailure, file, line, message) = streamed;
        throw assertion_failed();
    }
};

}  // namespace detail
}  // namespace corio::testing

#undef GTEST_FATAL_FAILURE_
/// Replaces GoogleTest's `return`-based fatal failure in the files that include this header: report
/// the failure, then throw assertion_failed, which ends a coroutine body (a coroutine cannot
/// `return` from ASSERT_*).
#define GTEST_FATAL_FAILURE_(message) \
    ::corio::testing::detail::fatal_failure_reporter{__FILE__, __LINE__, message} = ::testing::Message()

/// The name of a test body's coroutine function; used by CORIO_TEST_WITH.
#define CORIO_TESTING_BODY_NAME_(suite, name) corio_test_body_##suite##_##name

/// CORIO_TEST_WITH(suite, name, .field = value, ...) { body }: a GoogleTest test whose body is a
/// coroutine run by run_test with test_options{.field = value, ...}.
#define CORIO_TEST_WITH(suite, name, ...)                                                              \
    static ::corio::task<void> CORIO_TESTING_BODY_NAME_(suite, name)();                              \
    TEST(suite, name) {                                                                               \
        ::corio::testing::run_test(&CORIO_TESTING_BODY_NAME_(suite, name),                           \
                                   ::corio::testing::test_options{__VA_ARGS__});                      \
    }                                                                                                 \
    static ::corio::task<void> CORIO_TESTING_BODY_NAME_(suite, name)()

/// CORIO_TEST(suite, name) { body }: as CORIO_TEST_WITH with the default options.
#define CORIO_TEST(suite, name) CORIO_TEST_WITH(suite, name)
