// metrics_test: runtime::metrics() counts what the runtime did — polls, spawns and completions,
// steals, parks, inject-queue traffic, armed timers, blocking threads, the opt-in poll-time
// histogram — on both flavours, and since() subtracts two snapshots.
//
// Levels that settle asynchronously (a task's completion is recorded just after its join handle
// is woken; a timer is armed at the task's first poll) are waited for with settle(), whose bound
// only catches a hang.
#include <corio/runtime/join_handle.hpp>
#include <corio/runtime/runtime.hpp>
#include <corio/runtime/spawn_blocking.hpp>
#include <corio/runtime/time.hpp>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;

// Waits until `pred(rt.metrics())` holds; false after 20 s (a hang).
bool settle(corio::runtime& rt, const std::function<bool(const corio::runtime_metrics&)>& pred) {
    const auto give_up = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < give_up) {
        if (pred(rt.metrics())) return true;
        std::this_thread::sleep_for(1ms);
    }
    return false;
}

corio::task<int> one() { co_return 1; }

corio::task<int> spawn_and_sum(int n) {
    std::vector<corio::join_handle<int>> hs;
    for (int i = 0; i < n; ++i) hs.push_back(corio::spawn(one()));
    int sum = 0;
    for (auto& h : hs) sum += (co_await h).value();
    co_return sum;
}

TEST(runtime_metrics, polls_spawns_and_completions_are_counted) {
    corio::runtime rt({.worker_threads = 2});
    const corio::runtime_metrics before = rt.metrics();
    ASSERT_EQ(before.workers.size(), 2u);
    EXPECT_EQ(before.workers[0].index, 0u);
    EXPECT_EQ(before.workers[1].index, 1u);
    EXPECT_EQ(before.spawned_tasks, 0u);
    EXPECT_EQ(before.alive_tasks, 0u);

    EXPECT_EQ(rt.block_on(spawn_and_sum(100)), 100);
    // The root task and its 100 children: each polled at least once, all complete.
    ASSERT_TRUE(settle(rt, [](const auto& m) { return m.alive_tasks == 0; }));
    const corio::runtime_metrics after = rt.metrics();
    EXPECT_EQ(after.spawned_tasks, 101u);
    EXPECT_GE(after.total_polls(), 101u);
    // A task spawned by a task on a worker is queued on that worker.
    std::uint64_t local = 0;
    for (const auto& w : after.workers) local += w.local_schedules;
    EXPECT_GE(local, 100u);
    // The root came from this (non-worker) thread: through the inject queue.
    EXPECT_GE(after.remote_schedules, 1u);
    EXPECT_EQ(after.inject_queue_depth, 0u);
}

TEST(runtime_metrics, spawns_from_a_plain_thread_go_through_the_inject_queue) {
    corio::runtime rt({.worker_threads = 2});
    const std::uint64_t before = rt.metrics().remote_schedules;
    std::vector<corio::join_handle<int>> hs;
    for (int i = 0; i < 20; ++i) hs.push_back(rt.spawn(one()));
    for (auto& h : hs) EXPECT_EQ(h.blocking_join().value(), 1);
    EXPECT_GE(rt.metrics().remote_schedules - before, 20u);
}

// The first task to run blocks its worker until a task runs on another thread, which can only
// happen if the other worker steals from the first one's queue.
corio::task<void> spin_until_seen_elsewhere(std::atomic<std::thread::id>* first, std::atomic<bool>* elsewhere) {
    std::thread::id none{};
    const std::thread::id me = std::this_thread::get_id();
    if (first->compare_exchange_strong(none, me)) {
        const auto give_up = std::chrono::steady_clock::now() + 20s;
        while (!elsewhere->load() && std::chrono::steady_clock::now() < give_up) std::this_thread::yield();
    } else if (first->load() != me) {
        elsewhere->store(true);
    }
    co_return;
}

corio::task<bool> spawn_spinners(std::atomic<std::thread::id>* first, std::atomic<bool>* elsewhere) {
    std::vector<corio::join_handle<void>> hs;
    for (int i = 0; i < 16; ++i) hs.push_back(corio::spawn(spin_until_seen_elsewhere(first, elsewhere)));
    for (auto& h : hs) (void)co_await h;
    co_return elsewhere->load();
}

TEST(runtime_metrics, a_steal_is_counted_with_the_tasks_it_moved) {
    corio::runtime rt({.worker_threads = 2});
    std::atomic<std::thread::id> first{};
    std::atomic<bool> elsewhere{false};
    ASSERT_TRUE(rt.block_on(spawn_spinners(&first, &elsewhere))) << "no task ran on a second worker within 20 s";
    const corio::runtime_metrics m = rt.metrics();
    std::uint64_t operations = 0;
    for (const auto& w : m.workers) {
        operations += w.steal_operations;
        EXPECT_GE(w.stolen_tasks, w.steal_operations);  // each steal moves at least one task
    }
    EXPECT_GE(operations, 1u);
    EXPECT_GE(m.total_stolen_tasks(), 1u);
}

TEST(runtime_metrics, an_idle_worker_parks_and_busy_time_accumulates) {
    corio::runtime rt({.worker_threads = 2});
    EXPECT_EQ(rt.block_on(spawn_and_sum(50)), 50);
    // With nothing to do, both workers end up parked (each park is counted as it starts).
    ASSERT_TRUE(settle(rt, [](const auto& m) { return m.workers[0].parks > 0 && m.workers[1].parks > 0; }));
    EXPECT_GT(rt.metrics().total_busy().count(), 0);
}

corio::task<void> sleep_an_hour() { co_await corio::sleep(1h); }

TEST(runtime_metrics, armed_timers_are_the_sleeps_waiting_in_the_wheel) {
    corio::runtime rt({.worker_threads = 2});
    std::vector<corio::join_handle<void>> hs;
    for (int i = 0; i < 5; ++i) hs.push_back(rt.spawn(sleep_an_hour()));
    ASSERT_TRUE(settle(rt, [](const auto& m) { return m.timers_armed == 5; }));
    EXPECT_EQ(rt.metrics().alive_tasks, 5u);
    for (auto& h : hs) h.abort();
    ASSERT_TRUE(settle(rt, [](const auto& m) { return m.timers_armed == 0 && m.alive_tasks == 0; }));
}

TEST(runtime_metrics, blocking_threads_and_their_queue_are_counted) {
    corio::runtime rt({.worker_threads = 1, .max_blocking_threads = 1});
    std::atomic<bool> release{false};
    std::atomic<int> started{0};
    auto job = [&] {
        started.fetch_add(1);
        while (!release.load()) std::this_thread::sleep_for(1ms);
        return 1;
    };
    auto a = rt.handle().spawn_blocking(job);
    auto b = rt.handle().spawn_blocking(job);  // waits: the pool has one thread
    ASSERT_TRUE(settle(rt, [&](const auto& m) { return started.load() == 1 && m.blocking_queue_depth == 1; }));
    const corio::runtime_metrics m = rt.metrics();
    EXPECT_EQ(m.blocking_threads, 1u);
    EXPECT_EQ(m.idle_blocking_threads, 0u);
    release.store(true);
    EXPECT_EQ(a.blocking_join().value(), 1);
    EXPECT_EQ(b.blocking_join().value(), 1);
    ASSERT_TRUE(settle(rt, [](const auto& m) { return m.blocking_queue_depth == 0 && m.idle_blocking_threads == 1; }));
}

TEST(runtime_metrics, the_poll_time_histogram_is_off_by_default) {
    corio::runtime rt({.worker_threads = 2});
    EXPECT_EQ(rt.block_on(spawn_and_sum(20)), 20);
    for (const auto& w : rt.metrics().workers) EXPECT_EQ(w.poll_times.total(), 0u);
}

TEST(runtime_metrics, the_poll_time_histogram_when_on_has_one_entry_per_poll) {
    corio::runtime rt({.worker_threads = 2, .enable_poll_time_histogram = true});
    EXPECT_EQ(rt.block_on(spawn_and_sum(200)), 200);
    ASSERT_TRUE(settle(rt, [](const auto& m) { return m.alive_tasks == 0; }));
    ASSERT_TRUE(settle(rt, [](const auto& m) { return m.workers[0].parks > 0 && m.workers[1].parks > 0; }));
    const corio::runtime_metrics m = rt.metrics();
    std::uint64_t entries = 0;
    for (const auto& w : m.workers) {
        EXPECT_EQ(w.poll_times.total(), w.polls) << "worker " << w.index;
        entries += w.poll_times.total();
    }
    EXPECT_GE(entries, 201u);
    EXPECT_EQ(corio::poll_time_histogram::bucket_start(0), 0us);
    EXPECT_EQ(corio::poll_time_histogram::bucket_start(1), 1us);
    EXPECT_EQ(corio::poll_time_histogram::bucket_start(11), 1024us);
}

TEST(runtime_metrics, since_subtracts_counters_and_keeps_levels) {
    corio::runtime rt({.worker_threads = 2});
    EXPECT_EQ(rt.block_on(spawn_and_sum(10)), 10);
    ASSERT_TRUE(settle(rt, [](const auto& m) { return m.alive_tasks == 0; }));
    const corio::runtime_metrics a = rt.metrics();
    std::vector<corio::join_handle<void>> sleepers;
    sleepers.push_back(rt.spawn(sleep_an_hour()));
    EXPECT_EQ(rt.block_on(spawn_and_sum(30)), 30);
    ASSERT_TRUE(settle(rt, [](const auto& m) { return m.timers_armed == 1 && m.alive_tasks == 1; }));
    const corio::runtime_metrics d = rt.metrics().since(a);
    EXPECT_EQ(d.spawned_tasks, 32u);  // the sleeper, the root, 30 children
    EXPECT_GE(d.total_polls(), 32u);
    EXPECT_LT(d.total_polls(), rt.metrics().total_polls());
    EXPECT_EQ(d.timers_armed, 1u);  // a level: as in the later snapshot
    EXPECT_EQ(d.alive_tasks, 1u);
    sleepers[0].abort();
}

// Snapshots taken on another thread while the workers spawn, steal and park (TSan runs this):
// every counter only grows from one snapshot to the next.
TEST(runtime_metrics, snapshots_taken_while_the_workers_run_only_see_counters_grow) {
    corio::runtime rt({.worker_threads = 2});
    std::atomic<bool> done{false};
    std::atomic<int> regressions{0};
    std::atomic<int> snapshots{0};
    std::thread reader([&] {
        corio::runtime_metrics prev = rt.metrics();
        while (!done.load()) {
            corio::runtime_metrics m = rt.metrics();
            for (std::size_t i = 0; i < m.workers.size(); ++i) {
                const auto& a = prev.workers[i];
                const auto& b = m.workers[i];
                if (b.polls < a.polls || b.parks < a.parks || b.stolen_tasks < a.stolen_tasks ||
                    b.local_schedules < a.local_schedules || b.busy < a.busy)
                    regressions.fetch_add(1);
            }
            if (m.spawned_tasks < prev.spawned_tasks || m.remote_schedules < prev.remote_schedules)
                regressions.fetch_add(1);
            prev = std::move(m);
            snapshots.fetch_add(1);
        }
    });
    for (int round = 0; round < 20; ++round) EXPECT_EQ(rt.block_on(spawn_and_sum(500)), 500);
    done.store(true);
    reader.join();
    EXPECT_EQ(regressions.load(), 0);
    EXPECT_GT(snapshots.load(), 0);
    EXPECT_EQ(rt.metrics().spawned_tasks, 20u * 501u);
}

TEST(runtime_metrics, snapshots_format_with_fmt) {
    corio::runtime_metrics m;
    m.workers.resize(2);
    m.workers[1].index = 1;
    m.workers[1].polls = 7;
    m.workers[1].lifo_polls = 3;
    m.workers[1].steal_operations = 1;
    m.workers[1].stolen_tasks = 4;
    m.workers[1].busy = 1500us;
    m.workers[0].polls = 5;
    m.spawned_tasks = 12;
    m.alive_tasks = 2;
    m.blocking_threads = 3;
    m.idle_blocking_threads = 1;
    EXPECT_EQ(fmt::format("{}", m.workers[1]),
              "worker 1: polls=7 lifo=3 local=0 overflows=0 steals=1/4 parks=0 idle_unparks=0 busy=1.5ms queue=0 "
              "io_in_flight=0");
    EXPECT_EQ(fmt::format("{}", m),
              "runtime: workers=2 polls=12 parks=0 stolen=4 busy=1.5ms alive=2 spawned=12 remote_schedules=0 inject=0 "
              "timers=0 io_registrations=0 blocking=2/3 blocking_queue=0");
}

TEST(runtime_metrics, current_thread_counts_on_its_one_worker) {
    corio::runtime rt({.flavor = corio::runtime_flavor::current_thread});
    EXPECT_EQ(rt.block_on(spawn_and_sum(40)), 40);
    const corio::runtime_metrics m = rt.metrics();
    ASSERT_EQ(m.workers.size(), 1u);
    EXPECT_GE(m.workers[0].polls, 41u);
    EXPECT_EQ(m.workers[0].steal_operations, 0u);
    EXPECT_EQ(m.spawned_tasks, 41u);
}

}  // namespace
