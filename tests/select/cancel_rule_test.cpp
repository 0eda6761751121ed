// cancel_rule_test: "no operand outlives the co_await that owns it", one deterministic test per
// way the rule used to be broken. When select / select_biased / race / timeout / try_join return
// (or run the winner's handler), every losing operand is unregistered, has given back what it
// held, and can never run again:
//   1. a losing pinned temporary (`m.lock()`, `l.read()`, `tx.reserve()`, `sem.acquire_many(n)`)
//      is out of its wait queue before a coroutine handler runs, so a handler that waits for the
//      same resource gets it (it used to wait for the dead branch: a deadlock);
//   2. a losing task<T> operand that borrows the caller's locals is destroyed before the
//      combinator returns, and never runs again (it used to be spawned and aborted
//      asynchronously, so it could still run, and touch the caller's dead locals);
//   3. a temporary join_handle operand that loses is aborted and waited for: the task has
//      finished when select returns (it used to be detached and run on).
// Each scenario runs on a multi_thread runtime (2 workers) and on a current_thread one, and is
// bounded: a deadlock makes it fail after 10 s instead of hanging the suite. No sleep is used to
// order events, except the sleep branches the scenarios are about; notify and the channels order
// the tasks.
#include <corio/channels/mpsc.hpp>
#include <corio/channels/sync/semaphore.hpp>  // before cancellation_token.hpp (select_test.cpp says why)
#include <corio/channels/sync/mutex.hpp>
#include <corio/channels/sync/notify.hpp>
#include <corio/channels/sync/rw_lock.hpp>
#include <corio/runtime/join.hpp>
#include <corio/runtime/join_handle.hpp>
#include <corio/runtime/runtime.hpp>
#include <corio/runtime/select.hpp>
#include <corio/runtime/time.hpp>
#include <corio/runtime/yield_now.hpp>

#include <support/stress.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>

namespace {

using namespace std::chrono_literals;

// ---------------------------------------------------------------------------------------------
// Harness

// Counts the destruction of the coroutine frame that holds it, as a parameter: a parameter is
// moved into the frame when the coroutine is created and destroyed with the frame, even when the
// task is destroyed before its body ever ran. Move-only; only the last owner counts.
class frame_probe {
public:
    explicit frame_probe(std::atomic<int>* destroyed) noexcept : destroyed_(destroyed) {}
    frame_probe(frame_probe&& o) noexcept : destroyed_(std::exchange(o.destroyed_, nullptr)) {}
    frame_probe& operator=(frame_probe&&) = delete;
    ~frame_probe() {
        if (destroyed_) destroyed_->fetch_add(1, std::memory_order_acq_rel);
    }

private:
    std::atomic<int>* destroyed_;
};

struct frame_counters {
    std::atomic<int> started{0};           // the body began to run
    std::atomic<int> destroyed{0};         // the frame was destroyed (frame_probe)
    std::atomic<int> resumed{0};           // ran on past the point where it was parked
    std::atomic<int> ran_after_return{0};  // ran while the caller's select_returned was set
};

// What a scenario shares with the tasks it starts. Lives in the test body, so it outlives the
// runtime: a task that a failing scenario leaves stuck is destroyed by the runtime's shutdown
// while everything it points at still exists.
struct rig {
    corio::sync::mutex<int> m{0};
    corio::sync::rw_lock<int> rw{0};
    corio::sync::semaphore sem{2};
    corio::sync::semaphore sem1{1};
    corio::sync::notify held;     // the holder has the resource
    corio::sync::notify release;  // the holder may let go
    corio::sync::notify gate;     // what a borrowing operand is parked on; nobody notifies it in time
    std::pair<corio::mpsc::sender<int>, corio::mpsc::receiver<int>> narrow = corio::mpsc::channel<int>(1);
    std::pair<corio::mpsc::sender<int>, corio::mpsc::receiver<int>> wake = corio::mpsc::channel<int>(4);
    std::pair<corio::mpsc::sender<int>, corio::mpsc::receiver<int>> closed = corio::mpsc::channel<int>(1);
    frame_counters fc;
};

// Awaits the scenario through a timeout, so that a deadlock is reported as a failure.
corio::task<std::string> bounded(corio::task<std::string> scenario, std::chrono::seconds limit) {
    auto h = corio::spawn(std::move(scenario));
    auto r = co_await corio::timeout(limit, h);
    if (!r) {
        h.abort();
        co_return "did not complete within " + std::to_string(limit.count()) + " s: deadlock";
    }
    if (!*r) co_return "the scenario task ended without a verdict (cancelled, or it threw)";
    co_return std::move(**r);
}

const char* flavor_name(corio::runtime_flavor f) { return f == corio::runtime_flavor::current_thread ? "current_thread" : "multi_thread"; }

// Runs the scenario that make(rig*) builds on a fresh runtime of each flavour, each with a fresh
// rig, and expects the verdict "" (passed). The hang_guard is the backstop for a runtime whose
// shutdown itself hangs.
template <class Make>
void run_both_flavors(Make make) {
    for (auto flavor : {corio::runtime_flavor::multi_thread, corio::runtime_flavor::current_thread}) {
        SCOPED_TRACE(flavor_name(flavor));
        rig r;
        corio::testing::hang_guard guard("cancel_rule", nullptr, std::chrono::seconds(120));
        corio::runtime_options o;
        o.flavor = flavor;
        o.worker_threads = 2;
        corio::runtime rt(o);
        EXPECT_EQ(rt.block_on(bounded(make(&r), std::chrono::seconds(10))), "");
    }
}

// ---------------------------------------------------------------------------------------------
// 1. A coroutine handler waits for the resource a losing pinned temporary was queued for.
//
// Pattern of each scenario: a holder task takes the resource; the scenario's select_biased polls
// the resource's operation first (it queues behind the holder), then a receive that is ready at
// once and wins. The winner's coroutine handler tells the holder to let go and then waits for the
// same resource: the resource goes to the oldest waiter, which must no longer be the loser.

corio::task<void> hold_mutex(rig* r) {
    auto g = co_await r->m.lock();
    r->held.notify_one();
    co_await r->release.notified();
}

corio::task<void> relock_mutex(rig* r, int* got) {
    r->release.notify_one();
    auto g = co_await r->m.lock();
    *g += 1;
    *got = *g;
}

corio::task<std::string> mutex_scenario(rig* r) {
    corio::spawn(hold_mutex(r)).detach();
    co_await r->held.notified();
    if (!r->wake.first.try_send(1)) co_return "setup: could not queue the message";
    int lock_won = 0, got = 0;
    co_await corio::select_biased(
        corio::branch(r->m.lock(), [&](corio::sync::mutex_guard<int>) { lock_won = 1; }),
        corio::branch(r->wake.second.recv(), [&](std::optional<int>) { return relock_mutex(r, &got); }));
    if (lock_won) co_return "the lock branch won while the holder held the mutex";
    if (got != 1) co_return "the handler did not get the mutex";
    if (!r->m.try_lock()) co_return "the mutex is still taken after the select";
    co_return "";
}

TEST(cancel_rule, a_coroutine_handler_locks_the_mutex_a_losing_lock_branch_was_queued_for) {
    run_both_flavors([](rig* r) { return mutex_scenario(r); });
}

corio::task<void> hold_write(rig* r) {
    auto g = co_await r->rw.write();
    r->held.notify_one();
    co_await r->release.notified();
}

corio::task<void> rewrite(rig* r, int* got) {
    r->release.notify_one();
    auto g = co_await r->rw.write();
    *g += 1;
    *got = *g;
}

corio::task<std::string> rw_lock_scenario(rig* r) {
    corio::spawn(hold_write(r)).detach();
    co_await r->held.notified();
    if (!r->wake.first.try_send(1)) co_return "setup: could not queue the message";
    int read_won = 0, got = 0;
    co_await corio::select_biased(
        corio::branch(r->rw.read(), [&](corio::sync::rw_lock_read_guard<int>) { read_won = 1; }),
        corio::branch(r->wake.second.recv(), [&](std::optional<int>) { return rewrite(r, &got); }));
    if (read_won) co_return "the read branch won while the holder held the write lock";
    if (got != 1) co_return "the handler did not get the write lock";
    if (!r->rw.try_write()) co_return "the rw_lock is still taken after the select";
    co_return "";
}

TEST(cancel_rule, a_coroutine_handler_write_locks_the_rw_lock_a_losing_read_branch_was_queued_for) {
    run_both_flavors([](rig* r) { return rw_lock_scenario(r); });
}

// The channel's only slot is reserved by the holder; its permit goes back when it lets go.
corio::task<void> hold_permit(rig* r, corio::mpsc::sender<int> tx) {
    auto p = co_await tx.reserve();
    r->held.notify_one();
    co_await r->release.notified();
}

corio::task<void> send_after_release(rig* r, int* sent) {
    r->release.notify_one();
    auto res = co_await r->narrow.first.send(7);
    *sent = res.has_value() ? 1 : -1;
}

corio::task<std::string> reserve_scenario(rig* r) {
    corio::spawn(hold_permit(r, r->narrow.first)).detach();
    co_await r->held.notified();
    if (!r->wake.first.try_send(1)) co_return "setup: could not queue the message";
    int reserve_won = 0, sent = 0;
    co_await corio::select_biased(
        corio::branch(r->narrow.first.reserve(), [&](auto) { reserve_won = 1; }),
        corio::branch(r->wake.second.recv(), [&](std::optional<int>) { return send_after_release(r, &sent); }));
    if (reserve_won) co_return "the reserve branch won while the holder held the only permit";
    if (sent != 1) co_return "the handler's send failed";
    auto v = r->narrow.second.try_recv();
    if (!v || *v != 7) co_return "the handler's value was not received";
    if (r->narrow.first.capacity() != 1) co_return "capacity was not given back";
    co_return "";
}

TEST(cancel_rule, a_coroutine_handler_sends_with_the_capacity_a_losing_reserve_branch_was_queued_for) {
    run_both_flavors([](rig* r) { return reserve_scenario(r); });
}

corio::task<void> hold_permits(rig* r) {
    auto p = co_await r->sem.acquire_many(2);
    r->held.notify_one();
    co_await r->release.notified();
}

corio::task<void> acquire_after_release(rig* r, int* got) {
    r->release.notify_one();
    auto p = co_await r->sem.acquire_many(2);
    *got = p.has_value() ? 1 : -1;
}

corio::task<std::string> semaphore_scenario(rig* r) {
    corio::spawn(hold_permits(r)).detach();
    co_await r->held.notified();
    if (!r->wake.first.try_send(1)) co_return "setup: could not queue the message";
    int acquire_won = 0, got = 0;
    co_await corio::select_biased(
        corio::branch(r->sem.acquire_many(2), [&](auto) { acquire_won = 1; }),
        corio::branch(r->wake.second.recv(), [&](std::optional<int>) { return acquire_after_release(r, &got); }));
    if (acquire_won) co_return "the acquire branch won while the holder held every permit";
    if (got != 1) co_return "the handler did not get the permits";
    if (r->sem.available_permits() != 2) co_return "permits were not given back";
    co_return "";
}

TEST(cancel_rule, a_coroutine_handler_acquires_the_permits_a_losing_acquire_many_branch_was_queued_for) {
    run_both_flavors([](rig* r) { return semaphore_scenario(r); });
}

corio::task<void> hold_permit_of(rig* r, corio::sync::semaphore* sem) {
    auto p = co_await sem->acquire();
    r->held.notify_one();
    co_await r->release.notified();
}

corio::task<void> acquire_one_after_release(rig* r, int* got) {
    r->release.notify_one();
    auto p = co_await r->sem1.acquire();
    *got = p.has_value() ? 1 : -1;
}

corio::task<std::string> single_permit_scenario(rig* r) {
    corio::spawn(hold_permit_of(r, &r->sem1)).detach();
    co_await r->held.notified();
    if (!r->wake.first.try_send(1)) co_return "setup: could not queue the message";
    int acquire_won = 0, got = 0;
    co_await corio::select_biased(
        corio::branch(r->sem1.acquire(), [&](auto) { acquire_won = 1; }),
        corio::branch(r->wake.second.recv(), [&](std::optional<int>) { return acquire_one_after_release(r, &got); }));
    if (acquire_won) co_return "the acquire branch won while the holder held the only permit";
    if (got != 1) co_return "the handler did not get the permit";
    if (r->sem1.available_permits() != 1) co_return "the permit was not given back";
    co_return "";
}

TEST(cancel_rule, a_coroutine_handler_acquires_the_permit_a_losing_acquire_branch_was_queued_for) {
    run_both_flavors([](rig* r) { return single_permit_scenario(r); });
}

// ---------------------------------------------------------------------------------------------
// 2. A losing task<T> operand that borrows the caller's local state.
//
// The operand runs until it parks on `gate` (nobody notifies it before the other operand wins),
// then would write to the caller's state. After the combinator returns, the caller checks that
// the operand's frame is gone, sets select_returned, makes the operand's leaf ready, lets the
// runtime run, and lets the state die; then lets the runtime run again. An operand that ran after
// the return counts in ran_after_return (or touches freed memory: AddressSanitizer).

struct borrowed_state {
    static constexpr std::uint64_t live = 0x600DF00Dull;
    std::uint64_t canary = live;
    bool select_returned = false;
    int writes = 0;
};

corio::task<int> borrowing_task([[maybe_unused]] frame_probe probe, borrowed_state* st, rig* r) {
    r->fc.started.fetch_add(1);
    ++st->writes;
    co_await r->gate.notified();
    r->fc.resumed.fetch_add(1);
    if (st->canary != borrowed_state::live || st->select_returned) r->fc.ran_after_return.fetch_add(1);
    ++st->writes;
    co_return 1;
}

corio::task<std::optional<int>> borrowing_optional(frame_probe probe, borrowed_state* st, rig* r) {
    const int v = co_await borrowing_task(std::move(probe), st, r);
    co_return v;
}

// What every borrowing scenario checks once its combinator has returned ("" = fine).
corio::task<std::string> after_return(rig* r, std::unique_ptr<borrowed_state> st) {
    std::string verdict;
    if (r->fc.started.load() != 1) verdict += "the operand never ran (the scenario proves nothing); ";
    if (r->fc.destroyed.load() != 1) verdict += "the losing operand's frame was not destroyed when the combinator returned; ";
    st->select_returned = true;
    r->gate.notify_waiters();
    r->gate.notify_one();
    for (int i = 0; i < 16; ++i) co_await corio::yield_now();
    st.reset();
    for (int i = 0; i < 16; ++i) co_await corio::yield_now();
    if (r->fc.resumed.load() != 0) verdict += "the losing operand ran again after the combinator returned; ";
    if (r->fc.ran_after_return.load() != 0) verdict += "the losing operand touched the caller's state after the return; ";
    if (r->fc.destroyed.load() != 1) verdict += "the operand's frame was destroyed more than once, or never; ";
    co_return verdict;
}

corio::task<std::string> select_borrow_scenario(rig* r) {
    auto st = std::make_unique<borrowed_state>();
    frame_probe probe(&r->fc.destroyed);
    auto res = co_await corio::select(borrowing_task(std::move(probe), st.get(), r), corio::sleep(1ms));
    if (res.index() != 1) co_return "the sleep should have won";
    co_return co_await after_return(r, std::move(st));
}

TEST(cancel_rule, select_destroys_a_losing_borrowing_task_operand_before_it_returns) {
    run_both_flavors([](rig* r) { return select_borrow_scenario(r); });
}

corio::task<std::string> timeout_borrow_scenario(rig* r) {
    auto st = std::make_unique<borrowed_state>();
    frame_probe probe(&r->fc.destroyed);
    auto res = co_await corio::timeout(1ms, borrowing_task(std::move(probe), st.get(), r));
    if (res) co_return "the timeout should have elapsed";
    co_return co_await after_return(r, std::move(st));
}

TEST(cancel_rule, timeout_destroys_its_borrowing_task_operand_before_it_returns) {
    run_both_flavors([](rig* r) { return timeout_borrow_scenario(r); });
}

corio::task<std::string> race_borrow_scenario(rig* r) {
    auto st = std::make_unique<borrowed_state>();
    frame_probe probe(&r->fc.destroyed);
    auto res = co_await corio::race(borrowing_task(std::move(probe), st.get(), r), corio::sleep(1ms));
    if (res.index() != 1) co_return "the sleep should have won the race";
    co_return co_await after_return(r, std::move(st));
}

TEST(cancel_rule, race_destroys_a_losing_borrowing_task_operand_before_it_returns) {
    run_both_flavors([](rig* r) { return race_borrow_scenario(r); });
}

// try_join polls in argument order: the borrowing operand runs until it parks, then the receive
// on a channel without senders fails (nullopt), which ends the try_join early.
corio::task<std::string> try_join_borrow_scenario(rig* r) {
    {
        auto drop = std::move(r->closed.first);  // every sender gone: recv() yields nullopt
    }
    auto st = std::make_unique<borrowed_state>();
    frame_probe probe(&r->fc.destroyed);
    auto res = co_await corio::try_join(borrowing_optional(std::move(probe), st.get(), r), r->closed.second.recv());
    if (res) co_return "try_join should have failed on the closed channel";
    co_return co_await after_return(r, std::move(st));
}

TEST(cancel_rule, try_join_destroys_a_pending_borrowing_task_operand_when_another_fails) {
    run_both_flavors([](rig* r) { return try_join_borrow_scenario(r); });
}

// ---------------------------------------------------------------------------------------------
// 3. A temporary join_handle operand that loses is aborted, and select waits for it to finish.

corio::task<int> long_task([[maybe_unused]] frame_probe probe, rig* r) {
    r->fc.started.fetch_add(1);
    co_await r->gate.notified();
    r->fc.resumed.fetch_add(1);
    co_return 1;
}

corio::task<std::string> spawned_operand_scenario(rig* r) {
    frame_probe probe(&r->fc.destroyed);
    auto res = co_await corio::select(corio::spawn(long_task(std::move(probe), r)), corio::sleep(1ms));
    if (res.index() != 1) co_return "the sleep should have won";
    std::string verdict;
    // The frame is destroyed before the task completes (harness.cpp: cancel_task), so a finished
    // task has a destroyed frame, whether or not its body had started.
    if (r->fc.destroyed.load() != 1) verdict += "the losing spawned task had not finished when select returned; ";
    r->gate.notify_waiters();
    r->gate.notify_one();
    for (int i = 0; i < 16; ++i) co_await corio::yield_now();
    if (r->fc.resumed.load() != 0) verdict += "the losing spawned task ran on after select returned; ";
    co_return verdict;
}

TEST(cancel_rule, a_losing_temporary_join_handle_operand_has_finished_when_select_returns) {
    run_both_flavors([](rig* r) { return spawned_operand_scenario(r); });
}

}  // namespace
