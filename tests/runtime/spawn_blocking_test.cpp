// spawn_blocking_test: values and exceptions come back, the work runs off the workers, and the
// pool grows to run blocking jobs concurrently.
#include <corio/runtime/runtime.hpp>
#include <corio/runtime/spawn_blocking.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <latch>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;

struct my_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

std::string read_config() { return "config"; }
int fail() { throw my_error("blocking failed"); }
std::thread::id where() { return std::this_thread::get_id(); }

corio::task<std::string> blocking_value() {
    auto h = corio::spawn_blocking(read_config);
    auto r = co_await h;
    co_return r.value();
}

TEST(spawn_blocking, returns_the_value) {
    corio::runtime rt({.worker_threads = 2});
    EXPECT_EQ(rt.block_on(blocking_value()), "config");
}

corio::task<bool> blocking_exception() {
    auto h = corio::spawn_blocking(fail);
    auto r = co_await h;
    if (r.has_value() || !r.error().is_panic()) co_return false;
    try {
        (void)r.value();
    } catch (const my_error&) {
        co_return true;
    } catch (...) {
    }
    co_return false;
}

TEST(spawn_blocking, exception_propagates) {
    corio::runtime rt({.worker_threads = 2});
    EXPECT_TRUE(rt.block_on(blocking_exception()));
}

corio::task<std::thread::id> blocking_thread() {
    auto h = corio::spawn_blocking(where);
    auto r = co_await h;
    co_return r.value();
}

TEST(spawn_blocking, runs_on_a_thread_that_is_not_a_worker) {
    std::mutex m;
    std::set<std::thread::id> workers;
    corio::runtime rt({.worker_threads = 2, .on_thread_start = [&] {
                           std::lock_guard lock(m);
                           workers.insert(std::this_thread::get_id());
                       }});
    const std::thread::id id = rt.block_on(blocking_thread());
    // Hang guard: both workers record themselves at start, not necessarily before this point.
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    for (;;) {
        {
            std::lock_guard lock(m);
            if (workers.size() == 2 || std::chrono::steady_clock::now() > deadline) break;
        }
        std::this_thread::sleep_for(1ms);
    }
    std::lock_guard lock(m);
    EXPECT_EQ(workers.size(), 2u);
    EXPECT_EQ(workers.count(id), 0u);
    EXPECT_NE(id, std::this_thread::get_id());
}

corio::task<int> four_at_once(std::latch* all_started) {
    std::vector<corio::join_handle<bool>> hs;
    for (int i = 0; i < 4; ++i) {
        hs.push_back(corio::spawn_blocking([all_started] {
            all_started->count_down();
            // Hang guard: succeed only if all four jobs run at the same time.
            const auto deadline = std::chrono::steady_clock::now() + 10s;
            while (!all_started->try_wait()) {
                if (std::chrono::steady_clock::now() > deadline) return false;
                std::this_thread::sleep_for(1ms);
            }
            return true;
        }));
    }
    int ok = 0;
    for (auto& h : hs) {
        auto r = co_await h;
        if (r.value()) ++ok;
    }
    co_return ok;
}

TEST(spawn_blocking, the_pool_grows_to_run_jobs_concurrently) {
    corio::runtime rt({.worker_threads = 1});
    std::latch all_started(4);
    EXPECT_EQ(rt.block_on(four_at_once(&all_started)), 4);
}

TEST(spawn_blocking, runtime_handle_spawns_from_a_plain_thread) {
    corio::runtime rt({.worker_threads = 1});
    auto h = rt.handle().spawn_blocking([] { return 7; });
    auto r = h.blocking_join();
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(*r, 7);
}

}  // namespace
