// join_handle_test: values, exceptions, abort (parked and running tasks), detach, the
// unhandled-exception hook and blocking_join.
#include "support/pending_forever.hpp"
#include "support/test_event.hpp"

#include <corio/runtime/join_handle.hpp>
#include <corio/runtime/runtime.hpp>
#include <corio/runtime/yield_now.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <exception>
#include <stdexcept>
#include <string>
#include <thread>

namespace {

using namespace std::chrono_literals;

struct my_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Increments *count when destroyed: shows a frame was destroyed, and how many times.
struct raii_guard {
    std::atomic<int>* count;
    ~raii_guard() { count->fetch_add(1); }
};

// Yields the task until *counter > threshold; false after a generous hang guard.
corio::task<bool> wait_above(std::atomic<int>* counter, int threshold) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (counter->load() <= threshold) {
        if (std::chrono::steady_clock::now() > deadline) co_return false;
        co_await corio::yield_now();
    }
    co_return true;
}

// Yields the task until the handle's task has finished; false after a generous hang guard.
template <class T>
corio::task<bool> wait_finished(const corio::join_handle<T>* h) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!h->is_finished()) {
        if (std::chrono::steady_clock::now() > deadline) co_return false;
        co_await corio::yield_now();
    }
    co_return true;
}

template <class F>
bool wait_until(F cond) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!cond()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(1ms);
    }
    return true;
}

corio::task<std::string> hello() { co_return std::string("hello"); }

corio::task<int> throws_my_error() {
    throw my_error("original");
    co_return 0;
}

corio::task<void> parked(std::atomic<int>* guards, std::atomic<int>* leaf_destroyed, std::atomic<int>* polled) {
    raii_guard g{guards};
    co_await corio::testing::pending_forever(leaf_destroyed, polled);
}

corio::task<void> spinning(std::atomic<int>* guards, std::atomic<int>* iterations) {
    raii_guard g{guards};
    for (;;) {
        iterations->fetch_add(1);
        co_await corio::yield_now();
    }
}

corio::task<int> waits_then_returns(corio::testing::test_event* ev, int v) {
    co_await ev->wait();
    co_return v;
}

corio::task<void> yields_then_sets(std::atomic<bool>* done) {
    for (int i = 0; i < 10; ++i) co_await corio::yield_now();
    done->store(true);
}

corio::task<void> throws_detached() {
    co_await corio::yield_now();
    throw my_error("nobody reads me");
}

corio::task<std::string> join_value() {
    auto h = corio::spawn(hello());
    auto r = co_await h;
    co_return r.value();
}

TEST(join_handle, yields_the_value) {
    corio::runtime rt({.worker_threads = 2});
    EXPECT_EQ(rt.block_on(join_value()), "hello");
}

corio::task<bool> join_panic() {
    auto h = corio::spawn(throws_my_error());
    auto r = co_await h;
    if (r.has_value() || !r.error().is_panic() || r.error().is_cancelled()) co_return false;
    try {
        (void)r.value();
    } catch (const my_error& e) {
        co_return std::string(e.what()) == "original";
    } catch (...) {
    }
    co_return false;
}

TEST(join_handle, exception_is_panic_and_value_rethrows_the_original) {
    corio::runtime rt({.worker_threads = 2});
    EXPECT_TRUE(rt.block_on(join_panic()));
}

corio::task<bool> abort_parked(std::atomic<int>* guards, std::atomic<int>* leaf_destroyed) {
    std::atomic<int> polled{0};
    auto h = corio::spawn(parked(guards, leaf_destroyed, &polled));
    bool ok = co_await wait_above(&polled, 0);
    if (!ok) co_return false;
    h.abort();
    auto r = co_await h;
    co_return !r.has_value() && r.error().is_cancelled() && !r.error().is_panic();
}

TEST(join_handle, abort_of_a_parked_task_cancels_it_and_runs_destructors_once) {
    std::atomic<int> guards{0};
    std::atomic<int> leaf_destroyed{0};
    {
        corio::runtime rt({.worker_threads = 2});
        EXPECT_TRUE(rt.block_on(abort_parked(&guards, &leaf_destroyed)));
        EXPECT_EQ(guards.load(), 1);
        EXPECT_EQ(leaf_destroyed.load(), 1);
    }
    EXPECT_EQ(guards.load(), 1);  // not again at shutdown
    EXPECT_EQ(leaf_destroyed.load(), 1);
}

corio::task<int> abort_spinning(std::atomic<int>* guards) {
    std::atomic<int> iterations{0};
    auto h = corio::spawn(spinning(guards, &iterations));
    bool ok = co_await wait_above(&iterations, 10);
    if (!ok) co_return -1;
    h.abort();
    auto r = co_await h;
    if (r.has_value() || !r.error().is_cancelled()) co_return -2;
    co_return guards->load();
}

TEST(join_handle, abort_of_a_running_task_cancels_it_at_its_next_suspension) {
    std::atomic<int> guards{0};
    corio::runtime rt({.worker_threads = 2});
    EXPECT_EQ(rt.block_on(abort_spinning(&guards)), 1);
}

TEST(join_handle, abort_of_a_running_task_on_one_worker) {
    std::atomic<int> guards{0};
    corio::runtime rt({.worker_threads = 1});
    EXPECT_EQ(rt.block_on(abort_spinning(&guards)), 1);
}

corio::task<std::string> abort_after_completion() {
    auto h = corio::spawn(hello());
    bool ok = co_await wait_finished(&h);
    if (!ok) co_return "timeout";
    h.abort();
    auto r = co_await h;
    co_return r.value();
}

TEST(join_handle, abort_after_completion_keeps_the_value) {
    corio::runtime rt({.worker_threads = 2});
    EXPECT_EQ(rt.block_on(abort_after_completion()), "hello");
}

corio::task<int> finished_flag() {
    corio::testing::test_event ev;
    auto h = corio::spawn(waits_then_returns(&ev, 7));
    co_await corio::yield_now();
    if (h.is_finished()) co_return -1;
    ev.set();
    bool ok = co_await wait_finished(&h);
    if (!ok) co_return -2;
    auto r = co_await h;
    co_return r.value();
}

TEST(join_handle, is_finished) {
    corio::runtime rt({.worker_threads = 2});
    EXPECT_EQ(rt.block_on(finished_flag()), 7);
    corio::join_handle<int> empty;
    EXPECT_FALSE(empty.is_finished());
}

TEST(join_handle, detach_lets_the_task_run_to_completion) {
    corio::runtime rt({.worker_threads = 2});
    std::atomic<bool> done1{false};
    std::atomic<bool> done2{false};
    rt.spawn(yields_then_sets(&done1)).detach();
    {
        auto dropped = rt.spawn(yields_then_sets(&done2));
    }
    EXPECT_TRUE(wait_until([&] { return done1.load() && done2.load(); }));
}

TEST(join_handle, detached_exception_goes_to_the_hook_and_the_runtime_carries_on) {
    std::atomic<int> reported{0};
    std::atomic<bool> was_my_error{false};
    corio::runtime rt({.worker_threads = 2, .unhandled_exception = [&](std::exception_ptr e) {
                           try {
                               std::rethrow_exception(e);
                           } catch (const my_error&) {
                               was_my_error.store(true);
                           } catch (...) {
                           }
                           reported.fetch_add(1);
                       }});
    rt.spawn(throws_detached()).detach();
    EXPECT_TRUE(wait_until([&] { return reported.load() == 1; }));
    EXPECT_TRUE(was_my_error.load());
    EXPECT_EQ(rt.block_on(hello()), "hello");
    EXPECT_EQ(reported.load(), 1);
}

TEST(join_handle, blocking_join_from_a_plain_thread) {
    corio::runtime rt({.worker_threads = 2});
    auto h = rt.spawn(hello());
    EXPECT_EQ(h.blocking_join().value(), "hello");
    auto e = rt.spawn(throws_my_error());
    EXPECT_THROW((void)e.blocking_join().value(), my_error);
}

}  // namespace
