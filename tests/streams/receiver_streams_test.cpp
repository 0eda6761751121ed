// receiver_streams_test: each receiver as a stream — exact items and ends, lag reports, watch
// versions, interval ticks, and that a next() cancelled while pending loses nothing.
#include <corio/channels/broadcast.hpp>
#include <corio/channels/mpsc.hpp>
#include <corio/channels/watch.hpp>
#include <corio/runtime/runtime.hpp>
#include <corio/runtime/time.hpp>
#include <corio/stream/interval_stream.hpp>
#include <corio/stream/receiver_streams.hpp>
#include <corio/stream/take.hpp>

#include "streams/stream_test_support.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace std::chrono_literals;
namespace st = corio::stream;
using corio::testing::collect;
using corio::testing::paused_runtime;

namespace {

static_assert(st::stream<st::receiver_stream<int>>);
static_assert(st::stream<st::broadcast_stream<int>>);
static_assert(st::stream<st::watch_stream<std::string>>);
static_assert(st::stream<st::interval_stream>);
static_assert(std::is_nothrow_move_constructible_v<st::receiver_stream<int>>);
static_assert(std::is_nothrow_move_constructible_v<st::broadcast_stream<int>>);
static_assert(std::is_nothrow_move_constructible_v<st::watch_stream<int>>);

// --- mpsc -------------------------------------------------------------------------------------

corio::task<std::vector<int>> mpsc_in_order() {
    auto [tx, rx] = corio::mpsc::channel<int>(8);
    for (int i = 1; i <= 5; ++i) (void)tx.try_send(i);
    { auto gone = std::move(tx); }  // every sender gone: the stream ends after the queue
    auto s = st::receiver_stream(std::move(rx));
    std::vector<int> out = co_await collect(s);
    auto again = co_await s.next();  // fused: still the end
    out.push_back(again ? -1 : 0);
    co_return out;
}

TEST(receiver_stream, yields_every_value_in_order_then_ends_and_stays_ended) {
    corio::runtime rt({.worker_threads = 2});
    EXPECT_EQ(rt.block_on(mpsc_in_order()), (std::vector<int>{1, 2, 3, 4, 5, 0}));
}

corio::task<void> send_later(corio::mpsc::unbounded_sender<std::string> tx, int n) {
    for (int i = 0; i < n; ++i) {
        co_await corio::sleep(1ms);
        (void)tx.send(std::to_string(i));
    }
}

corio::task<std::vector<std::string>> unbounded_from_a_producer() {
    auto [tx, rx] = corio::mpsc::unbounded_channel<std::string>();
    auto h = corio::spawn(send_later(std::move(tx), 4));
    st::unbounded_receiver_stream<std::string> s(std::move(rx));
    auto out = co_await collect(s);
    (void)co_await h;
    co_return out;
}

TEST(receiver_stream, unbounded_receiver_waits_for_each_value) {
    corio::runtime rt(paused_runtime());
    EXPECT_EQ(rt.block_on(unbounded_from_a_producer()), (std::vector<std::string>{"0", "1", "2", "3"}));
}

corio::task<std::string> mpsc_cancelled_next() {
    auto [tx, rx] = corio::mpsc::channel<int>(4);
    auto s = st::receiver_stream(std::move(rx));
    auto r = co_await corio::timeout(10ms, s.next());
    if (r) co_return "next did not time out";
    (void)tx.try_send(7);
    auto r2 = co_await corio::timeout(10ms, s.next());
    if (!r2 || !*r2 || **r2 != 7) co_return "value lost after a cancelled next";
    (void)tx.try_send(8);
    // into_inner gives the receiver back with what is still queued.
    corio::mpsc::receiver<int> back = std::move(s).into_inner();
    auto v = co_await back.recv();
    if (!v || *v != 8) co_return "into_inner lost the queue";
    co_return "";
}

TEST(receiver_stream, a_cancelled_next_consumes_nothing_and_into_inner_keeps_the_queue) {
    corio::runtime rt(paused_runtime());
    EXPECT_EQ(rt.block_on(mpsc_cancelled_next()), "");
}

corio::task<std::vector<int>> mpsc_close() {
    auto [tx, rx] = corio::mpsc::channel<int>(4);
    (void)tx.try_send(1);
    auto s = st::receiver_stream(std::move(rx));
    s.close();
    std::vector<int> out = co_await collect(s);  // what was queued, then the end
    out.push_back(tx.try_send(2) ? 1 : 0);       // the senders see the close
    co_return out;
}

TEST(receiver_stream, close_drains_then_ends_and_refuses_new_sends) {
    corio::runtime rt({.worker_threads = 1});
    EXPECT_EQ(rt.block_on(mpsc_close()), (std::vector<int>{1, 0}));
}

// --- broadcast --------------------------------------------------------------------------------

std::string describe(const st::broadcast_stream<int>::item_type& r) {
    return r ? std::to_string(*r) : "lagged " + std::to_string(r.error().skipped());
}

corio::task<std::vector<std::string>> broadcast_lag() {
    auto [tx, rx] = corio::broadcast::channel<int>(4);
    auto s = st::broadcast_stream(std::move(rx));
    for (int i = 0; i < 10; ++i) (void)tx.send(i);
    { auto gone = std::move(tx); }
    std::vector<std::string> out;
    while (auto r = co_await s.next()) out.push_back(describe(*r));
    auto again = co_await s.next();
    if (again) out.push_back("not fused");
    co_return out;
}

TEST(broadcast_stream, reports_the_lag_as_an_item_then_continues_and_ends_on_close) {
    corio::runtime rt({.worker_threads = 1});
    EXPECT_EQ(rt.block_on(broadcast_lag()),
              (std::vector<std::string>{"lagged 6", "6", "7", "8", "9"}));
}

corio::task<std::string> broadcast_cancelled_next() {
    auto [tx, rx] = corio::broadcast::channel<int>(4);
    auto s = st::broadcast_stream(std::move(rx));
    auto r = co_await corio::timeout(10ms, s.next());
    if (r) co_return "next did not time out";
    (void)tx.send(1);
    auto r2 = co_await corio::timeout(10ms, s.next());
    if (!r2 || !*r2 || !**r2 || ***r2 != 1) co_return "value lost after a cancelled next";
    // Abandon another pending next, then move the stream: the recv left registered is dropped
    // and the moved stream still gets the next value.
    auto r3 = co_await corio::timeout(10ms, s.next());
    if (r3) co_return "second next did not time out";
    st::broadcast_stream<int> moved(std::move(s));
    (void)tx.send(2);
    auto r4 = co_await corio::timeout(10ms, moved.next());
    if (!r4 || !*r4 || !**r4 || ***r4 != 2) co_return "value lost after a move";
    co_return "";
}

TEST(broadcast_stream, a_cancelled_next_consumes_nothing_and_the_stream_can_move_after_it) {
    corio::runtime rt(paused_runtime());
    EXPECT_EQ(rt.block_on(broadcast_cancelled_next()), "");
}

// --- watch ------------------------------------------------------------------------------------

corio::task<void> send_versions(corio::watch::sender<int> tx) {
    co_await corio::sleep(5ms);
    tx.send_replace(1);
    tx.send_replace(2);
    tx.send_replace(3);  // 1 and 2 are never seen: the stream reads after all three
    co_await corio::sleep(5ms);
    tx.send_replace(4);
    co_await corio::sleep(5ms);
}  // the sender is dropped: the stream ends

corio::task<std::vector<int>> watch_versions(bool from_changes) {
    auto [tx, rx] = corio::watch::channel<int>(0);
    auto h = corio::spawn(send_versions(std::move(tx)));
    std::vector<int> out;
    if (from_changes) {
        auto s = st::watch_stream<int>::from_changes(std::move(rx));
        out = co_await collect(s);
    } else {
        auto s = st::watch_stream(std::move(rx));
        out = co_await collect(s);
    }
    (void)co_await h;
    co_return out;
}

TEST(watch_stream, yields_the_current_value_then_the_latest_of_each_change_and_ends_with_the_sender) {
    corio::runtime rt(paused_runtime());
    EXPECT_EQ(rt.block_on(watch_versions(false)), (std::vector<int>{0, 3, 4}));
}

TEST(watch_stream, from_changes_skips_the_current_value) {
    corio::runtime rt(paused_runtime());
    EXPECT_EQ(rt.block_on(watch_versions(true)), (std::vector<int>{3, 4}));
}

corio::task<std::string> watch_cancelled_next() {
    auto [tx, rx] = corio::watch::channel<std::string>("a");
    auto s = st::watch_stream(std::move(rx));
    auto first = co_await s.next();
    if (!first || *first != "a") co_return "no initial value";
    auto r = co_await corio::timeout(10ms, s.next());
    if (r) co_return "next did not time out";
    tx.send_replace("b");
    auto r2 = co_await corio::timeout(10ms, s.next());
    if (!r2 || !*r2 || **r2 != "b") co_return "change lost after a cancelled next";
    co_return "";
}

TEST(watch_stream, a_cancelled_next_marks_nothing_seen) {
    corio::runtime rt(paused_runtime());
    EXPECT_EQ(rt.block_on(watch_cancelled_next()), "");
}

// --- interval ---------------------------------------------------------------------------------

corio::task<std::vector<long>> interval_ticks() {
    const corio::time::instant t0 = corio::time::now();
    auto ticks = st::interval(10ms) | st::take(4);
    std::vector<long> out;  // scheduled instant, and when it was yielded, in ms since t0
    while (auto t = co_await ticks.next()) {
        out.push_back(static_cast<long>((*t - t0) / 1ms));
        out.push_back(corio::testing::ms_since(t0));
    }
    co_return out;
}

TEST(interval_stream, yields_each_tick_at_its_instant) {
    corio::runtime rt(paused_runtime());
    EXPECT_EQ(rt.block_on(interval_ticks()), (std::vector<long>{0, 0, 10, 10, 20, 20, 30, 30}));
}

corio::task<std::string> interval_cancelled_next() {
    const corio::time::instant t0 = corio::time::now();
    auto ticks = st::interval_at(t0 + 20ms, 20ms);
    auto r = co_await corio::timeout(5ms, ticks.next());
    if (r) co_return "tick did not time out";
    auto t = co_await ticks.next();  // the tick abandoned above is not lost
    if (!t || *t != t0 + 20ms) co_return "tick lost";
    co_return "";
}

TEST(interval_stream, a_cancelled_next_loses_no_tick) {
    corio::runtime rt(paused_runtime());
    EXPECT_EQ(rt.block_on(interval_cancelled_next()), "");
}

}  // namespace
