// time_combinators_test: chunks_timeout, throttle, timeout and timeout_repeating on the paused
// clock — which items, in which chunks, at which virtual instants; cancel safety of each.
#include <corio/channels/mpsc.hpp>
#include <corio/runtime/runtime.hpp>
#include <corio/runtime/time.hpp>
#include <corio/stream.hpp>

#include "streams/stream_test_support.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

using namespace std::chrono_literals;
namespace st = corio::stream;
using corio::testing::collect;
using corio::testing::ms_since;
using corio::testing::paused_runtime;

namespace {

// Sends value v at virtual time v ms (since t0); then drops the sender at `end_ms`.
corio::task<void> send_at_times(corio::mpsc::unbounded_sender<int> tx, corio::time::instant t0, std::vector<int> times,
                                int end_ms) {
    for (int t : times) {
        co_await corio::sleep_until(t0 + std::chrono::milliseconds(t));
        (void)tx.send(t);
    }
    co_await corio::sleep_until(t0 + std::chrono::milliseconds(end_ms));
}

std::string chunk_text(const std::vector<int>& c, long at) {
    return fmt::format("[{}]@{}", fmt::join(c, ","), at);
}

// --- chunks_timeout ---------------------------------------------------------------------------

corio::task<std::vector<std::string>> chunks_by_size_and_by_time() {
    const corio::time::instant t0 = corio::time::now();
    auto [tx, rx] = corio::mpsc::unbounded_channel<int>();
    std::vector<int> times{0, 1, 2, 20, 50, 51, 52, 53, 54};
    auto h = corio::spawn(send_at_times(std::move(tx), t0, times, 100));
    auto s = st::receiver_stream(std::move(rx)) | st::chunks_timeout(3, 10ms);
    std::vector<std::string> out;
    while (auto c = co_await s.next()) out.push_back(chunk_text(*c, ms_since(t0)));
    out.push_back("end@" + std::to_string(ms_since(t0)));
    (void)co_await h;
    co_return out;
}

TEST(stream_chunks_timeout, a_chunk_when_full_or_when_its_first_item_is_old_enough) {
    corio::runtime rt(paused_runtime());
    // [0,1,2] full at 2; [20] 10 ms after its item; [50,51,52] full; [53,54] 10 ms after 53;
    // no empty chunk while nothing comes; the end when the sender goes at 100.
    EXPECT_EQ(rt.block_on(chunks_by_size_and_by_time()),
              (std::vector<std::string>{"[0,1,2]@2", "[20]@30", "[50,51,52]@52", "[53,54]@63", "end@100"}));
}

corio::task<std::vector<std::string>> chunks_end_flushes() {
    const corio::time::instant t0 = corio::time::now();
    auto [tx, rx] = corio::mpsc::unbounded_channel<int>();
    std::vector<int> times{0, 1};
    auto h = corio::spawn(send_at_times(std::move(tx), t0, times, 5));
    auto s = st::chunks_timeout(st::receiver_stream(std::move(rx)), 10, 1s);
    std::vector<std::string> out;
    while (auto c = co_await s.next()) out.push_back(chunk_text(*c, ms_since(t0)));
    (void)co_await h;
    co_return out;
}

TEST(stream_chunks_timeout, the_end_of_the_stream_flushes_the_partial_chunk_at_once) {
    corio::runtime rt(paused_runtime());
    EXPECT_EQ(rt.block_on(chunks_end_flushes()), (std::vector<std::string>{"[0,1]@5"}));
}

corio::task<std::vector<std::string>> chunks_cancelled_next() {
    const corio::time::instant t0 = corio::time::now();
    auto [tx, rx] = corio::mpsc::unbounded_channel<int>();
    auto s = st::chunks_timeout(st::receiver_stream(std::move(rx)), 4, 10ms);
    (void)tx.send(1);
    (void)tx.send(2);
    std::vector<std::string> out;
    // The next() is abandoned after 3 ms with two items gathered: they stay in the open chunk,
    // and its deadline (10 ms after the first item) keeps running.
    auto r = co_await corio::timeout(3ms, s.next());
    out.push_back(r ? "not cancelled" : "cancelled@" + std::to_string(ms_since(t0)));
    (void)tx.send(3);
    auto c = co_await s.next();
    if (c) out.push_back(chunk_text(*c, ms_since(t0)));
    co_return out;
}

TEST(stream_chunks_timeout, a_cancelled_next_keeps_the_open_chunk_and_its_deadline) {
    corio::runtime rt(paused_runtime());
    EXPECT_EQ(rt.block_on(chunks_cancelled_next()), (std::vector<std::string>{"cancelled@3", "[1,2,3]@10"}));
}

corio::task<std::vector<std::string>> chunks_moved_with_an_open_chunk() {
    const corio::time::instant t0 = corio::time::now();
    auto [tx, rx] = corio::mpsc::unbounded_channel<int>();
    auto s = st::chunks_timeout(st::receiver_stream(std::move(rx)), 4, 10ms);
    (void)tx.send(1);
    std::vector<std::string> out;
    auto r = co_await corio::timeout(3ms, s.next());
    out.push_back(r ? "not cancelled" : "cancelled@" + std::to_string(ms_since(t0)));
    // Moving the stream carries the open chunk and its running deadline over.
    auto moved = std::move(s);
    auto c = co_await moved.next();
    if (c) out.push_back(chunk_text(*c, ms_since(t0)));
    co_return out;
}

TEST(stream_chunks_timeout, moving_the_stream_keeps_the_open_chunk_and_its_deadline) {
    corio::runtime rt(paused_runtime());
    EXPECT_EQ(rt.block_on(chunks_moved_with_an_open_chunk()), (std::vector<std::string>{"cancelled@3", "[1]@10"}));
}

// --- throttle ---------------------------------------------------------------------------------

corio::task<std::vector<long>> throttled() {
    const corio::time::instant t0 = corio::time::now();
    auto s = st::iter(std::vector<int>{1, 2, 3, 4}) | st::throttle(10ms);
    std::vector<long> out;  // item, then when it was yielded
    while (auto v = co_await s.next()) {
        out.push_back(*v);
        out.push_back(ms_since(t0));
    }
    out.push_back(ms_since(t0));  // the end comes after the last wait
    co_return out;
}

TEST(stream_throttle, at_most_one_item_per_period_none_dropped) {
    corio::runtime rt(paused_runtime());
    EXPECT_EQ(rt.block_on(throttled()), (std::vector<long>{1, 0, 2, 10, 3, 20, 4, 30, 40}));
}

corio::task<std::vector<long>> throttle_slow_source() {
    // Items slower than the period pass at once: throttle only delays.
    const corio::time::instant t0 = corio::time::now();
    auto [tx, rx] = corio::mpsc::unbounded_channel<int>();
    std::vector<int> times{0, 25, 30, 60};
    auto h = corio::spawn(send_at_times(std::move(tx), t0, times, 70));
    auto s = st::throttle(st::receiver_stream(std::move(rx)), 10ms);
    std::vector<long> out;
    while (auto v = co_await s.next()) {
        out.push_back(*v);
        out.push_back(ms_since(t0));
    }
    (void)co_await h;
    co_return out;
}

TEST(stream_throttle, slow_items_are_not_delayed_fast_ones_are_spaced) {
    corio::runtime rt(paused_runtime());
    EXPECT_EQ(rt.block_on(throttle_slow_source()), (std::vector<long>{0, 0, 25, 25, 30, 35, 60, 60}));
}

corio::task<std::vector<long>> throttle_cancelled_next() {
    const corio::time::instant t0 = corio::time::now();
    auto s = st::throttle(st::iter(std::vector<int>{1, 2}), 10ms);
    std::vector<long> out;
    auto a = co_await s.next();
    out.push_back(a ? *a : -1);
    auto r = co_await corio::timeout(4ms, s.next());  // abandoned during the wait
    out.push_back(r ? -2 : ms_since(t0));
    auto b = co_await s.next();  // the wait kept running: item 2 at 10
    out.push_back(b ? *b : -1);
    out.push_back(ms_since(t0));
    co_return out;
}

TEST(stream_throttle, a_cancelled_next_keeps_the_wait_and_the_item) {
    corio::runtime rt(paused_runtime());
    EXPECT_EQ(rt.block_on(throttle_cancelled_next()), (std::vector<long>{1, 4, 2, 10}));
}

// --- timeout ----------------------------------------------------------------------------------

template <class S>
corio::task<std::vector<std::string>> describe_timeouts(S& s, corio::time::instant t0) {
    std::vector<std::string> out;
    while (auto r = co_await s.next()) {
        out.push_back((*r ? std::to_string(**r) : std::string("elapsed")) + "@" + std::to_string(ms_since(t0)));
    }
    out.push_back("end@" + std::to_string(ms_since(t0)));
    co_return out;
}

corio::task<std::vector<std::string>> per_item_timeout(bool repeating) {
    const corio::time::instant t0 = corio::time::now();
    auto [tx, rx] = corio::mpsc::unbounded_channel<int>();
    std::vector<int> times{5, 30, 35};
    auto h = corio::spawn(send_at_times(std::move(tx), t0, times, 40));
    std::vector<std::string> out;
    if (repeating) {
        auto s = st::timeout_repeating(st::receiver_stream(std::move(rx)), 10ms);
        out = co_await describe_timeouts(s, t0);
    } else {
        auto s = st::receiver_stream(std::move(rx)) | st::timeout(10ms);
        out = co_await describe_timeouts(s, t0);
    }
    (void)co_await h;
    co_return out;
}

TEST(stream_timeout, one_elapsed_per_silent_gap_then_the_stream_goes_on) {
    corio::runtime rt(paused_runtime());
    // 5 arrives in time; nothing by 15: elapsed; then no deadline until 30; 35 within 10 of 30.
    EXPECT_EQ(rt.block_on(per_item_timeout(false)),
              (std::vector<std::string>{"5@5", "elapsed@15", "30@30", "35@35", "end@40"}));
}

TEST(stream_timeout, repeating_reports_every_period_of_silence) {
    corio::runtime rt(paused_runtime());
    EXPECT_EQ(rt.block_on(per_item_timeout(true)),
              (std::vector<std::string>{"5@5", "elapsed@15", "elapsed@25", "30@30", "35@35", "end@40"}));
}

corio::task<std::vector<std::string>> timeout_cancelled_next() {
    const corio::time::instant t0 = corio::time::now();
    auto [tx, rx] = corio::mpsc::unbounded_channel<int>();
    auto s = st::timeout(st::receiver_stream(std::move(rx)), 10ms);
    std::vector<std::string> out;
    auto r = co_await corio::timeout(4ms, s.next());  // abandoned: the 10 ms deadline keeps running
    out.push_back(r ? "not cancelled" : "cancelled@" + std::to_string(ms_since(t0)));
    auto e = co_await s.next();
    out.push_back(e && !*e ? "elapsed@" + std::to_string(ms_since(t0)) : "no elapsed");
    (void)tx.send(7);
    auto v = co_await s.next();
    out.push_back(v && *v ? std::to_string(**v) + "@" + std::to_string(ms_since(t0)) : "lost");
    co_return out;
}

TEST(stream_timeout, a_cancelled_next_does_not_restart_the_deadline_or_lose_items) {
    corio::runtime rt(paused_runtime());
    EXPECT_EQ(rt.block_on(timeout_cancelled_next()),
              (std::vector<std::string>{"cancelled@4", "elapsed@10", "7@10"}));
}

}  // namespace
