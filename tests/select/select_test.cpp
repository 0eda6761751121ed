// select_test: corio::select / select_biased — results and handlers, when_some/when_ok disabling, if_
// preconditions, otherwise, biased order, fairness, coroutine and task branches, select loops.
// Cancellation of each branch kind is in select_cancel_test.cpp.
#include <corio/channels/broadcast.hpp>
#include <corio/channels/mpsc.hpp>
#include <corio/channels/oneshot.hpp>
#include <corio/channels/sync/semaphore.hpp>  // before cancellation_token.hpp: see the note below
#include <corio/channels/sync/cancellation_token.hpp>
#include <corio/channels/sync/mutex.hpp>
#include <corio/channels/sync/notify.hpp>
#include <corio/channels/watch.hpp>
#include <corio/runtime/runtime.hpp>
#include <corio/runtime/select.hpp>
#include <corio/runtime/time.hpp>
#include <corio/runtime/yield_now.hpp>

#include <support/pending_forever.hpp>
#include "select_test_support.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

// Note: semaphore.hpp names `detail::batch_semaphore` from namespace corio::sync, which breaks
// once cancellation_token.hpp has declared corio::sync::detail; hence the include order above.

namespace {

using namespace std::chrono_literals;
using corio::testing::eventually;
using corio::testing::pending_then;
using corio::testing::send_later;

// ---------------------------------------------------------------------------------------------
// Results, handlers, filters, preconditions, otherwise

corio::task<int> handlerless_variant(corio::mpsc::receiver<int>* rx) {
    auto r = co_await corio::select(rx->recv(), corio::sleep(10s));
    if (r.index() != 0) co_return -1;
    co_return std::get<0>(r).value_or(-2);
}

TEST(select, without_handlers_yields_a_variant_indexed_by_the_winner) {
    corio::runtime rt({.worker_threads = 2});
    auto [tx, rx] = corio::mpsc::channel<int>(4);
    ASSERT_TRUE(tx.try_send(7).has_value());
    EXPECT_EQ(rt.block_on(handlerless_variant(&rx)), 7);
}

corio::task<std::string> handlers_common_type(corio::mpsc::receiver<int>* rx) {
    std::string r = co_await corio::select(corio::branch(rx->recv(), [](std::optional<int> v) { return std::to_string(*v); }),
                                           corio::branch(corio::sleep(10s), [] { return std::string("timeout"); }));
    co_return r;
}

TEST(select, handler_result_is_what_select_yields) {
    corio::runtime rt({.worker_threads = 2});
    auto [tx, rx] = corio::mpsc::channel<int>(4);
    ASSERT_TRUE(tx.try_send(41).has_value());
    EXPECT_EQ(rt.block_on(handlers_common_type(&rx)), "41");
}

corio::task<int> sleep_wins(corio::mpsc::receiver<int>* rx) {
    int which = 0;
    co_await corio::select(corio::branch(rx->recv(), [&](std::optional<int>) { which = 1; }),
                           corio::branch(corio::sleep(2ms), [&] { which = 2; }));
    co_return which;
}

TEST(select, a_timer_wins_over_an_empty_channel) {
    corio::runtime rt({.worker_threads = 2});
    auto [tx, rx] = corio::mpsc::channel<int>(4);
    EXPECT_EQ(rt.block_on(sleep_wins(&rx)), 2);
    // The losing recv took nothing and left no registration behind that loses the next value.
    ASSERT_TRUE(tx.try_send(5).has_value());
    auto v = rx.try_recv();
    ASSERT_TRUE(v.has_value());
    EXPECT_EQ(*v, 5);
}

corio::task<int> when_some_skips_closed(corio::mpsc::receiver<int>* closed_rx, corio::mpsc::receiver<int>* live_rx) {
    int got = 0;
    co_await corio::select(corio::branch(closed_rx->recv()).when_some([&](int) { got = -1; }),
                           corio::branch(live_rx->recv()).when_some([&](int v) { got = v; }));
    co_return got;
}

TEST(select, when_some_disables_a_closed_branch_and_keeps_waiting_on_the_rest) {
    corio::runtime rt({.worker_threads = 2});
    auto [tx1, rx1] = corio::mpsc::channel<int>(4);
    auto [tx2, rx2] = corio::mpsc::channel<int>(4);
    { auto gone = std::move(tx1); }  // rx1 is closed: recv yields nullopt at once
    rt.spawn(send_later(tx2, 99)).detach();
    EXPECT_EQ(rt.block_on(when_some_skips_closed(&rx1, &rx2)), 99);
}

corio::task<int> when_ok_skips_error(corio::oneshot::receiver<int>* dead, corio::oneshot::receiver<int>* live) {
    int got = 0;
    co_await corio::select(corio::branch(*dead).when_ok([&](int) { got = -1; }),
                           corio::branch(*live).when_ok([&](int v) { got = v; }));
    co_return got;
}

TEST(select, when_ok_disables_a_branch_whose_result_is_an_error) {
    corio::runtime rt({.worker_threads = 2});
    auto [dtx, drx] = corio::oneshot::channel<int>();
    auto [ltx, lrx] = corio::oneshot::channel<int>();
    { auto gone = std::move(dtx); }  // the dead receiver yields recv_error::closed
    ASSERT_TRUE(ltx.send(3).has_value());
    EXPECT_EQ(rt.block_on(when_ok_skips_error(&drx, &lrx)), 3);
}

corio::task<int> precondition(corio::mpsc::receiver<int>* a, corio::mpsc::receiver<int>* b, bool a_enabled) {
    int got = 0;
    co_await corio::select(corio::branch(a->recv(), [&](std::optional<int> v) { got = *v; }).if_(a_enabled),
                           corio::branch(b->recv(), [&](std::optional<int> v) { got = 100 + *v; }));
    co_return got;
}

TEST(select, a_false_precondition_disables_the_branch_before_waiting) {
    corio::runtime rt({.worker_threads = 2});
    auto [ta, ra] = corio::mpsc::channel<int>(4);
    auto [tb, rb] = corio::mpsc::channel<int>(4);
    ASSERT_TRUE(ta.try_send(1).has_value());
    ASSERT_TRUE(tb.try_send(2).has_value());
    for (int i = 0; i < 20; ++i) {
        EXPECT_EQ(rt.block_on(precondition(&ra, &rb, false)), 102);
        ASSERT_TRUE(tb.try_send(2).has_value());
    }
    EXPECT_EQ(ra.len(), 1u);  // never touched
}

corio::task<int> flag_task(std::atomic<int>* started) {
    started->fetch_add(1);
    co_return 1;
}

corio::task<int> disabled_task_branch(std::atomic<int>* started) {
    int got = 0;
    co_await corio::select(corio::branch(flag_task(started), [&](int v) { got = v; }).if_(false),
                           corio::branch(corio::sleep(1ms), [&] { got = 2; }));
    co_return got;
}

TEST(select, a_disabled_task_branch_is_never_spawned) {
    corio::runtime rt({.worker_threads = 2});
    std::atomic<int> started{0};
    EXPECT_EQ(rt.block_on(disabled_task_branch(&started)), 2);
    std::this_thread::sleep_for(5ms);
    EXPECT_EQ(started.load(), 0);
}

corio::task<int> all_closed_runs_otherwise(corio::mpsc::receiver<int>* a, corio::mpsc::receiver<int>* b) {
    int got = 0;
    co_await corio::select(corio::branch(a->recv()).when_some([&](int) { got = 1; }),
                           corio::branch(b->recv()).when_some([&](int) { got = 2; }), corio::otherwise([&] { got = 3; }));
    co_return got;
}

TEST(select, otherwise_runs_when_every_branch_is_disabled) {
    corio::runtime rt({.worker_threads = 2});
    auto [ta, ra] = corio::mpsc::channel<int>(4);
    auto [tb, rb] = corio::mpsc::channel<int>(4);
    { auto g1 = std::move(ta); auto g2 = std::move(tb); }
    EXPECT_EQ(rt.block_on(all_closed_runs_otherwise(&ra, &rb)), 3);
}

corio::task<std::size_t> handlerless_otherwise(corio::mpsc::receiver<int>* a) {
    auto r = co_await corio::select(corio::branch(a->recv()).when_some(), corio::otherwise());
    co_return r.index();
}

TEST(select, without_handlers_otherwise_is_the_last_alternative) {
    corio::runtime rt({.worker_threads = 2});
    auto [ta, ra] = corio::mpsc::channel<int>(4);
    { auto g = std::move(ta); }
    EXPECT_EQ(rt.block_on(handlerless_otherwise(&ra)), 1u);
}

corio::task<bool> all_disabled_throws(corio::mpsc::receiver<int>* a) {
    try {
        co_await corio::select(corio::branch(a->recv()).when_some([](int) {}), corio::branch(corio::sleep(1s), [] {}).if_(false));
    } catch (const corio::all_branches_disabled&) {
        co_return true;
    }
    co_return false;
}

TEST(select, every_branch_disabled_without_otherwise_throws) {
    corio::runtime rt({.worker_threads = 2});
    auto [ta, ra] = corio::mpsc::channel<int>(4);
    { auto g = std::move(ta); }
    EXPECT_TRUE(rt.block_on(all_disabled_throws(&ra)));
}

// ---------------------------------------------------------------------------------------------
// Order and fairness

corio::task<std::vector<int>> biased_loop(corio::mpsc::receiver<int>* a, corio::mpsc::receiver<int>* b, int n) {
    std::vector<int> wins(2, 0);
    for (int i = 0; i < n; ++i) {
        co_await corio::select_biased(corio::branch(a->recv(), [&](std::optional<int>) { ++wins[0]; }),
                                      corio::branch(b->recv(), [&](std::optional<int>) { ++wins[1]; }));
    }
    co_return wins;
}

TEST(select, biased_always_takes_the_first_ready_branch_in_written_order) {
    corio::runtime rt({.worker_threads = 2});
    auto [ta, ra] = corio::mpsc::unbounded_channel<int>();
    auto [tb, rb] = corio::mpsc::unbounded_channel<int>();
    for (int i = 0; i < 1000; ++i) {
        ASSERT_TRUE(ta.send(i).has_value());
        ASSERT_TRUE(tb.send(i).has_value());
    }
    auto wins = rt.block_on(biased_loop(&ra, &rb, 1000));
    EXPECT_EQ(wins[0], 1000);
    EXPECT_EQ(wins[1], 0);
    EXPECT_EQ(rb.len(), 1000u);  // the second branch never consumed anything
    // Once the first is empty, the second wins.
    auto wins2 = rt.block_on(biased_loop(&ra, &rb, 10));
    EXPECT_EQ(wins2[1], 10);
}

corio::task<std::vector<int>> fair_loop(corio::mpsc::receiver<int>* a, corio::mpsc::receiver<int>* b, int n) {
    std::vector<int> wins(2, 0);
    for (int i = 0; i < n; ++i) {
        co_await corio::select(corio::branch(a->recv(), [&](std::optional<int>) { ++wins[0]; }),
                               corio::branch(b->recv(), [&](std::optional<int>) { ++wins[1]; }));
    }
    co_return wins;
}

TEST(select, fair_by_default_both_busy_branches_win_a_fair_share) {
    corio::runtime rt({.worker_threads = 2});
    auto [ta, ra] = corio::mpsc::unbounded_channel<int>();
    auto [tb, rb] = corio::mpsc::unbounded_channel<int>();
    constexpr int n = 2000;
    for (int i = 0; i < n; ++i) {
        ASSERT_TRUE(ta.send(i).has_value());
        ASSERT_TRUE(tb.send(i).has_value());
    }
    auto wins = rt.block_on(fair_loop(&ra, &rb, n));
    EXPECT_EQ(wins[0] + wins[1], n);
    EXPECT_GE(wins[0], n / 4);
    EXPECT_GE(wins[1], n / 4);
    EXPECT_EQ(ra.len() + rb.len(), std::size_t(n));  // exactly one message per select
}

// ---------------------------------------------------------------------------------------------
// Loops, lvalue branches, coroutine handlers

corio::task<void> produce(corio::mpsc::sender<int> tx, int n) {
    for (int i = 0; i < n; ++i) (void)co_await tx.send(i);
}

corio::task<std::vector<int>> drain_two(corio::mpsc::receiver<int>* a, corio::mpsc::receiver<int>* b) {
    std::vector<int> next(2, 0);
    bool ordered = true;
    for (bool done = false; !done;) {
        co_await corio::select(corio::branch(a->recv()).when_some([&](int v) { ordered = ordered && v == next[0]++; }),
                               corio::branch(b->recv()).when_some([&](int v) { ordered = ordered && v == next[1]++; }),
                               corio::otherwise([&] { done = true; }));
    }
    if (!ordered) next.push_back(-1);
    co_return next;
}

TEST(select, a_loop_over_closing_channels_ends_in_otherwise_with_everything_received) {
    corio::runtime rt({.worker_threads = 2});
    auto [ta, ra] = corio::mpsc::channel<int>(16);
    auto [tb, rb] = corio::mpsc::channel<int>(16);
    rt.spawn(produce(std::move(ta), 5000)).detach();
    rt.spawn(produce(std::move(tb), 3000)).detach();
    auto next = rt.block_on(drain_two(&ra, &rb));
    ASSERT_EQ(next.size(), 2u) << "per-channel order broken";
    EXPECT_EQ(next[0], 5000);
    EXPECT_EQ(next[1], 3000);
}

corio::task<int> deadline_loop(corio::mpsc::receiver<int>* rx) {
    auto deadline = corio::sleep(20ms);  // one deadline for the whole loop (Tokio's `&mut sleep`)
    int received = 0;
    for (;;) {
        bool expired = false;
        co_await corio::select(corio::branch(rx->recv()).when_some([&](int) { ++received; }),
                               corio::branch(deadline, [&] { expired = true; }));
        if (expired) break;
    }
    co_return received;
}

TEST(select, an_lvalue_branch_keeps_its_registration_across_iterations) {
    corio::runtime rt({.worker_threads = 2});
    auto [tx, rx] = corio::mpsc::channel<int>(16);
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(tx.try_send(i).has_value());
    EXPECT_EQ(rt.block_on(deadline_loop(&rx)), 10);
}

corio::task<int> add_later(int v) {
    co_await corio::yield_now();
    co_return v + 1000;
}

corio::task<int> coroutine_handler(corio::mpsc::receiver<int>* rx) {
    int r = co_await corio::select(corio::branch(rx->recv()).when_some([](int v) { return add_later(v); }),
                                   corio::branch(corio::sleep(10s), [] { return -1; }));
    co_return r;
}

TEST(select, a_coroutine_handler_is_awaited_and_its_value_returned) {
    corio::runtime rt({.worker_threads = 2});
    auto [tx, rx] = corio::mpsc::channel<int>(4);
    ASSERT_TRUE(tx.try_send(5).has_value());
    EXPECT_EQ(rt.block_on(coroutine_handler(&rx)), 1005);
}

corio::task<std::string> handler_capturing_by_value(corio::mpsc::receiver<int>* rx) {
    const std::string prefix = "value=";
    auto h = [prefix](int v) { return prefix + std::to_string(v); };  // named: no temporary closure
    std::string r = co_await corio::select(corio::branch(rx->recv()).when_some(h), corio::otherwise([] { return std::string(); }));
    co_return r;
}

TEST(select, a_named_handler_with_owning_captures_is_copied_in) {
    corio::runtime rt({.worker_threads = 2});
    auto [tx, rx] = corio::mpsc::channel<int>(4);
    ASSERT_TRUE(tx.try_send(9).has_value());
    EXPECT_EQ(rt.block_on(handler_capturing_by_value(&rx)), "value=9");
}

}  // namespace
