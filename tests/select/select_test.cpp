// select_test: corio::select / select_biased — results and handlers, when_some/when_ok disabling, if_ preconditions, otherwise, biased order, fairness, coroutine and task branches, and cancellation of every branch kind with the loser left intact (nothing consumed, sent, or kept).
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

// A waker that counts wakes, for polling a select by hand (deterministic, no runtime).
struct counting_waker {
    std::atomic<int> wakes{0};
    static const void* clone(const void* d) noexcept { return d; }
    static void wake(const void* d) noexcept { static_cast<counting_waker*>(const_cast<void*>(d))->wakes++; }
    static void drop(const void*) noexcept {}
    static constexpr corio::waker_vtable vtable{&clone, &wake, &wake, &drop};
    corio::waker_ref ref() noexcept { return {this, &vtable}; }
};
struct manual_cx {
    counting_waker w;
    corio::context cx{w.ref(), nullptr};
};

// Polls `op` (pending), runs `between`, polls again (ready), and returns the result. Called in
// the full-expression that builds `op`, so the temporaries its branches point at are alive.
template <class Op, class F>
auto pending_then(Op&& op, F between) {
    manual_cx m;
    EXPECT_FALSE(op.poll(m.cx)) << "the select should be pending before `between`";
    between();
    EXPECT_TRUE(op.poll(m.cx)) << "the select should be ready after `between`";
    return op.await_resume();
}

template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = 5000ms) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (!pred()) {
        if (std::chrono::steady_clock::now() > end) return false;
        std::this_thread::sleep_for(1ms);
    }
    return true;
}

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

corio::task<void> send_later(corio::mpsc::sender<int> tx, int v) {
    co_await corio::sleep(5ms);
    (void)co_await tx.send(v);
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
// Cancellation of each branch kind: the loser is intact

TEST(select_cancel, losing_recv_consumed_nothing) {
    auto txrx_pair = corio::mpsc::channel<int>(4);  // no structured binding: clang 14 cannot capture one
    auto& tx = txrx_pair.first;
    auto& rx = txrx_pair.second;
    corio::sync::notify n;
    auto r = pending_then(corio::select_biased(n.notified(), rx.recv()), [&] {
        ASSERT_TRUE(tx.try_send(1).has_value());  // both ready now; notified is first
        n.notify_one();
    });
    EXPECT_EQ(r.index(), 0u);
    auto v = rx.try_recv();
    ASSERT_TRUE(v.has_value());
    EXPECT_EQ(*v, 1);
}

TEST(select_cancel, losing_send_sent_nothing_and_hands_its_value_back) {
    auto txrx_pair = corio::mpsc::channel<std::string>(1);  // no structured binding: clang 14 cannot capture one
    auto& tx = txrx_pair.first;
    auto& rx = txrx_pair.second;
    ASSERT_TRUE(tx.try_send(std::string("first")).has_value());  // full
    corio::sync::notify n;
    std::optional<std::string> back;
    auto r = pending_then(corio::select_biased(n.notified(), corio::branch(tx.send(std::string("second"))).unsent_into(back)),
                          [&] {
                              // Capacity frees up and is assigned to the queued send; notify is first.
                              ASSERT_TRUE(rx.try_recv().has_value());
                              n.notify_one();
                          });
    EXPECT_EQ(r.index(), 0u);
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(*back, "second");
    EXPECT_EQ(rx.len(), 0u);       // nothing was sent
    EXPECT_EQ(tx.capacity(), 1u);  // the capacity assigned to the loser came back
}

TEST(select_cancel, a_send_disabled_by_its_precondition_also_hands_its_value_back) {
    auto txrx_pair = corio::mpsc::channel<int>(1);  // no structured binding: clang 14 cannot capture one
    auto& tx = txrx_pair.first;
    auto& rx = txrx_pair.second;
    corio::sync::notify n;
    std::optional<int> back;
    n.notify_one();
    manual_cx m;
    auto op = [&](auto&& sel) {
        EXPECT_TRUE(sel.poll(m.cx));
        return sel.await_resume();
    }(corio::select(n.notified(), corio::branch(tx.send(5)).unsent_into(back).if_(false)));
    EXPECT_EQ(op.index(), 0u);
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(*back, 5);
    EXPECT_EQ(rx.len(), 0u);
}

TEST(select_cancel, losing_reserve_returned_its_permit) {
    auto txrx_pair = corio::mpsc::channel<int>(1);  // no structured binding: clang 14 cannot capture one
    auto& tx = txrx_pair.first;
    auto& rx = txrx_pair.second;
    ASSERT_TRUE(tx.try_send(1).has_value());
    corio::sync::notify n;
    auto r = pending_then(corio::select_biased(n.notified(), tx.reserve()), [&] {
        ASSERT_TRUE(rx.try_recv().has_value());  // the slot is assigned to the waiting reserve
        n.notify_one();
    });
    EXPECT_EQ(r.index(), 0u);
    EXPECT_EQ(tx.capacity(), 1u);
    EXPECT_TRUE(tx.try_send(2).has_value());
}

TEST(select_cancel, losing_semaphore_acquire_took_no_permit) {
    corio::sync::semaphore sem(0);
    corio::sync::notify n;
    auto r = pending_then(corio::select_biased(n.notified(), sem.acquire()), [&] {
        sem.add_permits(1);  // handed to the queued acquire
        n.notify_one();
    });
    EXPECT_EQ(r.index(), 0u);
    EXPECT_EQ(sem.available_permits(), 1u);
}

TEST(select_cancel, losing_mutex_lock_passed_the_lock_on) {
    corio::sync::mutex<int> mx(0);
    corio::sync::notify n;
    auto guard = mx.try_lock();
    ASSERT_TRUE(guard.has_value());
    auto r = pending_then(corio::select_biased(n.notified(), mx.lock()), [&] {
        guard.reset();  // the lock is handed to the queued lock()
        n.notify_one();
    });
    EXPECT_EQ(r.index(), 0u);
    EXPECT_TRUE(mx.try_lock().has_value());
}

TEST(select_cancel, losing_oneshot_recv_leaves_the_value_receivable) {
    auto otxorx_pair = corio::oneshot::channel<int>();  // no structured binding: clang 14 cannot capture one
    auto& otx = otxorx_pair.first;
    auto& orx = otxorx_pair.second;
    corio::sync::notify n;
    auto r = pending_then(corio::select_biased(n.notified(), orx), [&] {
        ASSERT_TRUE(otx.send(8).has_value());
        n.notify_one();
    });
    EXPECT_EQ(r.index(), 0u);
    auto v = orx.try_recv();
    ASSERT_TRUE(v.has_value());
    EXPECT_EQ(*v, 8);
}

TEST(select_cancel, losing_broadcast_recv_consumed_nothing) {
    auto btxbrx_pair = corio::broadcast::channel<int>(4);  // no structured binding: clang 14 cannot capture one
    auto& btx = btxbrx_pair.first;
    auto& brx = btxbrx_pair.second;
    corio::sync::notify n;
    auto r = pending_then(corio::select_biased(n.notified(), brx.recv()), [&] {
        ASSERT_TRUE(btx.send(4).has_value());
        n.notify_one();
    });
    EXPECT_EQ(r.index(), 0u);
    auto v = brx.try_recv();
    ASSERT_TRUE(v.has_value());
    EXPECT_EQ(*v, 4);
}

TEST(select_cancel, losing_watch_changed_marked_nothing_seen) {
    auto wtxwrx_pair = corio::watch::channel<int>(0);  // no structured binding: clang 14 cannot capture one
    auto& wtx = wtxwrx_pair.first;
    auto& wrx = wtxwrx_pair.second;
    corio::sync::notify n;
    auto r = pending_then(corio::select_biased(n.notified(), wrx.changed()), [&] {
        ASSERT_TRUE(wtx.send(1).has_value());
        n.notify_one();
    });
    EXPECT_EQ(r.index(), 0u);
    auto c = wrx.has_changed();
    ASSERT_TRUE(c.has_value());
    EXPECT_TRUE(*c);
}

TEST(select_cancel, losing_notified_forwards_a_notification_it_was_handed) {
    auto txrx_pair = corio::mpsc::channel<int>(4);  // no structured binding: clang 14 cannot capture one
    auto& tx = txrx_pair.first;
    auto& rx = txrx_pair.second;
    corio::sync::notify n;
    auto r = pending_then(corio::select_biased(rx.recv(), n.notified()), [&] {
        n.notify_one();  // handed to the queued notified()
        ASSERT_TRUE(tx.try_send(1).has_value());
    });
    EXPECT_EQ(r.index(), 0u);
    manual_cx m;
    auto again = n.notified();
    EXPECT_TRUE(again.poll(m.cx));  // the notification was forwarded as the stored permit
}

TEST(select_cancel, losing_cancelled_leaves_the_token_as_it_was) {
    corio::sync::cancellation_token tok;
    corio::sync::notify n;
    auto r = pending_then(corio::select_biased(n.notified(), tok.cancelled()), [&] {
        tok.cancel();
        n.notify_one();
    });
    EXPECT_EQ(r.index(), 0u);
    EXPECT_TRUE(tok.is_cancelled());
    manual_cx m;
    auto again = tok.cancelled();
    EXPECT_TRUE(again.poll(m.cx));
}

corio::task<int> value_after(int v, std::chrono::milliseconds d) {
    co_await corio::sleep(d);
    co_return v;
}

corio::task<int> join_handle_loses(corio::join_handle<int>* h) {
    auto r = co_await corio::select(*h, corio::sleep(1ms));
    co_return static_cast<int>(r.index());
}

corio::task<int> await_handle(corio::join_handle<int>* h) {
    auto r = co_await *h;
    co_return r.value();
}

TEST(select_cancel, losing_join_handle_can_be_awaited_again) {
    corio::runtime rt({.worker_threads = 2});
    auto h = rt.spawn(value_after(6, 30ms));
    EXPECT_EQ(rt.block_on(join_handle_loses(&h)), 1);
    EXPECT_EQ(rt.block_on(await_handle(&h)), 6);
}

corio::task<int> parked_forever(std::atomic<int>* destroyed) {
    co_await corio::testing::pending_forever(destroyed);
    co_return 0;
}

corio::task<int> task_branch_loses(std::atomic<int>* destroyed, corio::mpsc::receiver<int>* rx) {
    int got = 0;
    co_await corio::select(corio::branch(parked_forever(destroyed), [&](int) { got = -1; }),
                           corio::branch(rx->recv(), [&](std::optional<int> v) { got = *v; }));
    co_return got;
}

TEST(select_cancel, a_losing_task_branch_is_aborted) {
    corio::runtime rt({.worker_threads = 2});
    std::atomic<int> destroyed{0};
    auto [tx, rx] = corio::mpsc::channel<int>(1);
    rt.spawn(send_later(tx, 12)).detach();
    EXPECT_EQ(rt.block_on(task_branch_loses(&destroyed, &rx)), 12);
    EXPECT_TRUE(eventually([&] { return destroyed.load() == 1; }));
}

corio::task<int> task_branch_wins() {
    int got = co_await corio::select(corio::branch(value_after(21, 1ms), [](int v) { return 2 * v; }),
                                     corio::branch(corio::sleep(10s), [] { return -1; }));
    co_return got;
}

TEST(select, a_task_branch_runs_spawned_and_its_value_reaches_the_handler) {
    corio::runtime rt({.worker_threads = 2});
    EXPECT_EQ(rt.block_on(task_branch_wins()), 42);
}

corio::task<int> parked_in_select(std::atomic<int>* destroyed, std::atomic<int>* polled) {
    co_await corio::select(corio::testing::pending_forever(destroyed, polled), corio::testing::pending_forever(destroyed));
    co_return 0;
}

TEST(select_cancel, aborting_a_task_parked_in_select_destroys_every_branch) {
    corio::runtime rt({.worker_threads = 2});
    std::atomic<int> destroyed{0}, polled{0};
    auto h = rt.spawn(parked_in_select(&destroyed, &polled));
    ASSERT_TRUE(eventually([&] { return polled.load() >= 1; }));
    h.abort();
    EXPECT_TRUE(eventually([&] { return destroyed.load() == 2; }));
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
