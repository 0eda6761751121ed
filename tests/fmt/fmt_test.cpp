// fmt_test — the exact text fmt::format("{}", x) gives for corio's public value types: every
// error (channels, sync, streams, time, io, join), socket_addr, channel metrics snapshots, the
// runtime's options and readable durations. Including the type's own header is all it takes:
// each test file section includes only what a user would.
#include <corio/channels/broadcast.hpp>
#include <corio/channels/error.hpp>
#include <corio/channels/metrics.hpp>
#include <corio/channels/mpsc.hpp>
#include <corio/channels/oneshot.hpp>
#include <corio/channels/sync/semaphore.hpp>
#include <corio/channels/watch.hpp>
#include <corio/io/error.hpp>
#include <corio/net/socket_addr.hpp>
#include <corio/runtime/join_handle.hpp>
#include <corio/runtime/readable_duration.hpp>
#include <corio/runtime/runtime.hpp>
#include <corio/runtime/time.hpp>
#include <corio/runtime/yield_now.hpp>
#include <corio/stream/receiver_streams.hpp>

#include <gtest/gtest.h>

#include <fmt/core.h>

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace {

using namespace std::chrono_literals;

// ---- join_error ----------------------------------------------------------------------------

corio::task<int> wait_forever(corio::oneshot::receiver<int> rx) {
    auto v = co_await rx;  // the sender is kept alive by the test: never completes
    co_return v ? *v : -1;
}

corio::task<int> throws_boom() {
    co_await corio::yield_now();
    throw std::runtime_error("boom");
}

corio::task<int> throws_int() {
    co_await corio::yield_now();
    throw 42;
}

struct join_texts {
    std::uint64_t cancelled_id = 0;
    std::string cancelled;
    std::uint64_t boom_id = 0;
    std::string boom;
    std::uint64_t int_id = 0;
    std::string thrown_int;
};

corio::task<join_texts> collect_join_errors() {
    join_texts out;
    auto [tx, rx] = corio::oneshot::channel<int>();
    corio::join_handle<int> waiting = corio::spawn(wait_forever(std::move(rx)));
    out.cancelled_id = waiting.id();
    waiting.abort();
    auto c = co_await waiting;
    if (!c.has_value()) out.cancelled = fmt::format("{}", c.error());

    corio::join_handle<int> boom = corio::spawn(throws_boom());
    out.boom_id = boom.id();
    auto b = co_await boom;
    if (!b.has_value()) out.boom = fmt::format("{}", b.error());

    corio::join_handle<int> other = corio::spawn(throws_int());
    out.int_id = other.id();
    auto i = co_await other;
    if (!i.has_value()) out.thrown_int = fmt::format("{}", i.error());
    co_return out;
}

TEST(fmt, join_error_says_cancelled_or_panicked_with_the_exception_message) {
    corio::runtime rt({.worker_threads = 2});
    join_texts t = rt.block_on(collect_join_errors());
    EXPECT_NE(t.cancelled_id, 0u);
    EXPECT_EQ(t.cancelled, fmt::format("task {} was cancelled", t.cancelled_id));
    EXPECT_EQ(t.boom, fmt::format("task {} panicked with message \"boom\"", t.boom_id));
    EXPECT_EQ(t.thrown_int, fmt::format("task {} panicked", t.int_id));  // not a std::exception: no message
    // The factory functions format the same way, and a format spec applies to the whole text.
    EXPECT_EQ(fmt::format("{}", corio::join_error::cancelled(7)), "task 7 was cancelled");
    EXPECT_EQ(fmt::format("[{:>22}]", corio::join_error::cancelled(7)), "[  task 7 was cancelled]");
    auto p = corio::join_error::panic(9, std::make_exception_ptr(std::logic_error("bad state")));
    EXPECT_EQ(fmt::format("{}", p), "task 9 panicked with message \"bad state\"");
    EXPECT_EQ(corio::to_string(p), "task 9 panicked with message \"bad state\"");
}

// ---- channel, sync, stream, time and io errors ---------------------------------------------

TEST(fmt, channel_and_sync_errors_have_tokios_texts) {
    EXPECT_EQ(fmt::format("{}", corio::send_error<int>(5)), "channel closed");
    EXPECT_EQ(fmt::format("{}", corio::oneshot::recv_error::closed), "channel closed");
    EXPECT_EQ(fmt::format("{}", corio::oneshot::try_recv_error::empty), "channel empty");
    EXPECT_EQ(fmt::format("{}", corio::oneshot::try_recv_error::closed), "channel closed");

    EXPECT_EQ(fmt::format("{}", corio::mpsc::try_send_error<int>::full(1)), "no available capacity");
    EXPECT_EQ(fmt::format("{}", corio::mpsc::try_send_error<int>::closed(1)), "channel closed");
    using timeout_kind = corio::mpsc::send_timeout_error<int>::kind;
    EXPECT_EQ(fmt::format("{}", corio::mpsc::send_timeout_error<int>(timeout_kind::timeout, 1)),
              "timed out waiting on send operation");
    EXPECT_EQ(fmt::format("{}", corio::mpsc::send_timeout_error<int>(timeout_kind::closed, 1)), "channel closed");
    EXPECT_EQ(fmt::format("{}", corio::mpsc::try_recv_error::empty), "receiving on an empty channel");
    EXPECT_EQ(fmt::format("{}", corio::mpsc::try_recv_error::closed), "receiving on a closed channel");
    EXPECT_EQ(fmt::format("{}", corio::mpsc::reserve_error::closed), "channel closed");
    EXPECT_EQ(fmt::format("{}", corio::mpsc::try_reserve_error::full), "no available capacity");
    EXPECT_EQ(fmt::format("{}", corio::mpsc::try_reserve_error::closed), "channel closed");

    EXPECT_EQ(fmt::format("{}", corio::broadcast::recv_error::closed()), "channel closed");
    EXPECT_EQ(fmt::format("{}", corio::broadcast::recv_error::lagged(3)), "channel lagged by 3");
    EXPECT_EQ(fmt::format("{}", corio::broadcast::try_recv_error::empty()), "channel empty");
    EXPECT_EQ(fmt::format("{}", corio::broadcast::try_recv_error::closed()), "channel closed");
    EXPECT_EQ(fmt::format("{}", corio::broadcast::try_recv_error::lagged(12)), "channel lagged by 12");
    EXPECT_EQ(fmt::format("{}", corio::watch::recv_error::closed), "channel closed");
    EXPECT_EQ(fmt::format("{}", corio::stream::lagged(4)), "channel lagged by 4");

    EXPECT_EQ(fmt::format("{}", corio::sync::acquire_error::closed), "semaphore closed");
    EXPECT_EQ(fmt::format("{}", corio::sync::try_acquire_error::closed), "semaphore closed");
    EXPECT_EQ(fmt::format("{}", corio::sync::try_acquire_error::no_permits), "no permits available");
}

TEST(fmt, elapsed_and_io_errors) {
    EXPECT_EQ(fmt::format("{}", corio::time::elapsed<>{}), "deadline has elapsed");
    EXPECT_EQ(fmt::format("{}", corio::time::elapsed<std::string>(std::string("unsent"))), "deadline has elapsed");

    EXPECT_EQ(fmt::format("{}", corio::io::error::unexpected_eof), "unexpected end of stream");
    EXPECT_EQ(fmt::format("{}", corio::io::error::write_zero), "write returned zero bytes");
    EXPECT_EQ(fmt::format("{}", corio::io::error::no_runtime), "io operation polled outside a corio runtime");
    EXPECT_EQ(fmt::format("{}", corio::io::error::line_too_long), "line longer than the maximum length");
}

// ---- socket_addr ---------------------------------------------------------------------------

TEST(fmt, socket_addr_reads_as_host_colon_port_with_brackets_for_ipv6) {
    auto v4 = corio::net::socket_addr::parse("1.2.3.4:80");
    ASSERT_TRUE(v4.has_value());
    EXPECT_EQ(fmt::format("{}", *v4), "1.2.3.4:80");
    auto v6 = corio::net::socket_addr::parse("[::1]:80");
    ASSERT_TRUE(v6.has_value());
    EXPECT_EQ(fmt::format("{}", *v6), "[::1]:80");
    auto full6 = corio::net::socket_addr::from_ip("2001:db8::17", 8443);
    ASSERT_TRUE(full6.has_value());
    EXPECT_EQ(fmt::format("{}", *full6), "[2001:db8::17]:8443");
    EXPECT_EQ(fmt::format("{}", corio::net::socket_addr::ipv4_loopback(7000)), "127.0.0.1:7000");
    EXPECT_EQ(fmt::format("{}", corio::net::socket_addr::ipv4_any(0)), "0.0.0.0:0");
    EXPECT_EQ(fmt::format("{}", corio::net::socket_addr{}), "0.0.0.0:0");
    // A width and alignment apply to the whole address, as for a string.
    EXPECT_EQ(fmt::format("[{:<12}]", corio::net::socket_addr::ipv4_loopback(80)), "[127.0.0.1:80]");
    EXPECT_EQ(fmt::format("[{:>14}]", corio::net::socket_addr::ipv4_loopback(80)), "[  127.0.0.1:80]");
}

// ---- channel metrics -----------------------------------------------------------------------

TEST(fmt, mpsc_metrics_snapshot_after_known_traffic) {
    auto [tx, rx] = corio::mpsc::channel<int>(3, corio::with_metrics);
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(tx.try_send(i).has_value());
    ASSERT_FALSE(tx.try_send(99).has_value());  // full: dropped
    ASSERT_EQ(rx.try_recv().value(), 0);
    ASSERT_EQ(rx.try_recv().value(), 1);
    auto m = tx.metrics();
    ASSERT_TRUE(m.has_value());
    EXPECT_EQ(fmt::format("{}", *m), "sent=3 received=2 dropped=1 lagged=0 high_water=3");
    EXPECT_EQ(fmt::format("{}", corio::channel_metrics{}), "sent=0 received=0 dropped=0 lagged=0 high_water=0");
}

TEST(fmt, broadcast_metrics_snapshot_counts_the_lag) {
    auto [tx, rx] = corio::broadcast::channel<int>(2, corio::with_metrics);
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(tx.send(i).has_value());
    auto lag = rx.try_recv();  // 5 sent into room for 2: the receiver lost the 3 oldest
    ASSERT_FALSE(lag.has_value());
    EXPECT_EQ(fmt::format("{}", lag.error()), "channel lagged by 3");
    ASSERT_EQ(rx.try_recv().value(), 3);
    ASSERT_EQ(rx.try_recv().value(), 4);
    auto m = rx.metrics();
    ASSERT_TRUE(m.has_value());
    EXPECT_EQ(fmt::format("{}", *m), "sent=5 received=2 dropped=0 lagged=3 high_water=2");
}

// ---- runtime options and durations ---------------------------------------------------------

TEST(fmt, runtime_options_are_one_line_of_knobs) {
    EXPECT_EQ(fmt::format("{}", corio::runtime_options{}),
              "flavor=multi_thread workers=auto thread_name=corio-worker max_blocking_threads=512 "
              "blocking_keep_alive=10s global_queue_interval=61 event_interval=61 lifo_slot=on start_paused=no");
    corio::runtime_options custom;
    custom.worker_threads = 2;
    custom.thread_name = "srv";
    custom.max_blocking_threads = 4;
    custom.blocking_keep_alive = 1500ms;
    custom.global_queue_interval = 31;
    custom.event_interval = 7;
    custom.disable_lifo_slot = true;
    custom.start_paused = true;
    EXPECT_EQ(fmt::format("{}", custom),
              "flavor=multi_thread workers=2 thread_name=srv max_blocking_threads=4 blocking_keep_alive=1.5s "
              "global_queue_interval=31 event_interval=7 lifo_slot=off start_paused=yes");
    corio::runtime_options single;
    single.flavor = corio::runtime_flavor::current_thread;
    single.worker_threads = 8;  // ignored by current_thread: not printed
    EXPECT_EQ(fmt::format("{}", single),
              "flavor=current_thread thread_name=corio-worker max_blocking_threads=512 blocking_keep_alive=10s "
              "global_queue_interval=61 event_interval=61 lifo_slot=on start_paused=no");
    EXPECT_EQ(fmt::format("{}|{}", corio::runtime_flavor::multi_thread, corio::runtime_flavor::current_thread),
              "multi_thread|current_thread");
}

TEST(fmt, readable_durations_pick_the_unit_by_magnitude) {
    EXPECT_EQ(fmt::format("{}", corio::readable(1500us)), "1.5ms");
    EXPECT_EQ(fmt::format("{}", corio::readable(10'000ms)), "10s");
    EXPECT_EQ(fmt::format("{}", corio::readable(250ms)), "250ms");
    EXPECT_EQ(fmt::format("{}", corio::readable(2min)), "120s");
    EXPECT_EQ(fmt::format("{}", corio::readable(1234567ns)), "1.234567ms");
    EXPECT_EQ(fmt::format("{}", corio::readable(999ns)), "999ns");
    EXPECT_EQ(fmt::format("{}", corio::readable(1us)), "1us");
    EXPECT_EQ(fmt::format("{}", corio::readable(0ns)), "0ns");
    EXPECT_EQ(fmt::format("{}", corio::readable(-3ms)), "-3ms");
    EXPECT_EQ(fmt::format("{}", corio::readable(std::chrono::duration<double>(0.25))), "250ms");
}

}  // namespace
