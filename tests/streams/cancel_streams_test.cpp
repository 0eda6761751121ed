// cancel_streams_test: next_operation::cancel() and the streams' cancel_next() — a cancelled
// pending next() leaves no waker in any channel, stop or timer wheel (counted with a counting
// waker), a later event does not wake it, and polled again it yields what it would have yielded
// (nothing consumed, a running deadline not restarted). Also: the destructor of a pending next()
// does what cancel() does, and take_until gives up a borrowed stop when its stream ends.
#include <corio/channels/broadcast.hpp>
#include <corio/channels/mpsc.hpp>
#include <corio/channels/oneshot.hpp>
#include <corio/channels/watch.hpp>
#include <corio/runtime/runtime.hpp>
#include <corio/runtime/time.hpp>
#include <corio/stream/map.hpp>
#include <corio/stream/merge.hpp>
#include <corio/stream/receiver_streams.hpp>
#include <corio/stream/take.hpp>
#include <corio/stream/timeout.hpp>

#include "streams/stream_test_support.hpp"
#include "support/manual_poll.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace std::chrono_literals;
namespace st = corio::stream;
using corio::testing::counting_waker;
using corio::testing::paused_runtime;
using corio::testing::poll_once;

namespace {

static_assert(st::detail::has_cancel_next<st::receiver_stream<int>>);
static_assert(st::detail::has_cancel_next<st::stream_ref<st::receiver_stream<int>>>);

TEST(stream_cancel, a_cancelled_receiver_stream_next_holds_no_waker_and_loses_nothing) {
    auto [tx, rx] = corio::mpsc::unbounded_channel<int>();
    auto s = st::receiver_stream(std::move(rx));
    counting_waker w;
    auto op = s.next();
    op.cancel();  // never polled: no-op
    EXPECT_FALSE(poll_once(op, w));
    EXPECT_EQ(w.clones_alive(), 1);
    op.cancel();
    op.cancel();
    EXPECT_EQ(w.clones_alive(), 0);
    ASSERT_TRUE(tx.send(1));
    EXPECT_EQ(w.wakes(), 0);
    ASSERT_TRUE(poll_once(op, w));
    EXPECT_EQ(op.await_resume(), 1);
}

TEST(stream_cancel, destroying_a_pending_next_cancels_it) {
    auto [tx, rx] = corio::mpsc::unbounded_channel<int>();
    auto s = st::receiver_stream(std::move(rx)) | st::map([](int v) { return v * 10; });
    counting_waker w;
    {
        auto op = s.next();
        EXPECT_FALSE(poll_once(op, w));
        EXPECT_EQ(w.clones_alive(), 1);
    }
    EXPECT_EQ(w.clones_alive(), 0);
    ASSERT_TRUE(tx.send(2));
    EXPECT_EQ(w.wakes(), 0);
    EXPECT_EQ(s.blocking_next(), 20);
}

TEST(stream_cancel, a_cancelled_broadcast_stream_next_yields_the_same_value_when_polled_again) {
    auto [tx, rx] = corio::broadcast::channel<int>(4);
    auto s = st::broadcast_stream(std::move(rx));
    counting_waker w;
    auto op = s.next();
    EXPECT_FALSE(poll_once(op, w));
    EXPECT_EQ(w.clones_alive(), 1);
    op.cancel();
    EXPECT_EQ(w.clones_alive(), 0);
    ASSERT_TRUE(tx.send(4));
    EXPECT_EQ(w.wakes(), 0);
    ASSERT_TRUE(poll_once(op, w));
    auto v = op.await_resume();
    ASSERT_TRUE(v && *v);
    EXPECT_EQ(**v, 4);
}

TEST(stream_cancel, a_cancelled_watch_stream_next_reports_the_same_version_when_polled_again) {
    auto [tx, rx] = corio::watch::channel<int>(0);
    auto s = st::watch_stream<int>::from_changes(std::move(rx));
    counting_waker w;
    auto op = s.next();
    EXPECT_FALSE(poll_once(op, w));
    ASSERT_TRUE(tx.send(6));
    EXPECT_EQ(w.wakes(), 1);
    op.cancel();  // after its wake: nothing was marked seen
    EXPECT_EQ(w.clones_alive(), 0);
    ASSERT_TRUE(poll_once(op, w));
    EXPECT_EQ(op.await_resume(), 6);
}

TEST(stream_cancel, a_cancelled_merge_next_withdraws_every_inner_registration) {
    auto [tx1, rx1] = corio::mpsc::unbounded_channel<int>();
    auto [tx2, rx2] = corio::mpsc::unbounded_channel<int>();
    auto s = st::merge(st::receiver_stream(std::move(rx1)), st::receiver_stream(std::move(rx2)));
    counting_waker w;
    auto op = s.next();
    EXPECT_FALSE(poll_once(op, w));
    EXPECT_EQ(w.clones_alive(), 2);
    op.cancel();
    EXPECT_EQ(w.clones_alive(), 0);
    ASSERT_TRUE(tx2.send(2));
    ASSERT_TRUE(tx1.send(1));
    EXPECT_EQ(w.wakes(), 0);
    ASSERT_TRUE(poll_once(op, w));
    EXPECT_TRUE(op.await_resume().has_value());
}

TEST(stream_cancel, a_cancelled_take_until_next_withdraws_its_stop_too) {
    auto [tx, rx] = corio::mpsc::unbounded_channel<int>();
    auto [stop_tx, stop_rx] = corio::oneshot::channel<int>();
    auto s = st::take_until(st::receiver_stream(std::move(rx)), stop_rx);  // a borrowed awaitable
    counting_waker w;
    auto op = s.next();
    EXPECT_FALSE(poll_once(op, w));
    EXPECT_EQ(w.clones_alive(), 2);  // the channel's and the stop's
    op.cancel();
    EXPECT_EQ(w.clones_alive(), 0);
    ASSERT_TRUE(stop_tx.send(0));
    EXPECT_EQ(w.wakes(), 0);
    ASSERT_TRUE(poll_once(op, w));  // the stop is polled again and has completed
    EXPECT_FALSE(op.await_resume());
    EXPECT_TRUE(s.is_stopped());
}

TEST(stream_cancel, take_until_gives_up_a_borrowed_stop_leaf_when_its_stream_ends) {
    auto [tx, rx] = corio::mpsc::unbounded_channel<int>();
    auto [stop_tx, stop_rx] = corio::oneshot::channel<int>();
    auto stop = stop_rx.recv();  // an lvalue leaf: borrowed
    auto s = st::take_until(st::receiver_stream(std::move(rx)), stop);
    counting_waker w;
    auto op = s.next();
    EXPECT_FALSE(poll_once(op, w));
    EXPECT_EQ(w.clones_alive(), 2);
    { auto gone = std::move(tx); }  // the stream ends
    ASSERT_TRUE(poll_once(op, w));
    EXPECT_FALSE(op.await_resume());
    EXPECT_FALSE(s.is_stopped());
    EXPECT_EQ(w.clones_alive(), 0);  // the borrowed stop was cancelled, not left registered
}

// A timed stream on a paused runtime, polled by hand from inside a task (timers need a worker).
corio::task<std::string> timeout_stream_cancelled_next() {
    auto [tx, rx] = corio::mpsc::channel<int>(4);
    auto s = st::timeout(st::receiver_stream(std::move(rx)), 10ms);
    counting_waker w;
    {
        auto op = s.next();
        if (poll_once(op, w)) co_return "ready at once";
        if (w.clones_alive() != 2) co_return "expected a registration in the channel and in the wheel";
        op.cancel();
        if (w.clones_alive() != 0) co_return "cancel left a registration";
        if (poll_once(op, w)) co_return "ready at once after cancel";
        if (w.clones_alive() != 2) co_return "polled again: expected both registrations again";
    }  // destroyed pending: cancelled
    if (w.clones_alive() != 0) co_return "the destructor left a registration";
    co_await corio::sleep(11ms);
    if (w.wakes() != 0) co_return "woken after cancel";
    auto op = s.next();
    if (!poll_once(op, w)) co_return "the deadline was restarted by the cancel";
    auto r = op.await_resume();
    if (!r || *r) co_return "expected an elapsed error";
    (void)tx.try_send(1);
    auto v = co_await s.next();
    if (!v || !*v || **v != 1) co_return "value lost";
    co_return "";
}

TEST(stream_cancel, a_cancelled_timeout_next_leaves_the_wheel_and_keeps_its_deadline) {
    corio::runtime rt(paused_runtime());
    EXPECT_EQ(rt.block_on(timeout_stream_cancelled_next()), "");
}

}  // namespace
