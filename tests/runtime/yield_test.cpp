// yield_test: yield_now lets other tasks on the same worker run, and the coop budget stops a task
// whose leaves are always ready from starving the others.
#include <corio/runtime/join_handle.hpp>
#include <corio/runtime/runtime.hpp>
#include <corio/runtime/yield_now.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <vector>

namespace {

corio::task<void> log_and_yield(std::vector<int>* log, int who, int rounds) {
    for (int i = 0; i < rounds; ++i) {
        log->push_back(who);  // one worker: tasks never run at the same time
        co_await corio::yield_now();
    }
}

corio::task<std::vector<int>> two_yielders(int rounds) {
    std::vector<int> log;
    auto a = corio::spawn(log_and_yield(&log, 0, rounds));
    auto b = corio::spawn(log_and_yield(&log, 1, rounds));
    auto ra = co_await a;
    auto rb = co_await b;
    if (!ra.has_value() || !rb.has_value()) log.push_back(-1);
    co_return log;
}

TEST(yield_now, two_tasks_on_one_worker_alternate) {
    corio::runtime rt({.worker_threads = 1});
    constexpr int rounds = 50;
    const std::vector<int> log = rt.block_on(two_yielders(rounds));
    ASSERT_EQ(log.size(), 2u * rounds);
    int zeros = 0;
    for (std::size_t i = 0; i < log.size(); ++i) {
        if (log[i] == 0) ++zeros;
        if (i > 0) {
            EXPECT_NE(log[i], log[i - 1]) << "at " << i;
        }
    }
    EXPECT_EQ(zeros, rounds);
}

corio::task<int> answer() { co_return 42; }

// Awaits an already-finished join_handle (always ready) until *stop; returns how many times.
corio::task<std::uint64_t> spin_on_ready(corio::join_handle<int> done, std::atomic<bool>* started,
                                         std::atomic<bool>* stop, std::uint64_t cap) {
    started->store(true);
    std::uint64_t n = 0;
    while (!stop->load() && n < cap) {
        auto r = co_await done;  // ready at once: never leaves the task, except for the budget
        (void)r;
        ++n;
    }
    co_return n;
}

corio::task<void> set_flag(std::atomic<bool>* stop) {
    stop->store(true);
    co_return;
}

corio::task<std::uint64_t> budget_scenario(std::uint64_t cap) {
    std::atomic<bool> started{false};
    std::atomic<bool> stop{false};
    auto done = corio::spawn(answer());
    while (!done.is_finished()) co_await corio::yield_now();
    auto spinner = corio::spawn(spin_on_ready(std::move(done), &started, &stop, cap));
    while (!started.load()) co_await corio::yield_now();
    // The spinner has started and never suspends on its own: only the coop budget lets this
    // task and the setter run on the single worker.
    auto setter = corio::spawn(set_flag(&stop));
    auto rs = co_await setter;
    (void)rs;
    auto r = co_await spinner;
    co_return r.value();
}

TEST(yield_now, coop_budget_stops_always_ready_leaves_from_starving_others) {
    corio::runtime rt({.worker_threads = 1});
    constexpr std::uint64_t cap = 5'000'000;
    const std::uint64_t n = rt.block_on(budget_scenario(cap));
    EXPECT_LT(n, cap);
}

}  // namespace
