// watch_test: corio::watch versions and wakes, send variants, borrow guards, wait_for, closed(), disconnection both ways, cancellation and the blocking twin.
#include <corio/channels/watch.hpp>
#include <corio/runtime/runtime.hpp>
#include <corio/runtime/yield_now.hpp>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using corio::watch::recv_error;

// Waits (on the test thread) until `cond` holds, up to 5 s.
template <class F>
bool eventually(F cond) {
    for (int i = 0; i < 5000; ++i) {
        if (cond()) return true;
        std::this_thread::sleep_for(1ms);
    }
    return cond();
}

corio::task<int> changed_then_read(corio::watch::receiver<int>* rx) {
    auto r = co_await rx->changed();
    if (!r) co_return -1;
    co_return *rx->borrow_and_update();
}

corio::task<int> changed_then_read_owned(corio::watch::receiver<int> rx) {
    auto r = co_await rx.changed();
    if (!r) co_return -1;
    co_return *rx.borrow_and_update();
}

corio::task<bool> changed_is_closed(corio::watch::receiver<int>* rx) {
    auto r = co_await rx->changed();
    co_return !r && r.error() == recv_error::closed;
}

TEST(watch, initial_value_is_seen_and_borrowable) {
    auto [tx, rx] = corio::watch::channel<int>(5);
    EXPECT_EQ(*rx.borrow(), 5);
    EXPECT_FALSE(rx.borrow().has_changed());
    EXPECT_EQ(rx.has_changed().value(), false);
    EXPECT_EQ(*tx.borrow(), 5);
    EXPECT_EQ(tx.receiver_count(), 1u);
    EXPECT_FALSE(tx.is_closed());
}

TEST(watch, send_marks_changed_and_borrow_and_update_marks_seen) {
    auto [tx, rx] = corio::watch::channel<int>(0);
    ASSERT_TRUE(tx.send(1).has_value());
    EXPECT_TRUE(rx.has_changed().value());
    {
        auto r = rx.borrow();
        EXPECT_TRUE(r.has_changed());
        EXPECT_EQ(*r, 1);
    }
    EXPECT_TRUE(rx.has_changed().value());  // borrow() does not mark seen
    {
        auto r = rx.borrow_and_update();
        EXPECT_TRUE(r.has_changed());
        EXPECT_EQ(*r, 1);
    }
    EXPECT_FALSE(rx.has_changed().value());
}

TEST(watch, changed_is_ready_at_once_for_an_unseen_version) {
    corio::runtime rt({.worker_threads = 2});
    auto [tx, rx] = corio::watch::channel<int>(0);
    ASSERT_TRUE(tx.send(3).has_value());
    EXPECT_EQ(rt.block_on(changed_then_read(&rx)), 3);
}

TEST(watch, changed_waits_for_a_send) {
    corio::runtime rt({.worker_threads = 2});
    auto [tx, rx] = corio::watch::channel<int>(0);
    auto h = rt.spawn(changed_then_read(&rx));
    std::this_thread::sleep_for(20ms);
    EXPECT_FALSE(h.is_finished());
    ASSERT_TRUE(tx.send(9).has_value());
    EXPECT_EQ(h.blocking_join().value(), 9);
}

TEST(watch, changed_never_wakes_for_a_seen_version) {
    corio::runtime rt({.worker_threads = 2});
    auto [tx, rx] = corio::watch::channel<int>(0);
    ASSERT_TRUE(tx.send(1).has_value());
    EXPECT_EQ(rt.block_on(changed_then_read(&rx)), 1);
    auto h = rt.spawn(changed_then_read(&rx));  // version 1 is seen: must wait
    std::this_thread::sleep_for(30ms);
    EXPECT_FALSE(h.is_finished());
    ASSERT_TRUE(tx.send(2).has_value());
    EXPECT_EQ(h.blocking_join().value(), 2);
}

TEST(watch, send_without_receivers_fails_and_hands_the_value_back) {
    auto [tx, rx] = corio::watch::channel<std::string>("a");
    { auto gone = std::move(rx); }
    EXPECT_TRUE(tx.is_closed());
    auto r = tx.send("b");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().value, "b");
    EXPECT_EQ(*tx.borrow(), "a");  // not stored (Tokio 1.24)
    EXPECT_EQ(fmt::format("{}", r.error()), "channel closed");
}

TEST(watch, send_replace_and_send_modify_store_without_receivers) {
    auto [tx, rx] = corio::watch::channel<std::string>("a");
    EXPECT_EQ(tx.send_replace("b"), "a");
    EXPECT_TRUE(rx.has_changed().value());
    { auto gone = std::move(rx); }
    EXPECT_EQ(tx.send_replace("c"), "b");
    tx.send_modify([](std::string& s) { s += "d"; });
    EXPECT_EQ(*tx.borrow(), "cd");
}

TEST(watch, send_if_modified_notifies_only_when_modified) {
    corio::runtime rt({.worker_threads = 2});
    auto [tx, rx] = corio::watch::channel<int>(0);
    auto h = rt.spawn(changed_then_read(&rx));
    std::this_thread::sleep_for(20ms);
    EXPECT_FALSE(tx.send_if_modified([](int& v) {
        v = 7;  // changed in place but reported unchanged: visible, not notified
        return false;
    }));
    std::this_thread::sleep_for(30ms);
    EXPECT_FALSE(h.is_finished());
    EXPECT_EQ(*tx.borrow(), 7);
    EXPECT_TRUE(tx.send_if_modified([](int& v) {
        v = 8;
        return true;
    }));
    EXPECT_EQ(h.blocking_join().value(), 8);
}

TEST(watch, send_if_modified_exception_publishes_nothing) {
    auto [tx, rx] = corio::watch::channel<int>(0);
    EXPECT_THROW(tx.send_if_modified([](int&) -> bool { throw std::runtime_error("x"); }), std::runtime_error);
    EXPECT_FALSE(rx.has_changed().value());
    ASSERT_TRUE(tx.send(1).has_value());  // the lock was released
    EXPECT_EQ(*rx.borrow_and_update(), 1);
}

TEST(watch, changed_after_sender_drop_errors_after_the_last_version) {
    corio::runtime rt({.worker_threads = 2});
    auto [tx, rx] = corio::watch::channel<int>(0);
    ASSERT_TRUE(tx.send(4).has_value());
    { auto gone = std::move(tx); }
    EXPECT_FALSE(rx.has_changed());  // closed wins in has_changed (Tokio)
    EXPECT_EQ(rt.block_on(changed_then_read(&rx)), 4);  // the unseen version first
    EXPECT_TRUE(rt.block_on(changed_is_closed(&rx)));
    EXPECT_TRUE(rt.block_on(changed_is_closed(&rx)));
    EXPECT_EQ(*rx.borrow(), 4);  // the value outlives the sender
}

TEST(watch, sender_drop_wakes_a_parked_changed) {
    corio::runtime rt({.worker_threads = 2});
    auto [tx, rx] = corio::watch::channel<int>(0);
    auto h = rt.spawn(changed_is_closed(&rx));
    std::this_thread::sleep_for(20ms);
    EXPECT_FALSE(h.is_finished());
    { auto gone = std::move(tx); }
    EXPECT_TRUE(h.blocking_join().value());
}

TEST(watch, mark_unchanged_and_mark_changed) {
    auto [tx, rx] = corio::watch::channel<int>(0);
    ASSERT_TRUE(tx.send(1).has_value());
    rx.mark_unchanged();
    EXPECT_FALSE(rx.has_changed().value());
    rx.mark_changed();
    EXPECT_TRUE(rx.has_changed().value());
    EXPECT_EQ(*rx.borrow_and_update(), 1);
    EXPECT_FALSE(rx.has_changed().value());
}

TEST(watch, subscribe_and_clone_keep_their_own_versions) {
    auto [tx, rx] = corio::watch::channel<int>(0);
    ASSERT_TRUE(tx.send(1).has_value());
    auto late = tx.subscribe();  // has seen version 1
    auto copy = rx;              // has seen what rx has seen (version 0)
    EXPECT_EQ(tx.receiver_count(), 3u);
    EXPECT_FALSE(late.has_changed().value());
    EXPECT_TRUE(copy.has_changed().value());
    EXPECT_TRUE(copy.same_channel(late));
    EXPECT_EQ(*copy.borrow_and_update(), 1);
    EXPECT_TRUE(rx.has_changed().value());  // independent of the copy
    ASSERT_TRUE(tx.send(2).has_value());
    EXPECT_TRUE(late.has_changed().value());
    { auto gone = std::move(copy); }
    EXPECT_EQ(tx.receiver_count(), 2u);
    corio::watch::receiver<int> assigned;
    assigned = late;
    EXPECT_EQ(tx.receiver_count(), 3u);
    assigned = std::move(rx);
    EXPECT_EQ(tx.receiver_count(), 2u);
}

corio::task<int> wait_for_at_least(corio::watch::receiver<int>* rx, int min) {
    auto pred = [min](const int& v) { return v >= min; };
    auto r = co_await rx->wait_for(pred);
    if (!r) co_return -1;
    co_return **r;
}

bool throwing_pred(const int& v) {
    if (v == 13) throw std::runtime_error("unlucky");
    return false;
}

corio::task<bool> wait_for_throws(corio::watch::receiver<int>* rx) {
    try {
        auto r = co_await rx->wait_for(throwing_pred);
        (void)r;
    } catch (const std::runtime_error&) {
        co_return true;
    }
    co_return false;
}

TEST(watch, wait_for_current_value_completes_at_once) {
    corio::runtime rt({.worker_threads = 2});
    auto [tx, rx] = corio::watch::channel<int>(10);
    EXPECT_EQ(rt.block_on(wait_for_at_least(&rx, 5)), 10);
}

TEST(watch, wait_for_waits_for_a_matching_version_and_marks_it_seen) {
    corio::runtime rt({.worker_threads = 2});
    auto [tx, rx] = corio::watch::channel<int>(0);
    auto h = rt.spawn(wait_for_at_least(&rx, 3));
    for (int i = 1; i <= 5; ++i) {
        std::this_thread::sleep_for(5ms);
        ASSERT_TRUE(tx.send(i).has_value());
    }
    const int got = h.blocking_join().value();
    EXPECT_GE(got, 3);
    EXPECT_LE(got, 5);
    // wait_for marked what it checked seen; the last version may still be new.
    EXPECT_EQ(*rx.borrow_and_update(), 5);
    EXPECT_FALSE(rx.has_changed().value());
}

TEST(watch, wait_for_errors_once_closed_and_unmatched) {
    corio::runtime rt({.worker_threads = 2});
    auto [tx, rx] = corio::watch::channel<int>(0);
    auto h = rt.spawn(wait_for_at_least(&rx, 100));
    std::this_thread::sleep_for(10ms);
    ASSERT_TRUE(tx.send(1).has_value());
    { auto gone = std::move(tx); }
    EXPECT_EQ(h.blocking_join().value(), -1);
}

TEST(watch, wait_for_sees_a_match_sent_just_before_close) {
    corio::runtime rt({.worker_threads = 2});
    auto [tx, rx] = corio::watch::channel<int>(0);
    ASSERT_TRUE(tx.send(100).has_value());
    { auto gone = std::move(tx); }
    EXPECT_EQ(rt.block_on(wait_for_at_least(&rx, 100)), 100);
}

TEST(watch, wait_for_rethrows_the_predicates_exception) {
    corio::runtime rt({.worker_threads = 2});
    auto [tx, rx] = corio::watch::channel<int>(0);
    auto h = rt.spawn(wait_for_throws(&rx));
    std::this_thread::sleep_for(10ms);
    ASSERT_TRUE(tx.send(13).has_value());
    EXPECT_TRUE(h.blocking_join().value());
    ASSERT_TRUE(tx.send(14).has_value());  // the read lock was released
}

corio::task<void> await_closed(corio::watch::sender<int>* tx) { co_await tx->closed(); }

TEST(watch, closed_completes_when_the_last_receiver_goes) {
    corio::runtime rt({.worker_threads = 2});
    auto [tx, rx] = corio::watch::channel<int>(0);
    auto rx2 = rx;
    auto h = rt.spawn(await_closed(&tx));
    std::this_thread::sleep_for(20ms);
    { auto gone = std::move(rx); }
    std::this_thread::sleep_for(20ms);
    EXPECT_FALSE(h.is_finished());
    { auto gone = std::move(rx2); }
    EXPECT_TRUE(h.blocking_join().has_value());
    EXPECT_TRUE(tx.is_closed());
    rt.block_on(await_closed(&tx));  // ready at once
    auto again = tx.subscribe();     // reopens
    EXPECT_FALSE(tx.is_closed());
    EXPECT_TRUE(tx.send(1).has_value());
    EXPECT_TRUE(again.has_changed().value());
}

TEST(watch, blocking_changed_from_a_plain_thread) {
    auto [tx, rx] = corio::watch::channel<int>(0);
    std::thread t([tx = std::move(tx)]() mutable {
        std::this_thread::sleep_for(10ms);
        (void)tx.send(6);
        std::this_thread::sleep_for(10ms);
    });
    ASSERT_TRUE(rx.blocking_changed().has_value());
    EXPECT_EQ(*rx.borrow_and_update(), 6);
    EXPECT_FALSE(rx.blocking_changed().has_value());  // the sender left with the thread
    t.join();
}

TEST(watch, abort_of_a_task_parked_in_changed_unlinks_it) {
    corio::runtime rt({.worker_threads = 2});
    auto [tx, rx] = corio::watch::channel<int>(0);
    auto h = rt.spawn(changed_then_read_owned(rx));
    auto survivor = rt.spawn(changed_then_read(&rx));
    std::this_thread::sleep_for(20ms);
    EXPECT_EQ(tx.receiver_count(), 2u);
    h.abort();
    auto j = h.blocking_join();
    ASSERT_FALSE(j);
    EXPECT_TRUE(j.error().is_cancelled());
    EXPECT_EQ(tx.receiver_count(), 1u);  // the aborted task's receiver was destroyed
    ASSERT_TRUE(tx.send(5).has_value());   // must not touch the destroyed waiter
    EXPECT_EQ(survivor.blocking_join().value(), 5);
}

TEST(watch, an_abandoned_changed_marks_nothing_seen) {
    corio::runtime rt({.worker_threads = 2});
    auto [tx, rx] = corio::watch::channel<int>(0);
    {
        auto op = rx.changed();  // never awaited: destroyed unpolled
    }
    ASSERT_TRUE(tx.send(1).has_value());
    EXPECT_TRUE(rx.has_changed().value());
    EXPECT_EQ(rt.block_on(changed_then_read(&rx)), 1);
}

corio::task<int> watcher(corio::watch::receiver<int> rx, std::atomic<int>* parked) {
    parked->fetch_add(1);
    auto r = co_await rx.changed();
    if (!r) co_return -1;
    co_return *rx.borrow_and_update();
}

TEST(watch, one_send_wakes_every_waiter_beyond_a_batch) {
    corio::runtime rt({.worker_threads = 2});
    auto [tx, rx] = corio::watch::channel<int>(0);
    std::atomic<int> parked{0};
    std::vector<corio::join_handle<int>> hs;
    for (int i = 0; i < 100; ++i) hs.push_back(rt.spawn(watcher(rx, &parked)));
    ASSERT_TRUE(eventually([&] { return parked.load() == 100; }));
    std::this_thread::sleep_for(20ms);
    ASSERT_TRUE(tx.send(42).has_value());
    for (auto& h : hs) EXPECT_EQ(h.blocking_join().value(), 42);
}

// docs/design/invariants.md, item 9: after 10k rapid sends the receiver ends on the final value, never
// going backwards; changed() after the sender's drop errors.
corio::task<void> rapid_sender(corio::watch::sender<int> tx, int n) {
    for (int i = 1; i <= n; ++i) {
        (void)tx.send(i);
        if (i % 64 == 0) co_await corio::yield_now();
    }
}

corio::task<int> follow_to_end(corio::watch::receiver<int> rx, int* wakes) {
    int last = 0;
    for (;;) {
        auto r = co_await rx.changed();
        if (!r) break;
        const int v = *rx.borrow_and_update();
        if (v < last) co_return -2;
        last = v;
        ++*wakes;
    }
    co_return last;
}

TEST(watch, ten_thousand_rapid_sends_end_on_the_final_value) {
    corio::runtime rt({.worker_threads = 2});
    constexpr int n = 10'000;
    auto [tx, rx] = corio::watch::channel<int>(0);
    int wakes = 0;
    auto reader = rt.spawn(follow_to_end(rx, &wakes));
    { auto gone = std::move(rx); }
    auto writer = rt.spawn(rapid_sender(std::move(tx), n));
    ASSERT_TRUE(writer.blocking_join().has_value());
    EXPECT_EQ(reader.blocking_join().value(), n);
    EXPECT_GE(wakes, 1);
    EXPECT_LE(wakes, n);
}

TEST(watch, budget_spent_changed_still_completes) {
    // A receiver that is always ready (every poll sees a new version) must yield, not starve.
    corio::runtime rt({.worker_threads = 1});
    auto [tx, rx] = corio::watch::channel<int>(0);
    int wakes = 0;
    auto reader = rt.spawn(follow_to_end(rx, &wakes));
    { auto gone = std::move(rx); }
    auto writer = rt.spawn(rapid_sender(std::move(tx), 1000));
    ASSERT_TRUE(writer.blocking_join().has_value());
    EXPECT_EQ(reader.blocking_join().value(), 1000);
}

TEST(watch, handles_are_nothrow_movable) {
    static_assert(std::is_nothrow_move_constructible_v<corio::watch::sender<std::string>>);
    static_assert(std::is_nothrow_move_constructible_v<corio::watch::receiver<std::string>>);
    static_assert(!std::is_copy_constructible_v<corio::watch::sender<int>>);
    static_assert(std::is_copy_constructible_v<corio::watch::receiver<int>>);
    EXPECT_EQ(fmt::format("{}", recv_error::closed), "channel closed");
    corio::watch::receiver<int> empty;
    EXPECT_FALSE(empty);
    EXPECT_FALSE(empty.has_changed());
}

}  // namespace
