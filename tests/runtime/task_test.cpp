// task_test: task<T> awaiting, values, exceptions, and that deep chains don't grow the stack.
#include <corio/runtime/runtime.hpp>
#include <corio/runtime/yield_now.hpp>

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <thread>

namespace {

corio::task<int> answer() { co_return 42; }

corio::task<int> add_one_to(int x) {
    int v = co_await answer();
    co_return v + x;
}

corio::task<void> thrower() {
    throw std::runtime_error("boom");
    co_return;
}

corio::task<std::uint64_t> recurse(std::uint64_t n) {
    if (n == 0) co_return 0;
    std::uint64_t below = co_await recurse(n - 1);
    co_return below + 1;
}

corio::task<std::uint64_t> sync_loop(std::uint64_t n) {
    std::uint64_t sum = 0;
    for (std::uint64_t i = 0; i < n; ++i) sum += static_cast<std::uint64_t>(co_await answer());
    co_return sum;
}

TEST(task, returns_value_through_block_on) {
    corio::runtime rt({.worker_threads = 2});
    EXPECT_EQ(rt.block_on(add_one_to(1)), 43);
}

TEST(task, exception_propagates_to_awaiter) {
    corio::runtime rt({.worker_threads = 2});
    auto outer = []() -> corio::task<std::string> {
        try {
            co_await thrower();
        } catch (const std::runtime_error& e) {
            co_return std::string(e.what());
        }
        co_return std::string("no exception");
    };
    EXPECT_EQ(rt.block_on(outer()), "boom");
}

TEST(task, exception_propagates_out_of_block_on) {
    corio::runtime rt({.worker_threads = 1});
    EXPECT_THROW(rt.block_on(thrower()), std::runtime_error);
}

TEST(task, million_deep_recursion_does_not_grow_the_stack) {
    corio::runtime rt({.worker_threads = 1});
    EXPECT_EQ(rt.block_on(recurse(1'000'000)), 1'000'000u);
}

TEST(task, ten_million_synchronous_awaits_do_not_grow_the_stack) {
    corio::runtime rt({.worker_threads = 1});
    EXPECT_EQ(rt.block_on(sync_loop(10'000'000)), 420'000'000u);
}

TEST(task, current_thread_runs_on_the_calling_thread) {
    corio::runtime rt({.flavor = corio::runtime_flavor::current_thread});
    auto here = std::this_thread::get_id();
    auto where = []() -> corio::task<std::thread::id> {
        co_await corio::yield_now();
        co_return std::this_thread::get_id();
    };
    EXPECT_EQ(rt.block_on(where()), here);
}

}  // namespace
