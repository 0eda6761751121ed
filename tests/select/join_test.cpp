// join_test: corio::join / try_join / race / first_of — result tuples and variants, task arguments spawned and joined, the first error (or exception) cancelling the rest, race losers left intact, and cancellation of a pending join.
#include <corio/channels/mpsc.hpp>
#include <corio/channels/oneshot.hpp>
#include <corio/runtime/join.hpp>
#include <corio/runtime/runtime.hpp>
#include <corio/runtime/time.hpp>
#include <corio/runtime/yield_now.hpp>

#include <support/pending_forever.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <variant>

namespace {

using namespace std::chrono_literals;

template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = 5000ms) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (!pred()) {
        if (std::chrono::steady_clock::now() > end) return false;
        std::this_thread::sleep_for(1ms);
    }
    return true;
}

corio::task<int> value_after(int v, std::chrono::milliseconds d) {
    co_await corio::sleep(d);
    co_return v;
}

corio::task<void> send_later(corio::mpsc::sender<int> tx, int v, std::chrono::milliseconds d) {
    co_await corio::sleep(d);
    (void)co_await tx.send(v);
}

corio::task<int> parked_forever(std::atomic<int>* destroyed) {
    co_await corio::testing::pending_forever(destroyed);
    co_return 0;
}

corio::task<int> throws_after(std::chrono::milliseconds d) {
    co_await corio::sleep(d);
    throw std::runtime_error("boom");
}

// ---------------------------------------------------------------------------------------------
// join

corio::task<bool> join_mixed(corio::mpsc::receiver<int>* rx) {
    auto [a, b, c] = co_await corio::join(rx->recv(), value_after(2, 3ms), corio::sleep(1ms));
    static_assert(std::is_same_v<decltype(c), std::monostate>);
    co_return a == std::optional<int>(1) && b == 2;
}

TEST(join, yields_every_result_as_a_tuple) {
    corio::runtime rt({.worker_threads = 2});
    auto [tx, rx] = corio::mpsc::channel<int>(4);
    rt.spawn(send_later(tx, 1, 2ms)).detach();
    EXPECT_TRUE(rt.block_on(join_mixed(&rx)));
}

corio::task<bool> join_rethrows(std::atomic<int>* destroyed) {
    try {
        co_await corio::join(parked_forever(destroyed), throws_after(1ms));
    } catch (const std::runtime_error& e) {
        co_return std::string(e.what()) == "boom";
    }
    co_return false;
}

TEST(join, an_exception_cancels_the_rest_and_is_rethrown) {
    corio::runtime rt({.worker_threads = 2});
    std::atomic<int> destroyed{0};
    EXPECT_TRUE(rt.block_on(join_rethrows(&destroyed)));
    EXPECT_TRUE(eventually([&] { return destroyed.load() == 1; }));  // the other task was aborted
}

corio::task<int> join_in_task(std::atomic<int>* destroyed, corio::mpsc::receiver<int>* rx) {
    co_await corio::join(parked_forever(destroyed), rx->recv());
    co_return 1;
}

TEST(join, aborting_a_pending_join_aborts_its_tasks_and_consumes_nothing) {
    corio::runtime rt({.worker_threads = 2});
    std::atomic<int> destroyed{0};
    auto [tx, rx] = corio::mpsc::channel<int>(4);
    auto h = rt.spawn(join_in_task(&destroyed, &rx));
    std::this_thread::sleep_for(10ms);
    h.abort();
    EXPECT_TRUE(eventually([&] { return destroyed.load() == 1; }));
    ASSERT_TRUE(tx.try_send(3).has_value());
    auto v = rx.try_recv();
    ASSERT_TRUE(v.has_value());
    EXPECT_EQ(*v, 3);
}

// ---------------------------------------------------------------------------------------------
// try_join

corio::task<corio::result<int, std::string>> ok_after(int v, std::chrono::milliseconds d) {
    co_await corio::sleep(d);
    co_return v;
}

corio::task<corio::result<int, std::string>> err_after(std::string e, std::chrono::milliseconds d) {
    co_await corio::sleep(d);
    co_return corio::unexpected(std::move(e));
}

corio::task<corio::result<int, std::string>> parked_result(std::atomic<int>* destroyed) {
    co_await corio::testing::pending_forever(destroyed);
    co_return 0;
}

corio::task<bool> try_join_all_ok() {
    auto r = co_await corio::try_join(ok_after(1, 2ms), ok_after(2, 1ms));
    co_return r.has_value() && std::get<0>(*r) == 1 && std::get<1>(*r) == 2;
}

TEST(try_join, all_ok_yields_the_tuple) {
    corio::runtime rt({.worker_threads = 2});
    EXPECT_TRUE(rt.block_on(try_join_all_ok()));
}

corio::task<std::string> try_join_first_error(std::atomic<int>* destroyed) {
    auto r = co_await corio::try_join(parked_result(destroyed), err_after("bad", 1ms), ok_after(3, 1ms));
    if (r) co_return std::string("no error");
    co_return r.error();
}

TEST(try_join, the_first_error_cancels_the_rest_and_is_returned) {
    corio::runtime rt({.worker_threads = 2});
    std::atomic<int> destroyed{0};
    EXPECT_EQ(rt.block_on(try_join_first_error(&destroyed)), "bad");
    EXPECT_TRUE(eventually([&] { return destroyed.load() == 1; }));
}

corio::task<int> try_join_optionals(corio::mpsc::receiver<int>* a, corio::mpsc::receiver<int>* b) {
    auto r = co_await corio::try_join(a->recv(), b->recv());
    if (!r) co_return -1;
    co_return std::get<0>(*r) + std::get<1>(*r);
}

TEST(try_join, optionals_fail_on_nullopt_and_leave_the_other_receiver_intact) {
    corio::runtime rt({.worker_threads = 2});
    auto [ta, ra] = corio::mpsc::channel<int>(4);
    auto [tb, rb] = corio::mpsc::channel<int>(4);
    ASSERT_TRUE(ta.try_send(1).has_value());
    ASSERT_TRUE(tb.try_send(2).has_value());
    EXPECT_EQ(rt.block_on(try_join_optionals(&ra, &rb)), 3);
    { auto g = std::move(ta); }  // a closes: its recv yields nullopt
    EXPECT_EQ(rt.block_on(try_join_optionals(&ra, &rb)), -1);
    ASSERT_TRUE(tb.try_send(4).has_value());
    auto v = rb.try_recv();  // the cancelled recv on b consumed nothing
    ASSERT_TRUE(v.has_value());
    EXPECT_EQ(*v, 4);
}

// ---------------------------------------------------------------------------------------------
// race, first_of

corio::task<std::size_t> race_recv_timer(corio::mpsc::receiver<int>* rx) {
    auto r = co_await corio::race(rx->recv(), corio::sleep(2ms));
    co_return r.index();
}

TEST(race, the_first_to_complete_wins_and_the_loser_is_intact) {
    corio::runtime rt({.worker_threads = 2});
    auto [tx, rx] = corio::mpsc::channel<int>(4);
    EXPECT_EQ(rt.block_on(race_recv_timer(&rx)), 1u);
    ASSERT_TRUE(tx.try_send(1).has_value());
    EXPECT_EQ(rt.block_on(race_recv_timer(&rx)), 0u);
}

corio::task<int> first_of_tasks(std::atomic<int>* destroyed) {
    int v = co_await corio::first_of(value_after(1, 1ms), parked_forever(destroyed));
    co_return v;
}

TEST(first_of, yields_the_winners_value_and_aborts_the_loser) {
    corio::runtime rt({.worker_threads = 2});
    std::atomic<int> destroyed{0};
    EXPECT_EQ(rt.block_on(first_of_tasks(&destroyed)), 1);
    EXPECT_TRUE(eventually([&] { return destroyed.load() == 1; }));
}

corio::task<bool> race_in_order() {
    // Both ready at once (a value queued in each): argument order decides, and the loser
    // consumed nothing. (Not two sleep(0)s: whether a zero sleep is ready on its first poll
    // depends on the clock tick, which made this flaky under TSan.)
    auto [tx1, rx1] = corio::mpsc::channel<int>(1);
    auto [tx2, rx2] = corio::mpsc::channel<int>(1);
    if (!tx1.try_send(1) || !tx2.try_send(2)) co_return false;
    auto r = co_await corio::race(rx1.recv(), rx2.recv());
    if (r.index() != 0) co_return false;
    auto left = rx2.try_recv();  // the losing recv took nothing
    co_return left.has_value() && *left == 2;
}

TEST(race, simultaneously_ready_operations_are_taken_in_argument_order) {
    corio::runtime rt({.worker_threads = 2});
    for (int i = 0; i < 50; ++i) EXPECT_TRUE(rt.block_on(race_in_order()));
}

}  // namespace
