// spawn_test: where spawn may be called from (a worker, a plain thread, a runtime_handle) and that
// spawned tasks spread over the workers.
#include <corio/runtime/join_handle.hpp>
#include <corio/runtime/runtime.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;

corio::task<int> answer() { co_return 42; }

corio::task<int> spawn_child_and_await() {
    corio::join_handle<int> h = corio::spawn(answer());
    auto r = co_await h;
    co_return r.value() + 1;
}

corio::task<int> spawn_through_current_handle() {
    corio::runtime_handle rh = corio::runtime_handle::current();
    corio::join_handle<int> h = rh.spawn(answer());
    auto r = co_await h;
    co_return r.value();
}

TEST(spawn, from_a_worker) {
    corio::runtime rt({.worker_threads = 2});
    EXPECT_EQ(rt.block_on(spawn_child_and_await()), 43);
}

TEST(spawn, from_a_plain_thread_through_runtime_handle) {
    corio::runtime rt({.worker_threads = 2});
    int got = 0;
    std::thread th([h = rt.handle(), &got]() mutable {
        corio::join_handle<int> jh = h.spawn(answer());
        got = jh.blocking_join().value();
    });
    th.join();
    EXPECT_EQ(got, 42);
}

TEST(spawn, runtime_handle_current_inside_a_task) {
    corio::runtime rt({.worker_threads = 2});
    EXPECT_EQ(rt.block_on(spawn_through_current_handle()), 42);
}

TEST(spawn, runtime_handle_current_outside_a_runtime_throws) {
    corio::runtime rt({.worker_threads = 1});
    EXPECT_THROW((void)corio::runtime_handle::current(), std::logic_error);
}

TEST(spawn, outside_a_runtime_throws) {
    corio::runtime rt({.worker_threads = 1});
    EXPECT_THROW((void)corio::spawn(answer()), std::logic_error);
}

// Blocks its worker until `peers` tasks have arrived (each on its own worker), or 10 s pass.
corio::task<bool> rendezvous(std::atomic<int>* arrived, int peers, std::mutex* m, std::set<std::thread::id>* ids) {
    {
        std::lock_guard lock(*m);
        ids->insert(std::this_thread::get_id());
    }
    arrived->fetch_add(1);
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (arrived->load() < peers) {
        if (std::chrono::steady_clock::now() > deadline) co_return false;
        std::this_thread::yield();
    }
    co_return true;
}

corio::task<void> record_thread(std::mutex* m, std::set<std::thread::id>* ids, std::atomic<int>* ran) {
    {
        std::lock_guard lock(*m);
        ids->insert(std::this_thread::get_id());
    }
    ran->fetch_add(1);
    co_return;
}

TEST(spawn, many_tasks_run_on_both_workers) {
    corio::runtime rt({.worker_threads = 2});
    std::atomic<int> arrived{0};
    std::mutex m;
    std::set<std::thread::id> ids;
    std::atomic<int> ran{0};
    constexpr int n = 1000;

    // Two tasks that each hold a worker until the other arrives: they can only both succeed if
    // the two workers run tasks at the same time.
    auto r1 = rt.spawn(rendezvous(&arrived, 2, &m, &ids));
    auto r2 = rt.spawn(rendezvous(&arrived, 2, &m, &ids));
    std::vector<corio::join_handle<void>> hs;
    for (int i = 0; i < n; ++i) hs.push_back(rt.spawn(record_thread(&m, &ids, &ran)));
    EXPECT_TRUE(r1.blocking_join().value());
    EXPECT_TRUE(r2.blocking_join().value());
    for (auto& h : hs) EXPECT_TRUE(h.blocking_join().has_value());
    EXPECT_EQ(ran.load(), n);
    std::lock_guard lock(m);
    EXPECT_EQ(ids.size(), 2u);  // both workers, and nothing else
    EXPECT_EQ(ids.count(std::this_thread::get_id()), 0u);
}

}  // namespace
