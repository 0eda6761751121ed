// signal_test: corio::signal — a listener sees deliveries after its creation (and not before),
// deliveries coalesce, every listener of a signal is woken, ctrl_c, an abandoned recv loses
// nothing, blocking_recv on a plain thread, signals that cannot be listened for, and cancel()
// of recv and ctrl_c (the leaf contract: no waker left in the signal's waiter list).
#include "support/manual_poll.hpp"

#include <corio/runtime/runtime.hpp>
#include <corio/runtime/time.hpp>
#include <corio/signal/signal.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

namespace {

using namespace std::chrono_literals;

bool raise_in_process(int signo) { return ::kill(::getpid(), signo) == 0; }

// Receives once, with a bound: `limit` only catches a hang (or, when short, asserts absence).
corio::task<bool> recv_within(corio::signal::listener* l, std::chrono::milliseconds limit) {
    auto r = co_await corio::timeout(limit, l->recv());
    co_return r.has_value();
}

corio::task<std::string> receive_after_creation() {
    auto l = corio::signal::signal(SIGUSR1);
    if (!l) co_return "signal(SIGUSR1) failed: " + l.error().message();
    if (!raise_in_process(SIGUSR1)) co_return "kill failed";
    if (!co_await recv_within(&*l, 30000ms)) co_return "the delivery was not seen";
    // Nothing new since: the next receive waits.
    if (co_await recv_within(&*l, 20ms)) co_return "a second receive completed without a new delivery";
    co_return "";
}

TEST(signal, a_listener_sees_a_delivery_after_its_creation) {
    corio::runtime rt({.worker_threads = 2});
    EXPECT_EQ(rt.block_on(receive_after_creation()), "");
}

corio::task<std::string> late_listener_misses_earlier_delivery() {
    auto first = corio::signal::signal(SIGUSR2).value();
    if (!raise_in_process(SIGUSR2)) co_return "kill failed";
    if (!co_await recv_within(&first, 30000ms)) co_return "first listener missed the delivery";
    auto late = corio::signal::signal(SIGUSR2).value();
    if (co_await recv_within(&late, 20ms)) co_return "a listener created after the delivery saw it";
    co_return "";
}

TEST(signal, a_listener_does_not_see_deliveries_before_it_existed) {
    corio::runtime rt({.worker_threads = 2});
    EXPECT_EQ(rt.block_on(late_listener_misses_earlier_delivery()), "");
}

corio::task<bool> wait_once(corio::signal::listener l) {
    auto r = co_await corio::timeout(30s, l.recv());
    co_return r.has_value();
}

TEST(signal, every_listener_is_woken_and_deliveries_coalesce) {
    corio::runtime rt({.worker_threads = 2});
    std::vector<corio::join_handle<bool>> hs;
    for (int i = 0; i < 4; ++i) hs.push_back(rt.spawn(wait_once(corio::signal::signal(SIGUSR1).value())));
    auto coalesced = corio::signal::signal(SIGUSR1).value();
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(raise_in_process(SIGUSR1));
    for (auto& h : hs) EXPECT_TRUE(h.blocking_join().value());
    // Three deliveries before it asked: at least one receive, never more than three.
    int seen = 0;
    while (seen < 4 && rt.block_on(recv_within(&coalesced, seen == 0 ? 30000ms : 20ms))) ++seen;
    EXPECT_GE(seen, 1);
    EXPECT_LE(seen, 3);
}

corio::task<std::string> ctrl_c_case() {
    auto op = corio::signal::ctrl_c();  // listening from here on
    if (!raise_in_process(SIGINT)) co_return "kill failed";
    auto r = co_await corio::timeout(30s, op);
    if (!r) co_return "ctrl_c did not complete";
    if (!*r) co_return "ctrl_c failed: " + r->error().message();
    co_return "";
}

TEST(signal, ctrl_c_completes_on_sigint_instead_of_ending_the_process) {
    corio::runtime rt({.worker_threads = 2});
    EXPECT_EQ(rt.block_on(ctrl_c_case()), "");
}

corio::task<std::string> abandoned_recv_loses_nothing() {
    auto l = corio::signal::signal(SIGHUP).value();
    if (co_await recv_within(&l, 5ms)) co_return "completed without a delivery";  // abandoned
    if (!raise_in_process(SIGHUP)) co_return "kill failed";
    if (!co_await recv_within(&l, 30000ms)) co_return "the delivery after an abandoned recv was lost";
    co_return "";
}

TEST(signal, an_abandoned_recv_loses_nothing) {
    corio::runtime rt({.worker_threads = 2});
    EXPECT_EQ(rt.block_on(abandoned_recv_loses_nothing()), "");
}

TEST(signal, blocking_recv_on_a_plain_thread) {
    auto l = corio::signal::signal(SIGUSR2).value();
    std::thread raiser([] { ASSERT_TRUE(raise_in_process(SIGUSR2)); });
    EXPECT_TRUE(l.blocking_recv());
    raiser.join();
}

// Polled by hand on this plain thread (no runtime needed): a cancelled recv is out of the
// signal's waiter list and holds no waker; the delivery it did not consume is seen when it is
// polled again.
TEST(signal, recv_cancel_holds_no_waker_and_a_repoll_sees_the_delivery) {
    auto l = corio::signal::signal(SIGUSR2).value();
    auto witness = corio::signal::signal(SIGUSR2).value();
    corio::testing::counting_waker w;
    {
        auto op = l.recv();
        op.cancel();  // never polled: a no-op
        EXPECT_FALSE(corio::testing::poll_once(op, w));
        EXPECT_EQ(w.clones_alive(), 1);
        op.cancel();
        op.cancel();  // idempotent
        EXPECT_EQ(w.clones_alive(), 0);
        ASSERT_TRUE(raise_in_process(SIGUSR2));
        EXPECT_TRUE(witness.blocking_recv());  // the dispatcher has fired this delivery
        EXPECT_EQ(w.wakes(), 0);
        EXPECT_TRUE(corio::testing::poll_once(op, w));  // polled again: the delivery is there
        EXPECT_EQ(w.clones_alive(), 0);
        op.cancel();  // ready: a no-op
    }
    // That recv consumed the delivery: the next one waits.
    auto next = l.recv();
    EXPECT_FALSE(corio::testing::poll_once(next, w));
    next.cancel();
    EXPECT_EQ(w.clones_alive(), 0);
    EXPECT_EQ(w.wakes(), 0);
}

TEST(signal, ctrl_c_cancel_holds_no_waker_and_a_repoll_completes) {
    corio::testing::counting_waker w;
    auto op = corio::signal::ctrl_c();
    EXPECT_FALSE(corio::testing::poll_once(op, w));
    EXPECT_EQ(w.clones_alive(), 1);
    op.cancel();
    op.cancel();
    EXPECT_EQ(w.clones_alive(), 0);
    ASSERT_TRUE(raise_in_process(SIGINT));
    corio::detail::blocking_poll(op);  // polled again, parking this plain thread until it is ready
    EXPECT_TRUE(op.await_resume().has_value());
    EXPECT_EQ(w.wakes(), 0);
    EXPECT_EQ(w.clones_alive(), 0);
}

TEST(signal, signals_that_cannot_be_listened_for_are_refused) {
    for (int s : {SIGKILL, SIGSTOP, SIGSEGV, SIGBUS, SIGFPE, SIGILL, 0, -1, 200}) {
        auto l = corio::signal::signal(s);
        ASSERT_FALSE(l.has_value()) << s;
        EXPECT_EQ(l.error(), std::make_error_code(std::errc::invalid_argument)) << s;
    }
}

}  // namespace
