// small_queues_stress_test: the scheduler with 4-slot local queues (runtime_small_queues_test
// links the runtime built with CORIO_TEST_SMALL_QUEUES=1). A spawn tree and a yield storm keep
// every worker's queue overflowing into the inject queue and being stolen from; every task must
// run to completion exactly once and every join must see its own child's result.
#include "support/stress.hpp"

#include "local_queue.hpp"  // runtime/src: only to check the build's queue size

#include <corio/runtime/join_handle.hpp>
#include <corio/runtime/runtime.hpp>
#include <corio/runtime/yield_now.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <vector>

// The definition is PUBLIC on the variant library, so the library and this test agree.
static_assert(corio::detail::local_queue::capacity == 4, "built against corio_runtime_small_queues");

namespace {

std::atomic<long> g_leaves{0};

// A binary tree of spawned tasks `depth` deep; yields the number of leaves under it.
corio::task<long> tree(int depth, int yields) {
    for (int i = 0; i < yields; ++i) co_await corio::yield_now();
    if (depth == 0) {
        g_leaves.fetch_add(1, std::memory_order_relaxed);
        co_return 1;
    }
    auto left = corio::spawn(tree(depth - 1, yields));
    auto right = corio::spawn(tree(depth - 1, yields));
    auto l = co_await left;
    auto r = co_await right;
    co_return (l ? *l : -1000000) + (r ? *r : -1000000);
}

corio::task<std::uint64_t> yielder(std::uint64_t id, int rounds) {
    for (int i = 0; i < rounds; ++i) co_await corio::yield_now();
    co_return id * 3 + 1;
}

// Spawns `n` yielding tasks at once (far more than the 4 local slots) and joins them in order.
corio::task<long> fan_out(int n, int rounds) {
    std::vector<corio::join_handle<std::uint64_t>> hs;
    hs.reserve(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) hs.push_back(corio::spawn(yielder(static_cast<std::uint64_t>(i), rounds)));
    long wrong = 0;
    for (int i = 0; i < n; ++i) {
        auto r = co_await hs[static_cast<std::size_t>(i)];
        if (!r || *r != static_cast<std::uint64_t>(i) * 3 + 1) ++wrong;
    }
    co_return wrong;
}

}  // namespace

TEST(scheduler, a_spawn_tree_on_two_workers_runs_every_leaf_once) {
    const int depth = CORIO_STRESS_TSAN ? 10 : 13;  // 1024 or 8192 leaves
    corio::testing::hang_guard guard("small-queue spawn tree",
                                     [] { return "leaves " + std::to_string(g_leaves.load()); });
    g_leaves = 0;
    corio::runtime rt({.worker_threads = 2});
    const long leaves = rt.block_on(tree(depth, 2));
    EXPECT_EQ(leaves, 1L << depth);
    EXPECT_EQ(g_leaves.load(), 1L << depth);
}

TEST(scheduler, a_fan_out_far_wider_than_the_local_queue_joins_every_result) {
    const int n = static_cast<int>(corio::testing::iterations(20'000, 3'000));
    corio::testing::hang_guard guard("small-queue fan-out", nullptr);
    for (int workers : {1, 2, 3}) {
        corio::runtime rt({.worker_threads = static_cast<std::size_t>(workers)});
        EXPECT_EQ(rt.block_on(fan_out(n, 3)), 0) << workers << " workers";
    }
}
