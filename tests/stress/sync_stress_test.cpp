// sync_stress_test: corio::sync under contention on 2 workers with aborts mixed in — a mutex keeps a
// non-atomic counter exact and is never lost when tasks parked in (or holding) it are aborted; a
// notify ping-pong never loses a notify_one although decoy waiters that receive it are aborted
// (L2 forwarding); a barrier elects one leader per generation. Cancel (leaf.hpp): plain threads
// queue semaphore / mutex operations, get granted and cancel them (or re-poll them) while others
// release, and every permit comes back; tasks race m.lock() against a notify in a two-operand
// select whose handler locks m again (the losing lock operand still alive) and never deadlock.
// Counts only; time bounds are hang guards.
//
// Scale: iteration counts are multiplied by the environment variable CORIO_STRESS_SCALE (default
// CORIO_STRESS_SCALE_DEFAULT, a CMake cache variable), and cut down under ThreadSanitizer.
#include <corio/channels/sync/barrier.hpp>
#include <corio/channels/sync/mutex.hpp>
#include <corio/channels/sync/notify.hpp>
#include <corio/channels/sync/semaphore.hpp>
#include <corio/runtime/runtime.hpp>
#include <corio/runtime/yield_now.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "support/manual_poll.hpp"
#include "support/stress.hpp"

namespace {

using namespace std::chrono_literals;
using corio::testing::counting_waker;
using corio::testing::hang_guard;
using corio::testing::iterations;
using corio::testing::poll_once;

// --- mutex ------------------------------------------------------------------------------------

struct plain_counter {
    std::uint64_t value = 0;  // deliberately not atomic: the mutex is the only protection
};
using counter_mutex = corio::sync::mutex<plain_counter>;

corio::task<int> increment_loop(counter_mutex* m, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
        auto g = co_await m->lock();
        const std::uint64_t v = g->value;
        if (i % 3 == 0) co_await corio::yield_now();  // held across a suspension
        g->value = v + 1;
    }
    co_return 0;
}

// Increments once, after its last suspension: an abort either lands before (no increment) or
// not at all (the task completes and is counted).
corio::task<int> victim(counter_mutex* m) {
    auto g = co_await m->lock();
    co_await corio::yield_now();
    g->value += 1;
    co_return 1;
}

TEST(sync_stress, mutex_counter_stays_exact_with_aborts_mixed_in) {
    const std::size_t workers = 6, per_worker = iterations(20'000, 4'000), victims = iterations(3'000, 1'000);
    corio::runtime rt({.worker_threads = 2});
    counter_mutex m;
    std::atomic<std::size_t> victims_done{0}, victims_aborted{0};
    hang_guard guard("mutex_counter", [&] {
        return "victims_done=" + std::to_string(victims_done.load()) +
               " victims_aborted=" + std::to_string(victims_aborted.load());
    });
    std::vector<corio::join_handle<int>> hs;
    for (std::size_t i = 0; i < workers; ++i) hs.push_back(rt.spawn(increment_loop(&m, per_worker)));
    std::mt19937 rng(12345);
    std::size_t completed = 0;
    for (std::size_t i = 0; i < victims; ++i) {
        auto v = rt.spawn(victim(&m));
        const int delay = static_cast<int>(rng() % 50);
        if (delay > 0) std::this_thread::sleep_for(std::chrono::microseconds(delay));
        v.abort();
        auto r = v.blocking_join();
        if (r) ++completed, victims_done.fetch_add(1);
        else victims_aborted.fetch_add(1);
    }
    for (auto& h : hs) EXPECT_EQ(h.blocking_join().value(), 0);
    EXPECT_EQ(m.get_mut().value, workers * per_worker + completed);
    EXPECT_TRUE(m.try_lock());  // not lost
    std::printf("mutex: %zu victims completed, %zu aborted\n", completed, victims - completed);
}

// --- notify -----------------------------------------------------------------------------------

struct ping_state {
    corio::sync::notify ping, ack;
    std::atomic<std::size_t> receipts{0};
    std::atomic<std::size_t> sent{0};
};

// Answers pings until aborted.
corio::task<int> consumer(ping_state* s) {
    for (;;) {
        co_await s->ping.notified();
        s->receipts.fetch_add(1);
        s->ack.notify_one();
    }
    co_return 0;  // unreachable: ends by abort
}

// Competes with the consumer for one ping; aborted at a random moment. Receiving (the await
// reporting ready) and acking happen with no suspension in between, so an aborted decoy either
// never received, or forwarded what it was handed (L2).
corio::task<int> decoy(ping_state* s) {
    co_await s->ping.notified();
    s->receipts.fetch_add(1);
    s->ack.notify_one();
    co_return 1;
}

corio::task<int> producer(ping_state* s, std::size_t rounds) {
    for (std::size_t i = 0; i < rounds; ++i) {
        s->sent.fetch_add(1);
        s->ping.notify_one();
        co_await s->ack.notified();
    }
    co_return 0;
}

TEST(sync_stress, notify_ping_pong_loses_no_permit_when_receivers_are_aborted) {
    const std::size_t rounds = iterations(50'000, 20'000);
    corio::runtime rt({.worker_threads = 2});
    ping_state s;
    std::atomic<std::size_t> decoys{0};
    hang_guard guard("notify_ping_pong", [&] {
        return "sent=" + std::to_string(s.sent.load()) + " receipts=" + std::to_string(s.receipts.load()) +
               " decoys=" + std::to_string(decoys.load());
    });
    auto c = rt.spawn(consumer(&s));
    auto p = rt.spawn(producer(&s, rounds));
    std::mt19937 rng(777);
    while (!p.is_finished()) {
        auto d = rt.spawn(decoy(&s));
        const int delay = static_cast<int>(rng() % 40);
        if (delay > 0) std::this_thread::sleep_for(std::chrono::microseconds(delay));
        d.abort();
        (void)d.blocking_join();
        decoys.fetch_add(1);
    }
    EXPECT_EQ(p.blocking_join().value(), 0);
    c.abort();
    (void)c.blocking_join();
    EXPECT_EQ(s.receipts.load(), rounds);
    std::printf("notify: %zu rounds, %zu decoys\n", rounds, decoys.load());
}

// --- barrier ----------------------------------------------------------------------------------

corio::task<int> barrier_loop(corio::sync::barrier* b, std::atomic<std::size_t>* leaders, std::size_t rounds) {
    for (std::size_t r = 0; r < rounds; ++r) {
        auto res = co_await b->wait();
        if (res.is_leader()) leaders->fetch_add(1);
    }
    co_return 0;
}

TEST(sync_stress, barrier_elects_one_leader_per_generation) {
    const std::size_t n = 7, rounds = iterations(20'000, 5'000);
    corio::runtime rt({.worker_threads = 2});
    corio::sync::barrier b(n);
    std::atomic<std::size_t> leaders{0};
    hang_guard guard("barrier", [&] { return "leaders=" + std::to_string(leaders.load()); });
    std::vector<corio::join_handle<int>> hs;
    for (std::size_t i = 0; i < n; ++i) hs.push_back(rt.spawn(barrier_loop(&b, &leaders, rounds)));
    for (auto& h : hs) EXPECT_EQ(h.blocking_join().value(), 0);
    EXPECT_EQ(leaders.load(), rounds);
}

// --- cancel racing grants (plain threads, leaves polled by hand) ------------------------------

// Polls `op` until it is ready, waiting for a wake of `w` between polls. A lost wake hangs (the
// hang guard reports it); a stale wake (of an earlier, cancelled operation) costs one poll.
template <class Op>
void poll_until_ready(Op& op, const counting_waker& w) {
    for (;;) {
        const int seen = w.wakes();
        if (poll_once(op, w)) return;
        while (w.wakes() == seen) std::this_thread::yield();
    }
}

// What a thread does with an operation whose first poll was pending. Cancelling after some yields
// races the grant: the releaser may have handed the node its permits (or the lock) meanwhile.
enum class fate { cancel_now, cancel_later, cancel_then_wait, destroy, wait };

fate pick_fate(std::mt19937& rng) { return static_cast<fate>(rng() % 5); }

void yield_a_little(std::mt19937& rng) {
    for (unsigned i = rng() % 32; i != 0; --i) std::this_thread::yield();
}

// Returns true if `op` ends up ready (its result must then be taken), false if it was cancelled
// or is to be destroyed pending.
template <class Op>
bool settle(Op& op, const counting_waker& w, std::mt19937& rng, std::atomic<std::size_t>& cancels) {
    if (poll_once(op, w)) return true;
    switch (pick_fate(rng)) {
        case fate::cancel_now: op.cancel(); break;
        case fate::cancel_later:
            yield_a_little(rng);
            op.cancel();
            op.cancel();  // idempotent
            break;
        case fate::cancel_then_wait:
            yield_a_little(rng);
            op.cancel();
            cancels.fetch_add(1, std::memory_order_relaxed);
            poll_until_ready(op, w);  // polled again: queues at the back
            return true;
        case fate::destroy: yield_a_little(rng); break;  // the destructor cancels
        case fate::wait: poll_until_ready(op, w); return true;
    }
    cancels.fetch_add(1, std::memory_order_relaxed);
    return false;
}

TEST(sync_stress, semaphore_cancels_racing_grants_lose_no_permit) {
    const std::size_t threads = 4, per_thread = iterations(10'000, 2'000), permits = 3;
    corio::sync::semaphore sem(permits);
    std::atomic<std::size_t> in_use{0}, over{0}, acquired{0}, cancels{0};
    hang_guard guard("semaphore_cancel", [&] {
        return "acquired=" + std::to_string(acquired.load()) + " cancels=" + std::to_string(cancels.load()) +
               " available=" + std::to_string(sem.available_permits());
    });
    std::vector<counting_waker> wakers(threads);
    std::vector<std::thread> ts;
    for (std::size_t t = 0; t < threads; ++t) {
        ts.emplace_back([&, t] {
            std::mt19937 rng(1000 + static_cast<unsigned>(t));
            for (std::size_t i = 0; i < per_thread; ++i) {
                const std::size_t k = 1 + rng() % permits;
                auto op = sem.acquire_many(k);
                if (!settle(op, wakers[t], rng, cancels)) continue;
                auto p = op.await_resume();
                ASSERT_TRUE(p);
                if (in_use.fetch_add(k) + k > permits) over.fetch_add(1);
                if (rng() % 4 == 0) std::this_thread::yield();
                in_use.fetch_sub(k);
                acquired.fetch_add(1, std::memory_order_relaxed);
            }  // the permit goes back here, to the oldest waiter first
        });
    }
    for (auto& th : ts) th.join();
    EXPECT_EQ(over.load(), 0u);
    EXPECT_EQ(sem.available_permits(), permits);
    for (auto& w : wakers) EXPECT_EQ(w.clones_alive(), 0);
    std::printf("semaphore: %zu acquired, %zu cancelled\n", acquired.load(), cancels.load());
}

TEST(sync_stress, mutex_cancels_racing_hand_overs_never_lose_the_lock) {
    const std::size_t threads = 4, per_thread = iterations(10'000, 2'000);
    counter_mutex m;
    std::atomic<std::size_t> acquired{0}, cancels{0};
    hang_guard guard("mutex_cancel", [&] {
        return "acquired=" + std::to_string(acquired.load()) + " cancels=" + std::to_string(cancels.load());
    });
    std::vector<counting_waker> wakers(threads);
    std::vector<std::thread> ts;
    for (std::size_t t = 0; t < threads; ++t) {
        ts.emplace_back([&, t] {
            std::mt19937 rng(2000 + static_cast<unsigned>(t));
            for (std::size_t i = 0; i < per_thread; ++i) {
                auto op = m.lock();
                if (!settle(op, wakers[t], rng, cancels)) continue;
                op.cancel();  // after a ready poll: a no-op, the lock stays op's
                auto g = op.await_resume();
                const std::uint64_t v = g->value;
                if (rng() % 4 == 0) std::this_thread::yield();
                g->value = v + 1;
                acquired.fetch_add(1, std::memory_order_relaxed);
            }
        });
    }
    for (auto& th : ts) th.join();
    auto g = m.try_lock();  // not lost
    ASSERT_TRUE(g);
    EXPECT_EQ((*g)->value, acquired.load());
    for (auto& w : wakers) EXPECT_EQ(w.clones_alive(), 0);
    std::printf("mutex: %zu acquired, %zu cancelled\n", acquired.load(), cancels.load());
}

// --- a select whose losing lock operand outlives the handler, on a runtime ---------------------

// Two operands, polled in order; the first ready one wins and the other is cancelled before the
// awaiting frame resumes (the rule of the real combinators). The operands are the caller's named
// operations, so they live on through the handler, as a pinned `m.lock()` temporary of a select
// statement does.
template <class A, class B>
class first_of final : public corio::leaf_awaiter<first_of<A, B>> {
public:
    first_of(A& a, B& b) noexcept : a_(a), b_(b) {}
    bool poll(corio::context& cx) noexcept override {
        if (a_.poll(cx)) {
            b_.cancel();
            winner_ = 0;
            return true;
        }
        if (b_.poll(cx)) {
            a_.cancel();
            winner_ = 1;
            return true;
        }
        return false;
    }
    void cancel() noexcept override {
        a_.cancel();
        b_.cancel();
    }
    int await_resume() const noexcept { return winner_; }

private:
    A& a_;
    B& b_;
    int winner_ = -1;
};

corio::task<int> lock_or_notified(counter_mutex* m, corio::sync::notify* n, std::size_t rounds,
                                  std::atomic<std::size_t>* via_handler) {
    for (std::size_t i = 0; i < rounds; ++i) {
        auto lk = m->lock();
        auto nt = n->notified();
        if (co_await first_of(lk, nt) == 0) {
            auto g = lk.await_resume();
            if (i % 2 == 0) co_await corio::yield_now();  // held across a suspension
            g->value += 1;
        } else {
            // The handler locks m while `lk`, the losing operand, is still alive. Had the loser
            // kept its queue place (or a lock handed to it), this would wait forever.
            auto g = co_await m->lock();
            g->value += 1;
            via_handler->fetch_add(1);
        }
        n->notify_one();
    }
    co_return 0;
}

TEST(sync_stress, select_handler_relocking_a_losing_lock_operand_never_deadlocks) {
    const std::size_t tasks = 6, rounds = iterations(20'000, 3'000);
    corio::runtime rt({.worker_threads = 2});
    counter_mutex m;
    corio::sync::notify n;
    std::atomic<std::size_t> via_handler{0};
    hang_guard guard("select_relock", [&] { return "via_handler=" + std::to_string(via_handler.load()); });
    std::vector<corio::join_handle<int>> hs;
    for (std::size_t i = 0; i < tasks; ++i) hs.push_back(rt.spawn(lock_or_notified(&m, &n, rounds, &via_handler)));
    for (auto& h : hs) EXPECT_EQ(h.blocking_join().value(), 0);
    EXPECT_EQ(m.get_mut().value, tasks * rounds);
    EXPECT_TRUE(m.try_lock());
    std::printf("select relock: %zu of %zu rounds went through the handler\n", via_handler.load(), tasks * rounds);
}

}  // namespace
