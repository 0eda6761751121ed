// select_cancel_test: a select's losing branch of every kind is left intact (nothing consumed,
// sent or kept): the cancellation rule of docs/design/cancellation.md, branch kind by branch kind.
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
    corio::testing::counting_waker& w = corio::testing::new_waker();
    auto op = [&](auto&& sel) {
        EXPECT_TRUE(corio::testing::poll_once(sel, w));
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
    corio::testing::counting_waker& w = corio::testing::new_waker();
    auto again = n.notified();
    EXPECT_TRUE(corio::testing::poll_once(again, w));  // the notification was forwarded as the stored permit
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
    corio::testing::counting_waker& w = corio::testing::new_waker();
    auto again = tok.cancelled();
    EXPECT_TRUE(corio::testing::poll_once(again, w));
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

}  // namespace
