// combinators_test: map, filter, filter_map, take, take_until and merge — exact items, order and
// ends, pipe syntax, borrowing an lvalue stream, merge fairness, errors from user functions.
#include <corio/channels/mpsc.hpp>
#include <corio/channels/sync/cancellation_token.hpp>
#include <corio/channels/sync/notify.hpp>
#include <corio/runtime/runtime.hpp>
#include <corio/runtime/time.hpp>
#include <corio/stream.hpp>

#include "streams/stream_test_support.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

using namespace std::chrono_literals;
namespace st = corio::stream;
using corio::testing::collect;
using corio::testing::paused_runtime;

namespace {

std::vector<int> ints(int from, int to) {
    std::vector<int> v;
    for (int i = from; i <= to; ++i) v.push_back(i);
    return v;
}

std::string show(int v) { return fmt::format("#{}", v); }  // fmt: g++ 12 -Wrestrict false positive on "lit" + string
bool is_even(const int& v) { return v % 2 == 0; }
std::optional<int> half_if_even(int v) { return v % 2 == 0 ? std::optional<int>(v / 2) : std::nullopt; }

// --- map / filter / filter_map ----------------------------------------------------------------

corio::task<std::vector<std::string>> map_filter_chain() {
    auto s = st::iter(ints(1, 6)) | st::filter(is_even) | st::map(show);
    co_return co_await collect(s);
}

TEST(stream_map_filter, pipe_chain_yields_exact_items_in_order) {
    corio::runtime rt({.worker_threads = 1});
    EXPECT_EQ(rt.block_on(map_filter_chain()), (std::vector<std::string>{"#2", "#4", "#6"}));
}

corio::task<std::vector<int>> filter_map_call() {
    auto s = st::filter_map(st::iter(ints(1, 8)), half_if_even);
    co_return co_await collect(s);
}

TEST(stream_map_filter, filter_map_keeps_the_engaged_results) {
    corio::runtime rt({.worker_threads = 1});
    EXPECT_EQ(rt.block_on(filter_map_call()), (std::vector<int>{1, 2, 3, 4}));
}

int throw_on_three(int v) {
    if (v == 3) throw std::runtime_error("three");
    return v;
}

corio::task<std::string> map_exception() {
    auto s = st::map(st::iter(ints(1, 4)), throw_on_three);
    std::string log;
    for (;;) {
        try {
            auto v = co_await s.next();
            if (!v) break;
            log += std::to_string(*v);
        } catch (const std::runtime_error& e) {
            log += std::string("!") + e.what();
        }
    }
    co_return log;
}

TEST(stream_map_filter, an_exception_from_the_function_comes_out_of_next_and_the_stream_goes_on) {
    corio::runtime rt({.worker_threads = 1});
    EXPECT_EQ(rt.block_on(map_exception()), "12!three4");
}

corio::task<std::vector<int>> filter_rejects_everything() {
    // Every item is rejected: filter loops over the inner stream, using the cooperative budget,
    // and ends when the stream does.
    auto s = st::filter(st::iter(ints(1, 1000)), [](const int& v) { return v > 1000; });
    co_return co_await collect(s);
}

TEST(stream_map_filter, a_filter_rejecting_a_long_ready_stream_ends_empty) {
    corio::runtime rt({.worker_threads = 1});
    EXPECT_TRUE(rt.block_on(filter_rejects_everything()).empty());
}

// --- take -------------------------------------------------------------------------------------

corio::task<std::vector<int>> take_borrowed() {
    auto [tx, rx] = corio::mpsc::channel<int>(16);
    for (int i = 1; i <= 6; ++i) (void)tx.try_send(i);
    { auto gone = std::move(tx); }
    auto s = st::receiver_stream(std::move(rx));
    std::vector<int> out;
    {
        auto first = st::take(s, 2);  // borrows s
        out = co_await collect(first);
        out.push_back(static_cast<int>(first.remaining()) - 100);
    }
    auto rest = co_await collect(s);  // the rest stayed in s
    out.insert(out.end(), rest.begin(), rest.end());
    co_return out;
}

TEST(stream_take, take_of_an_lvalue_leaves_the_rest_in_the_stream) {
    corio::runtime rt({.worker_threads = 1});
    EXPECT_EQ(rt.block_on(take_borrowed()), (std::vector<int>{1, 2, -100, 3, 4, 5, 6}));
}

corio::task<std::vector<int>> take_more_than_there_is() {
    auto s = st::take(st::iter(ints(1, 3)), 10);
    co_return co_await collect(s);
}

TEST(stream_take, ends_with_the_inner_stream) {
    corio::runtime rt({.worker_threads = 1});
    EXPECT_EQ(rt.block_on(take_more_than_there_is()), (std::vector<int>{1, 2, 3}));
}

// --- take_until -------------------------------------------------------------------------------

corio::task<void> produce_then_cancel(corio::mpsc::sender<int> tx, corio::sync::cancellation_token tok) {
    for (int i = 1; i <= 3; ++i) {
        co_await corio::sleep(1ms);
        auto r = co_await tx.send(i);
        (void)r;
    }
    co_await corio::sleep(1ms);
    tok.cancel();
    co_await corio::sleep(1ms);
    auto r = co_await tx.send(4);  // after the stop: stays in the channel
    (void)r;
}

corio::task<std::vector<int>> take_until_token() {
    auto [tx, rx] = corio::mpsc::channel<int>(8);
    corio::sync::cancellation_token tok;
    auto h = corio::spawn(produce_then_cancel(std::move(tx), tok));
    auto s = st::receiver_stream(std::move(rx));
    auto until = st::take_until(s, tok);
    std::vector<int> out = co_await collect(until);
    out.push_back(until.is_stopped() ? 100 : 0);
    (void)co_await h;
    auto left = co_await s.next();  // the item sent after the stop is still in the channel
    out.push_back(left ? *left : -1);
    co_return out;
}

TEST(stream_take_until, a_cancellation_token_ends_the_stream_and_later_items_stay) {
    corio::runtime rt(paused_runtime());
    EXPECT_EQ(rt.block_on(take_until_token()), (std::vector<int>{1, 2, 3, 100, 4}));
}

corio::task<std::vector<long>> take_until_sleep() {
    const corio::time::instant t0 = corio::time::now();
    auto s = st::take_until(st::interval(10ms), corio::sleep(35ms));
    std::vector<long> out;
    while (auto t = co_await s.next()) out.push_back(static_cast<long>((*t - t0) / 1ms));
    out.push_back(corio::testing::ms_since(t0));
    co_return out;
}

TEST(stream_take_until, a_sleep_ends_an_interval_at_its_deadline) {
    corio::runtime rt(paused_runtime());
    EXPECT_EQ(rt.block_on(take_until_sleep()), (std::vector<long>{0, 10, 20, 30, 35}));
}

struct notified_factory {
    corio::sync::notify* n;
    auto operator()() const { return n->notified(); }
};

corio::task<void> notify_later(corio::sync::notify* n) {
    co_await corio::sleep(25ms);
    n->notify_one();
}

corio::task<std::vector<long>> take_until_factory() {
    corio::sync::notify n;
    auto h = corio::spawn(notify_later(&n));
    const corio::time::instant t0 = corio::time::now();
    notified_factory make{&n};
    auto s = st::take_until(st::interval(10ms), make);  // notified() cannot move: built in place
    std::vector<long> out;
    while (auto t = co_await s.next()) out.push_back(static_cast<long>((*t - t0) / 1ms));
    (void)co_await h;
    co_return out;
}

TEST(stream_take_until, a_callable_builds_an_unmovable_leaf_in_place) {
    corio::runtime rt(paused_runtime());
    EXPECT_EQ(rt.block_on(take_until_factory()), (std::vector<long>{0, 10, 20}));
}

corio::task<int> value_after(std::chrono::milliseconds d, int v) {
    co_await corio::sleep(d);
    co_return v;
}

corio::task<std::vector<long>> take_until_join_handle() {
    const corio::time::instant t0 = corio::time::now();
    auto h = corio::spawn(value_after(15ms, 1));
    auto s = st::take_until(st::interval(10ms), std::move(h));  // ends when the task finishes
    std::vector<long> out;
    while (auto t = co_await s.next()) out.push_back(static_cast<long>((*t - t0) / 1ms));
    out.push_back(corio::testing::ms_since(t0));
    co_return out;
}

TEST(stream_take_until, a_join_handle_ends_the_stream_when_its_task_finishes) {
    corio::runtime rt(paused_runtime());
    EXPECT_EQ(rt.block_on(take_until_join_handle()), (std::vector<long>{0, 10, 15}));
}

// --- a user-defined stream --------------------------------------------------------------------

// A stream without stream_base: only item_type and poll_next. Counts down, never waits.
struct countdown {
    using item_type = int;
    int n;
    bool poll_next(corio::context&, std::optional<int>& out) noexcept {
        if (n == 0) out.reset();
        else out.emplace(n--);
        return true;
    }
};
static_assert(st::stream<countdown>);

corio::task<std::vector<int>> user_stream() {
    countdown c{3};
    std::vector<int> out;
    while (auto v = co_await st::next(c)) out.push_back(*v);
    countdown d{4};
    auto doubled = st::map(d, [](int v) { return v * 2; });  // combinators accept it too
    auto rest = co_await collect(doubled);
    out.insert(out.end(), rest.begin(), rest.end());
    co_return out;
}

TEST(stream_concept, a_user_type_with_poll_next_is_a_stream) {
    corio::runtime rt({.worker_threads = 1});
    EXPECT_EQ(rt.block_on(user_stream()), (std::vector<int>{3, 2, 1, 8, 6, 4, 2}));
}

TEST(stream_concept, blocking_next_reads_a_stream_from_a_plain_thread) {
    auto [tx, rx] = corio::mpsc::channel<int>(4);
    auto s = st::receiver_stream(std::move(rx));
    std::thread producer([t = std::move(tx)]() mutable {
        (void)t.blocking_send(1);
        (void)t.blocking_send(2);
    });
    std::vector<int> got;
    while (auto v = s.blocking_next()) got.push_back(*v);
    producer.join();
    EXPECT_EQ(got, (std::vector<int>{1, 2}));
}

// --- merge ------------------------------------------------------------------------------------

corio::task<std::vector<int>> merge_ready() {
    auto s = st::merge(st::iter(ints(1, 3)), st::iter(ints(10, 12)), st::iter(ints(100, 100)));
    co_return co_await collect(s);
}

TEST(stream_merge, ready_streams_take_turns_and_the_merge_ends_after_all) {
    corio::runtime rt({.worker_threads = 1});
    EXPECT_EQ(rt.block_on(merge_ready()), (std::vector<int>{1, 10, 100, 2, 11, 3, 12}));
}

corio::task<std::string> merge_busy_channels() {
    // Two channels that always have items: the merge alternates between them exactly, so neither
    // source can starve the other, and each keeps its order.
    auto [tx1, rx1] = corio::mpsc::unbounded_channel<int>();
    auto [tx2, rx2] = corio::mpsc::unbounded_channel<int>();
    for (int i = 0; i < 1000; ++i) {
        (void)tx1.send(i);
        (void)tx2.send(100000 + i);
    }
    { auto gone = std::move(tx1); }
    { auto gone = std::move(tx2); }
    auto s = st::merge(st::receiver_stream(std::move(rx1)), st::receiver_stream(std::move(rx2)));
    int n = 0;
    while (auto v = co_await s.next()) {
        const int want = n % 2 == 0 ? n / 2 : 100000 + n / 2;
        if (*v != want) co_return "item " + std::to_string(n) + " is " + std::to_string(*v);
        ++n;
    }
    if (n != 2000) co_return "got " + std::to_string(n) + " items";
    co_return "";
}

TEST(stream_merge, two_busy_channels_alternate_exactly) {
    corio::runtime rt({.worker_threads = 1});
    EXPECT_EQ(rt.block_on(merge_busy_channels()), "");
}

corio::task<void> flood(corio::mpsc::sender<int> tx, int base, int n) {
    for (int i = 0; i < n; ++i) {
        auto r = co_await tx.send(base + i);
        if (!r) co_return;
    }
}

corio::task<std::string> merge_live_producers() {
    auto [tx1, rx1] = corio::mpsc::channel<int>(4);
    auto [tx2, rx2] = corio::mpsc::channel<int>(4);
    auto h1 = corio::spawn(flood(std::move(tx1), 0, 2000));
    auto h2 = corio::spawn(flood(std::move(tx2), 100000, 2000));
    auto s = st::merge(st::receiver_stream(std::move(rx1)), st::receiver_stream(std::move(rx2)));
    int next1 = 0, next2 = 100000;
    while (auto v = co_await s.next()) {
        int& next = *v < 100000 ? next1 : next2;
        if (*v != next) co_return "out of order: " + std::to_string(*v);
        ++next;
    }
    (void)co_await h1;
    (void)co_await h2;
    if (next1 != 2000 || next2 != 102000) co_return "lost items";
    co_return "";
}

TEST(stream_merge, live_producers_deliver_everything_in_order) {
    corio::runtime rt({.worker_threads = 2});
    EXPECT_EQ(rt.block_on(merge_live_producers()), "");
}

corio::task<std::string> merge_cancelled_next() {
    auto [tx1, rx1] = corio::mpsc::channel<int>(4);
    auto [tx2, rx2] = corio::mpsc::channel<int>(4);
    auto s = st::merge(st::receiver_stream(std::move(rx1)), st::receiver_stream(std::move(rx2)));
    auto r = co_await corio::timeout(10ms, s.next());
    if (r) co_return "next did not time out";
    (void)tx2.try_send(2);
    auto v = co_await s.next();
    if (!v || *v != 2) co_return "value lost after a cancelled next";
    { auto gone = std::move(tx1); }
    { auto gone = std::move(tx2); }
    auto end = co_await s.next();
    if (end) co_return "did not end";
    co_return "";
}

TEST(stream_merge, a_cancelled_next_consumes_nothing_and_the_end_comes_after_all_end) {
    corio::runtime rt(paused_runtime());
    EXPECT_EQ(rt.block_on(merge_cancelled_next()), "");
}

}  // namespace
