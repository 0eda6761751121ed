// time_test: sleep, reset, cancel, interval behaviours and timeout on each awaitable kind, on the
// paused clock (exact, deterministic), plus a few real-clock tests with generous hang bounds.
#include <corio/channels/broadcast.hpp>
#include <corio/channels/mpsc.hpp>
#include <corio/channels/oneshot.hpp>
#include <corio/channels/watch.hpp>
#include <corio/runtime/join_handle.hpp>
#include <corio/runtime/runtime.hpp>
#include <corio/runtime/time.hpp>
#include <corio/runtime/yield_now.hpp>

#include "support/test_event.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using corio::time::instant;

namespace {

corio::runtime_options paused_options() {
    corio::runtime_options o;
    o.worker_threads = 1;
    o.start_paused = true;
    return o;
}

std::chrono::nanoseconds since(instant t0) { return corio::time::now() - t0; }

// --- sleep --------------------------------------------------------------------------------

corio::task<std::chrono::nanoseconds> sleep_for(std::chrono::nanoseconds d) {
    const instant t0 = corio::time::now();
    co_await corio::sleep(d);
    co_return since(t0);
}

TEST(time, paused_sleep_of_an_hour_returns_at_once_and_moves_now_exactly_an_hour) {
    corio::runtime rt(paused_options());
    const auto wall0 = std::chrono::steady_clock::now();
    EXPECT_EQ(rt.block_on(sleep_for(1h)), std::chrono::nanoseconds(1h));
    EXPECT_LT(std::chrono::steady_clock::now() - wall0, 10s);
}

TEST(time, paused_current_thread_sleep) {
    corio::runtime_options o;
    o.flavor = corio::runtime_flavor::current_thread;
    o.start_paused = true;
    corio::runtime rt(o);
    EXPECT_EQ(rt.block_on(sleep_for(250ms)), std::chrono::nanoseconds(250ms));
}

struct order_log {
    std::mutex mutex;
    std::vector<int> ids;
};

corio::task<void> sleep_and_log(order_log* log, int ms) {
    co_await corio::sleep(std::chrono::milliseconds(ms));
    std::lock_guard lock(log->mutex);
    log->ids.push_back(ms);
}

corio::task<std::vector<int>> sleepers(std::vector<int> durations) {
    order_log log;
    std::vector<corio::join_handle<void>> hs;
    for (int ms : durations) hs.push_back(corio::spawn(sleep_and_log(&log, ms)));
    for (auto& h : hs) {
        auto r = co_await h;
        r.value();
    }
    co_return log.ids;
}

TEST(time, timers_fire_in_deadline_order_across_levels) {
    corio::runtime rt(paused_options());
    // Level 0 (< 64 ms), level 1 (< 4 s), level 2 (< 4.4 min), level 3 (hours).
    const std::vector<int> in = {5000, 3, 70, 1, 64, 63, 4'000'000, 200'000, 2, 4095, 65};
    std::vector<int> expect = in;
    std::sort(expect.begin(), expect.end());
    EXPECT_EQ(rt.block_on(sleepers(in)), expect);
}

TEST(time, timers_fire_in_order_on_two_workers) {
    corio::runtime_options o = paused_options();
    o.worker_threads = 2;
    corio::runtime rt(o);
    const std::vector<int> in = {50, 10, 40, 20, 30};
    EXPECT_EQ(rt.block_on(sleepers(in)), (std::vector<int>{10, 20, 30, 40, 50}));
}

corio::task<bool> sleep_until_past() {
    const instant t0 = corio::time::now();
    co_await corio::sleep_until(t0 - 1s);
    co_await corio::sleep(0ms);
    co_return since(t0) == 0ns;
}

TEST(time, sleep_until_a_past_deadline_is_ready_at_once) {
    corio::runtime rt(paused_options());
    EXPECT_TRUE(rt.block_on(sleep_until_past()));
}

corio::task<std::string> reset_registered() {
    const instant t0 = corio::time::now();
    auto s = corio::sleep(100ms);
    auto r = co_await corio::timeout(5ms, s);  // registers s, then times out; s stays registered
    if (r) co_return "timeout did not elapse";
    if (s.is_elapsed()) co_return "sleep elapsed early";
    s.reset(corio::time::now() + 20ms);
    co_await s;
    if (since(t0) != 25ms) co_return "woke at " + std::to_string(since(t0).count());
    if (!s.is_elapsed()) co_return "not elapsed";
    co_await s;  // an elapsed sleep is ready again at once
    if (since(t0) != 25ms) co_return "second await waited";
    co_return "";
}

TEST(time, reset_moves_a_registered_sleep) {
    corio::runtime rt(paused_options());
    EXPECT_EQ(rt.block_on(reset_registered()), "");
}

corio::task<std::string> reset_elapsed() {
    const instant t0 = corio::time::now();
    auto s = corio::sleep(10ms);
    co_await s;
    if (!s.is_elapsed()) co_return "not elapsed";
    s.reset(s.deadline() + 10ms);
    if (s.is_elapsed()) co_return "still elapsed after reset";
    co_await s;
    if (since(t0) != 20ms) co_return "woke at " + std::to_string(since(t0).count());
    // Reset to an earlier deadline before the first poll.
    auto s2 = corio::sleep(1h);
    s2.reset(corio::time::now() + 1ms);
    co_await s2;
    if (since(t0) != 21ms) co_return "s2 woke at " + std::to_string(since(t0).count());
    co_return "";
}

TEST(time, reset_rearms_an_elapsed_sleep) {
    corio::runtime rt(paused_options());
    EXPECT_EQ(rt.block_on(reset_elapsed()), "");
}

corio::task<std::string> many_cancels(int n) {
    const instant t0 = corio::time::now();
    for (int i = 0; i < n; ++i) {
        auto r = co_await corio::timeout(1s, corio::yield_now());
        if (!r) co_return "a timeout expired";
    }
    if (since(t0) != 0ns) co_return "time moved";
    // Every cancelled entry left the wheel: the next timer the paused clock reaches is this one.
    co_await corio::sleep(2s);
    if (since(t0) != 2s) co_return "woke at " + std::to_string(since(t0).count());
    co_return "";
}

TEST(time, hundred_thousand_insert_cancel_cycles_leave_the_wheel_empty) {
    corio::runtime rt(paused_options());
    EXPECT_EQ(rt.block_on(many_cancels(100'000)), "");
}

// --- interval -----------------------------------------------------------------------------

corio::task<std::vector<long>> interval_ticks(corio::time::missed_tick_behavior b) {
    const instant t0 = corio::time::now();
    auto iv = corio::interval(10ms);
    iv.set_missed_tick_behavior(b);
    std::vector<long> out;  // ms since t0: scheduled instant, then "@" when it completed (as -ms)
    for (int i = 0; i < 2; ++i) {
        const instant t = co_await iv.tick();
        out.push_back((t - t0) / 1ms);
        out.push_back(-(since(t0) / 1ms));
    }
    co_await corio::time::advance(35ms);  // the task is late: ticks were missed
    for (int i = 0; i < 3; ++i) {
        const instant t = co_await iv.tick();
        out.push_back((t - t0) / 1ms);
        out.push_back(-(since(t0) / 1ms));
    }
    co_return out;
}

TEST(time, interval_burst_catches_up_then_keeps_the_schedule) {
    corio::runtime rt(paused_options());
    // ticks 0@0, 10@10; advance to 45; 20@45, 30@45 (burst), 40@45.
    EXPECT_EQ(rt.block_on(interval_ticks(corio::time::missed_tick_behavior::burst)),
              (std::vector<long>{0, 0, 10, -10, 20, -45, 30, -45, 40, -45}));
}

TEST(time, interval_delay_shifts_the_schedule) {
    corio::runtime rt(paused_options());
    // 20@45 (late), then 45+10 = 55@55, 65@65.
    EXPECT_EQ(rt.block_on(interval_ticks(corio::time::missed_tick_behavior::delay)),
              (std::vector<long>{0, 0, 10, -10, 20, -45, 55, -55, 65, -65}));
}

TEST(time, interval_skip_stays_on_the_grid) {
    corio::runtime rt(paused_options());
    // 20@45 (late), then the next grid point after 45: 50@50, 60@60.
    EXPECT_EQ(rt.block_on(interval_ticks(corio::time::missed_tick_behavior::skip)),
              (std::vector<long>{0, 0, 10, -10, 20, -45, 50, -50, 60, -60}));
}

corio::task<std::chrono::nanoseconds> hour_of_intervals() {
    const instant t0 = corio::time::now();
    auto iv = corio::interval_at(t0 + 1s, 1s);
    for (int i = 0; i < 3600; ++i) {
        auto t = co_await iv.tick();
        (void)t;
    }
    co_return since(t0);
}

TEST(time, an_hour_of_one_second_intervals_runs_at_once_on_the_paused_clock) {
    corio::runtime rt(paused_options());
    const auto wall0 = std::chrono::steady_clock::now();
    EXPECT_EQ(rt.block_on(hour_of_intervals()), std::chrono::nanoseconds(1h));
    EXPECT_LT(std::chrono::steady_clock::now() - wall0, 10s);
}

// --- timeout ------------------------------------------------------------------------------

corio::task<std::string> timeout_oneshot() {
    auto [tx, rx] = corio::oneshot::channel<int>();
    const instant t0 = corio::time::now();
    auto r = co_await corio::timeout(10ms, rx.recv());
    if (r) co_return "recv did not time out";
    if (since(t0) != 10ms) co_return "timed out at " + std::to_string(since(t0).count());
    // The cancelled recv consumed nothing: the value sent now is received.
    if (!tx.send(7)) co_return "send failed";
    auto r2 = co_await corio::timeout(10ms, rx);
    if (!r2 || !*r2 || **r2 != 7) co_return "value lost";
    co_return "";
}

TEST(time, timeout_on_oneshot_recv_consumes_nothing) {
    corio::runtime rt(paused_options());
    EXPECT_EQ(rt.block_on(timeout_oneshot()), "");
}

corio::task<int> sleepy_value(std::chrono::milliseconds d, int v) {
    co_await corio::sleep(d);
    co_return v;
}

corio::task<std::string> timeout_join_handle() {
    auto h = corio::spawn(sleepy_value(100ms, 42));
    auto r = co_await corio::timeout(10ms, h);
    if (r) co_return "join did not time out";
    // The handle still owns the outcome (cancel safe).
    auto r2 = co_await corio::timeout(1s, h);
    if (!r2 || !*r2 || **r2 != 42) co_return "join after timeout failed";
    // A temporary handle lives in the timeout.
    auto r3 = co_await corio::timeout(1s, corio::spawn(sleepy_value(5ms, 5)));
    if (!r3 || !*r3 || **r3 != 5) co_return "temporary handle failed";
    co_return "";
}

TEST(time, timeout_on_join_handle_keeps_the_outcome) {
    corio::runtime rt(paused_options());
    EXPECT_EQ(rt.block_on(timeout_join_handle()), "");
}

struct drop_counter {
    std::atomic<int>* n;
    ~drop_counter() { n->fetch_add(1); }
};

corio::task<int> guarded_sleep(std::atomic<int>* dropped, std::chrono::milliseconds d) {
    drop_counter g{dropped};
    co_await corio::sleep(d);
    co_return 9;
}

corio::task<int> throws_after(std::chrono::milliseconds d) {
    co_await corio::sleep(d);
    throw std::runtime_error("boom");
}

corio::task<std::string> timeout_task(std::atomic<int>* dropped) {
    auto slow = guarded_sleep(dropped, 1h);
    auto r = co_await corio::timeout(10ms, std::move(slow));
    if (r) co_return "task did not time out";
    co_await corio::sleep(1ms);  // the aborted task's frame is destroyed on a worker
    if (dropped->load() != 1) co_return "aborted task not destroyed";
    auto fast = guarded_sleep(dropped, 5ms);
    auto r2 = co_await corio::timeout(10ms, std::move(fast));
    if (!r2 || *r2 != 9) co_return "fast task failed";
    bool threw = false;
    try {
        auto bad = throws_after(1ms);
        auto r3 = co_await corio::timeout(10ms, std::move(bad));
        (void)r3;
    } catch (const std::runtime_error&) {
        threw = true;
    }
    if (!threw) co_return "exception not propagated";
    co_return "";
}

TEST(time, timeout_on_task_aborts_it_when_the_deadline_wins) {
    corio::runtime rt(paused_options());
    std::atomic<int> dropped{0};
    EXPECT_EQ(rt.block_on(timeout_task(&dropped)), "");
    EXPECT_EQ(dropped.load(), 2);
}

// A pending send: never completes by itself; hands its value back when cancelled.
class fake_send : public corio::leaf_awaiter<fake_send> {
public:
    fake_send(std::unique_ptr<int> v, std::atomic<int>* destroyed) noexcept : value_(std::move(v)), destroyed_(destroyed) {}
    fake_send(fake_send&& o) noexcept : value_(std::move(o.value_)), destroyed_(std::exchange(o.destroyed_, nullptr)) {}
    ~fake_send() {
        if (destroyed_) destroyed_->fetch_add(1);
    }
    bool poll(corio::context& cx) noexcept override {
        waker_.set(cx.waker());
        return false;
    }
    void cancel() noexcept override { waker_.reset(); }
    void await_resume() {}
    std::unique_ptr<int> take_value() noexcept { return std::move(value_); }

private:
    std::unique_ptr<int> value_;
    std::atomic<int>* destroyed_;
    corio::waker waker_;
};

corio::task<std::string> timeout_send(std::atomic<int>* destroyed) {
    auto v = std::make_unique<int>(11);
    fake_send op(std::move(v), destroyed);
    auto r = co_await corio::timeout(3ms, std::move(op));
    if (r) co_return "send did not time out";
    if (destroyed->load() != 1) co_return "inner not destroyed before timeout returned";
    std::unique_ptr<int> back = std::move(r.error()).value();
    if (!back || *back != 11) co_return "value not handed back";
    co_return "";
}

TEST(time, timeout_hands_a_pending_sends_value_back) {
    corio::runtime rt(paused_options());
    std::atomic<int> destroyed{0};
    EXPECT_EQ(rt.block_on(timeout_send(&destroyed)), "");
}

corio::task<std::string> timeout_ready_inner() {
    corio::testing::test_event ev;
    ev.set();
    auto r = co_await corio::timeout(1ms, ev.wait());
    if (!r) co_return "ready inner timed out";
    auto r2 = co_await corio::timeout(0ms, corio::sleep(1ms));
    if (r2) co_return "zero timeout did not elapse";
    try {
        r2.value();
    } catch (const corio::time::elapsed<>&) {
        co_return "";
    }
    co_return "value() did not throw elapsed";
}

// --- timeout on every channel operation --------------------------------------------------

corio::task<std::string> timeout_channel_ops() {
    // mpsc recv: the timed-out receive took nothing; the value sent afterwards is received.
    auto [tx, rx] = corio::mpsc::channel<int>(4);
    auto r1 = co_await corio::timeout(5ms, rx.recv());
    if (r1) co_return "mpsc recv did not time out";
    if (!tx.try_send(7)) co_return "try_send failed";
    auto r2 = co_await corio::timeout(5ms, rx.recv());
    if (!r2 || !*r2 || **r2 != 7) co_return "mpsc recv after timeout lost the value";

    // mpsc reserve on a full channel: the timed-out reserve holds no slot afterwards.
    auto [ftx, frx] = corio::mpsc::channel<int>(1);
    if (!ftx.try_send(1)) co_return "fill failed";
    auto r3 = co_await corio::timeout(5ms, ftx.reserve());
    if (r3) co_return "reserve did not time out";
    auto first = frx.try_recv();
    if (!first || *first != 1) co_return "queued value lost";
    if (!ftx.try_send(2)) co_return "the timed-out reserve kept the slot";

    // broadcast recv: nothing consumed; the next value is still delivered.
    auto [btx, brx] = corio::broadcast::channel<int>(4);
    auto r4 = co_await corio::timeout(5ms, brx.recv());
    if (r4) co_return "broadcast recv did not time out";
    if (!btx.send(9)) co_return "broadcast send failed";
    auto r5 = co_await corio::timeout(5ms, brx.recv());
    if (!r5 || !*r5 || **r5 != 9) co_return "broadcast recv after timeout lost the value";

    // watch changed: a timed-out wait does not mark anything seen.
    auto [wtx, wrx] = corio::watch::channel<int>(0);
    auto r6 = co_await corio::timeout(5ms, wrx.changed());
    if (r6) co_return "watch changed did not time out";
    if (!wtx.send(3)) co_return "watch send failed";
    auto r7 = co_await corio::timeout(5ms, wrx.changed());
    if (!r7 || !*r7) co_return "watch changed after timeout missed the version";
    if (*wrx.borrow() != 3) co_return "watch value wrong";
    co_return "";
}

TEST(time, timeout_on_every_channel_operation_loses_nothing) {
    corio::runtime rt(paused_options());
    EXPECT_EQ(rt.block_on(timeout_channel_ops()), "");
}

TEST(time, timeout_prefers_a_ready_inner_and_elapsed_throws) {
    corio::runtime rt(paused_options());
    EXPECT_EQ(rt.block_on(timeout_ready_inner()), "");
}

// --- pause / advance ----------------------------------------------------------------------

corio::task<std::string> pause_advance_resume() {
    corio::time::pause();
    const instant t0 = corio::time::now();
    co_await corio::time::advance(90min);
    if (since(t0) != 90min) co_return "advance moved " + std::to_string(since(t0).count());
    bool threw = false;
    try {
        corio::time::pause();
    } catch (const std::logic_error&) {
        threw = true;
    }
    if (!threw) co_return "double pause did not throw";
    corio::time::resume();
    const instant t1 = corio::time::now();
    if (t1 - t0 < 90min || t1 - t0 > 90min + 10s) co_return "resume did not continue from the paused time";
    co_await corio::sleep(2ms);  // the real clock drives timers again
    co_return "";
}

TEST(time, pause_advance_and_resume_inside_a_running_runtime) {
    corio::runtime rt({.worker_threads = 2});
    EXPECT_EQ(rt.block_on(pause_advance_resume()), "");
}

// --- real clock (generous bounds: they catch hangs, not jitter) ---------------------------

TEST(time, real_clock_sleep_is_never_early) {
    corio::runtime rt({.worker_threads = 2});
    for (auto d : {1ms, 3ms, 20ms}) {
        const auto wall0 = std::chrono::steady_clock::now();
        const auto slept = rt.block_on(sleep_for(d));
        EXPECT_GE(slept, d);
        EXPECT_GE(std::chrono::steady_clock::now() - wall0, d);
        EXPECT_LT(slept, d + 2s);
    }
}

corio::task<std::chrono::nanoseconds> long_then_short() {
    // A long sleep makes a parked worker the holder, sleeping until it; the short one inserted
    // afterwards must unpark it.
    auto long_sleeper = corio::spawn(sleep_for(30s));
    co_await corio::sleep(20ms);  // let the long sleeper register and the workers park
    const instant t0 = corio::time::now();
    auto short_sleeper = corio::spawn(sleep_for(10ms));
    auto r = co_await short_sleeper;
    const auto took = since(t0);
    long_sleeper.abort();
    (void)r;
    co_return took;
}

TEST(time, an_earlier_deadline_unparks_the_worker_sleeping_on_a_later_one) {
    corio::runtime rt({.worker_threads = 2});
    const auto took = rt.block_on(long_then_short());
    EXPECT_GE(took, 10ms);
    EXPECT_LT(took, 5s);
}

TEST(time, real_clock_current_thread_sleep) {
    corio::runtime_options o;
    o.flavor = corio::runtime_flavor::current_thread;
    corio::runtime rt(o);
    const auto slept = rt.block_on(sleep_for(5ms));
    EXPECT_GE(slept, 5ms);
    EXPECT_LT(slept, 5s);
}

corio::task<int> spin_then_sleep(std::atomic<bool>* stop) {
    // Keeps its worker busy (yielding) so the timer below is fired by a maintenance tick.
    while (!stop->load()) co_await corio::yield_now();
    co_return 0;
}

corio::task<std::chrono::nanoseconds> sleep_while_busy(std::atomic<bool>* stop) {
    auto a = corio::spawn(spin_then_sleep(stop));
    auto b = corio::spawn(spin_then_sleep(stop));
    const auto took = co_await sleep_for(5ms);
    stop->store(true);
    co_await a;
    co_await b;
    co_return took;
}

TEST(time, timers_fire_while_every_worker_is_busy) {
    corio::runtime rt({.worker_threads = 2});
    std::atomic<bool> stop{false};
    const auto took = rt.block_on(sleep_while_busy(&stop));
    EXPECT_GE(took, 5ms);
    EXPECT_LT(took, 5s);
}

corio::task<void> sleep_forever_with_guard(std::atomic<int>* dropped) {
    drop_counter g{dropped};
    co_await corio::sleep(24h);
}

TEST(time, shutdown_destroys_tasks_parked_on_timers) {
    std::atomic<int> dropped{0};
    {
        corio::runtime rt({.worker_threads = 2});
        for (int i = 0; i < 100; ++i) rt.spawn(sleep_forever_with_guard(&dropped)).detach();
        std::this_thread::sleep_for(20ms);
    }
    EXPECT_EQ(dropped.load(), 100);
}

}  // namespace
