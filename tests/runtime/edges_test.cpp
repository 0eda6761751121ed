// edges_test: runtime edge cases — the timer wheel's top level, several threads in block_on on
// one current_thread runtime, the paused clock while spawn_blocking work is outstanding, block_on
// refused on any runtime's worker, and shutdown from another thread during a current_thread
// block_on. Assertions are on orderings and counts (and on the paused clock, which is exact).
// Real time appears only in watchdogs that catch hangs, and in short pauses that give a wrongly
// auto-advancing clock the chance to jump (no assertion depends on their length).
#include <corio/channels/oneshot.hpp>
#include <corio/runtime/join_handle.hpp>
#include <corio/runtime/runtime.hpp>
#include <corio/runtime/spawn_blocking.hpp>
#include <corio/runtime/time.hpp>
#include <corio/runtime/yield_now.hpp>

#include "time/wheel.hpp"  // runtime/src: the wheel is tested on its own

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <latch>
#include <stdexcept>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

namespace {

// Runs `f` on a thread and aborts the whole test binary if it has not returned within `bound`:
// a hang would otherwise leave threads blocked on a runtime that the test cannot destroy.
template <class F>
void within(std::chrono::seconds bound, const char* what, F f) {
    auto done = std::async(std::launch::async, std::move(f));
    if (done.wait_for(bound) != std::future_status::ready) {
        std::fprintf(stderr, "edges_test: %s did not finish within %lld s (hang)\n", what,
                     static_cast<long long>(bound.count()));
        std::fflush(stderr);
        std::abort();
    }
    done.get();
}

corio::runtime_options current_thread_options(bool paused = false) {
    corio::runtime_options o;
    o.flavor = corio::runtime_flavor::current_thread;
    o.start_paused = paused;
    return o;
}

corio::runtime_options one_worker_options(bool paused = false) {
    corio::runtime_options o;
    o.worker_threads = 1;
    o.start_paused = paused;
    return o;
}

// --- 1. the wheel's top level ------------------------------------------------------------------

constexpr std::uint64_t top_slot = std::uint64_t{1} << 30;  // ms covered by one top-level slot
constexpr std::uint64_t top_turn = std::uint64_t{1} << 36;  // ms covered by the whole top level

TEST(edges_wheel, an_entry_in_the_top_levels_current_slot_does_not_hide_the_next_slot) {
    corio::detail::wheel w;
    // Due one full turn from now: the top level's current slot (slot 0), one turn later.
    corio::detail::timer_entry far;
    far.when_ = top_turn + 5;
    w.insert(&far);
    // Due in the top level's next slot, in this turn.
    corio::detail::timer_entry near;
    near.when_ = top_slot + 100;
    w.insert(&near);

    ASSERT_TRUE(w.next_expiration().has_value());
    EXPECT_EQ(*w.next_expiration(), top_slot);  // the start of slot 1, where `near` cascades down
    EXPECT_EQ(w.poll(top_slot + 99), nullptr);
    EXPECT_EQ(w.poll(top_slot + 100), &near);
    EXPECT_EQ(w.poll(top_slot + 100), nullptr);
    ASSERT_TRUE(w.next_expiration().has_value());
    EXPECT_EQ(*w.next_expiration(), top_turn);  // the current slot, one turn later
    EXPECT_EQ(w.poll(top_turn + 4), nullptr);
    EXPECT_EQ(w.poll(top_turn + 5), &far);
    EXPECT_TRUE(w.is_empty());
}

TEST(edges_wheel, a_wrapped_top_level_slot_comes_before_the_current_slot_one_turn_on) {
    corio::detail::wheel w;
    EXPECT_EQ(w.poll(3 * top_slot + 7), nullptr);  // elapsed: inside top-level slot 3
    // Slot 3 (current), one turn later; and slot 2, which has wrapped: also one turn later, earlier.
    corio::detail::timer_entry in_current;
    in_current.when_ = top_turn + 3 * top_slot + 50;
    w.insert(&in_current);
    corio::detail::timer_entry wrapped;
    wrapped.when_ = top_turn + 2 * top_slot + 50;
    w.insert(&wrapped);
    corio::detail::timer_entry later_this_turn;
    later_this_turn.when_ = 40 * top_slot;
    w.insert(&later_this_turn);

    EXPECT_EQ(*w.next_expiration(), 40 * top_slot);
    EXPECT_EQ(w.poll(40 * top_slot), &later_this_turn);
    EXPECT_EQ(*w.next_expiration(), top_turn + 2 * top_slot);
    EXPECT_EQ(w.poll(top_turn + 2 * top_slot + 50), &wrapped);
    EXPECT_EQ(w.poll(top_turn + 2 * top_slot + 50), nullptr);
    EXPECT_EQ(*w.next_expiration(), top_turn + 3 * top_slot);
    EXPECT_EQ(w.poll(top_turn + 3 * top_slot + 50), &in_current);
    EXPECT_TRUE(w.is_empty());
}

// The same through the runtime: a sleep of ~795 days sits in the top level's current slot; a
// sleep of 13 days must still wake after 13 days of paused time, not after the long one.
TEST(edges_time, a_thirteen_day_sleep_is_not_held_back_by_a_795_day_sleep) {
    for (bool current : {false, true}) {
        corio::runtime rt(current ? current_thread_options(true) : one_worker_options(true));
        auto order = rt.block_on([]() -> corio::task<std::vector<std::int64_t>> {
            const auto t0 = corio::time::now();
            std::vector<std::int64_t> woke;  // hours since t0, in wake order
            auto hours = [t0] {
                return std::chrono::duration_cast<std::chrono::hours>(corio::time::now() - t0).count();
            };
            auto far = corio::spawn([](auto h) -> corio::task<std::int64_t> {
                co_await corio::sleep(std::chrono::milliseconds(top_turn + 1000));
                co_return h();
            }(hours));
            co_await corio::yield_now();  // `far` registers first
            co_await corio::sleep(std::chrono::hours(13 * 24));
            woke.push_back(hours());
            woke.push_back((co_await far).value());
            co_return woke;
        }());
        ASSERT_EQ(order.size(), 2u);
        EXPECT_EQ(order[0], 13 * 24) << "current_thread=" << current;
        EXPECT_EQ(order[1], static_cast<std::int64_t>((top_turn + 1000) / 3'600'000)) << "current_thread=" << current;
    }
}

// --- 2. two threads in block_on on one current_thread runtime ----------------------------------

// B's future sends: whoever drives the runtime runs it.
TEST(edges_block_on, two_threads_on_one_current_thread_runtime_send_inside_block_on) {
    within(60s, "two block_on threads (send in the future)", [] {
        corio::runtime rt(current_thread_options());
        auto [tx, rx] = corio::oneshot::channel<int>();
        std::latch a_started(1);
        int got = 0;
        std::thread a([&, rx = std::move(rx)]() mutable {
            got = rt.block_on([](corio::oneshot::receiver<int>& rx, std::latch& started) -> corio::task<int> {
                started.count_down();
                auto r = co_await rx;
                co_return r.value();
            }(rx, a_started));
        });
        a_started.wait();
        std::thread b([&, tx = std::move(tx)]() mutable {
            rt.block_on([](corio::oneshot::sender<int> tx) -> corio::task<void> {
                for (int i = 0; i < 10; ++i) co_await corio::yield_now();
                (void)tx.send(7);
            }(std::move(tx)));
        });
        a.join();
        b.join();
        EXPECT_EQ(got, 7);
    });
}

// B sends after its block_on returned: B must get its result while A still drives (A waits for
// the send), so B cannot wait for the driver to become free.
TEST(edges_block_on, a_second_block_on_returns_while_the_first_still_drives) {
    within(60s, "two block_on threads (send after block_on)", [] {
        corio::runtime rt(current_thread_options());
        auto [tx, rx] = corio::oneshot::channel<int>();
        std::latch a_started(1);
        int got = 0, b_got = 0;
        std::thread a([&, rx = std::move(rx)]() mutable {
            got = rt.block_on([](corio::oneshot::receiver<int>& rx, std::latch& started) -> corio::task<int> {
                started.count_down();
                auto r = co_await rx;
                co_return r.value();
            }(rx, a_started));
        });
        a_started.wait();
        std::thread b([&, tx = std::move(tx)]() mutable {
            b_got = rt.block_on([]() -> corio::task<int> {
                co_await corio::yield_now();
                co_return 5;
            }());
            (void)tx.send(b_got + 2);
        });
        a.join();
        b.join();
        EXPECT_EQ(b_got, 5);
        EXPECT_EQ(got, 7);
    });
}

// The driver leaves (its future is done) while another thread still waits for tasks to run:
// that thread takes over the driver.
TEST(edges_block_on, a_waiting_block_on_takes_over_the_driver_when_the_first_returns) {
    within(60s, "driver hand-over", [] {
        corio::runtime rt(current_thread_options(true));
        std::latch a_started(1);
        std::atomic<bool> release_a{false};
        int a_got = 0, b_got = 0;
        std::thread a([&] {
            a_got = rt.block_on([](std::latch& started, std::atomic<bool>& release) -> corio::task<int> {
                started.count_down();
                while (!release.load()) co_await corio::yield_now();
                co_return 1;
            }(a_started, release_a));
        });
        a_started.wait();
        std::thread b([&] {
            b_got = rt.block_on([](std::atomic<bool>& release) -> corio::task<int> {
                release.store(true);  // A may now leave; this task still has a day to sleep
                co_await corio::sleep(24h);
                co_return 2;
            }(release_a));
        });
        a.join();
        b.join();
        EXPECT_EQ(a_got, 1);
        EXPECT_EQ(b_got, 2);
    });
}

// Many threads, each with its own chain of yields and a shared counter: every call returns.
TEST(edges_block_on, many_threads_share_one_current_thread_runtime) {
    within(120s, "many block_on threads", [] {
        corio::runtime rt(current_thread_options());
        std::atomic<int> done{0};
        std::vector<std::thread> ts;
        for (int t = 0; t < 6; ++t) {
            ts.emplace_back([&] {
                for (int round = 0; round < 50; ++round) {
                    int v = rt.block_on([](int r) -> corio::task<int> {
                        co_await corio::yield_now();
                        auto h = corio::spawn([](int x) -> corio::task<int> { co_return x + 1; }(r));
                        co_return (co_await h).value();
                    }(round));
                    if (v == round + 1) done.fetch_add(1);
                }
            });
        }
        for (auto& t : ts) t.join();
        EXPECT_EQ(done.load(), 6 * 50);
    });
}

// --- 3. the paused clock and spawn_blocking ----------------------------------------------------

struct inhibit_outcome {
    bool slept_while_job_ran = true;
    std::chrono::nanoseconds clock_moved_while_job_ran{-1};
    std::chrono::nanoseconds slept_for{-1};
};

corio::task<inhibit_outcome> sleep_while_blocking(std::latch* job_started, std::latch* release_job) {
    inhibit_outcome out;
    std::atomic<bool> slept{false};
    const auto t0 = corio::time::now();
    auto sleeper = corio::spawn([](std::atomic<bool>* slept) -> corio::task<corio::time::instant> {
        co_await corio::sleep(1h);
        slept->store(true);
        co_return corio::time::now();
    }(&slept));
    auto job = corio::spawn_blocking([&] {
        job_started->count_down();
        release_job->wait();
        return slept.load();  // read by the job itself, before it returns
    });
    out.slept_while_job_ran = (co_await job).value();
    out.clock_moved_while_job_ran = corio::time::now() - t0;
    out.slept_for = (co_await sleeper).value() - t0;
    co_return out;
}

void check_blocking_inhibits_auto_advance(corio::runtime_options o) {
    within(60s, "paused clock with blocking work", [&] {
        corio::runtime rt(o);
        std::latch job_started(1), release_job(1);
        std::thread releaser([&] {
            job_started.wait();
            // The runtime is idle but for the blocking job: give a wrongly auto-advancing clock
            // ample opportunity to jump (no assertion depends on this wait's length).
            std::this_thread::sleep_for(50ms);
            release_job.count_down();
        });
        const inhibit_outcome out = rt.block_on(sleep_while_blocking(&job_started, &release_job));
        releaser.join();
        EXPECT_FALSE(out.slept_while_job_ran);
        EXPECT_EQ(out.clock_moved_while_job_ran, 0ns);
        EXPECT_EQ(out.slept_for, std::chrono::nanoseconds(1h));  // then auto-advance, exactly
    });
}

TEST(edges_time, paused_clock_does_not_advance_while_blocking_work_is_outstanding_current_thread) {
    check_blocking_inhibits_auto_advance(current_thread_options(true));
}

TEST(edges_time, paused_clock_does_not_advance_while_blocking_work_is_outstanding_multi_thread) {
    check_blocking_inhibits_auto_advance(one_worker_options(true));
}

// A queued job (the pool is full) holds the clock too, until it has run.
TEST(edges_time, paused_clock_waits_for_queued_blocking_jobs) {
    within(60s, "paused clock with a queued blocking job", [] {
        corio::runtime_options o = one_worker_options(true);
        o.max_blocking_threads = 1;
        corio::runtime rt(o);
        std::latch release(1);
        std::thread releaser([&] {
            std::this_thread::sleep_for(50ms);
            release.count_down();
        });
        auto r = rt.block_on([](std::latch* release) -> corio::task<std::vector<int>> {
            std::vector<int> order;
            std::atomic<bool> slept{false};
            auto sleeper = corio::spawn([](std::atomic<bool>* s) -> corio::task<void> {
                co_await corio::sleep(10min);
                s->store(true);
            }(&slept));
            auto first = corio::spawn_blocking([release] { release->wait(); });
            auto second = corio::spawn_blocking([&] { return slept.load() ? 1 : 0; });  // queued
            (co_await first).value();
            order.push_back((co_await second).value());
            (co_await sleeper).value();
            order.push_back(slept.load() ? 1 : 0);
            co_return order;
        }(&release));
        releaser.join();
        EXPECT_EQ(r, (std::vector<int>{0, 1}));
    });
}

// --- 4. block_on refused on a worker -----------------------------------------------------------

corio::task<int> count_run(std::atomic<int>* runs) {
    runs->fetch_add(1);
    co_return 1;
}

template <class Call>
void expect_refused(Call call, std::atomic<int>& runs) {
    try {
        call();
        ADD_FAILURE() << "block_on on a worker did not throw";
    } catch (const std::logic_error& e) {
        EXPECT_NE(std::string(e.what()).find("from within a runtime"), std::string::npos) << e.what();
    }
    EXPECT_EQ(runs.load(), 0) << "the refused block_on's task ran anyway";
}

TEST(edges_block_on, refused_on_a_worker_of_the_same_runtime) {
    within(60s, "block_on on own worker", [] {
        corio::runtime rt(one_worker_options());
        std::atomic<int> runs{0};
        rt.block_on([](corio::runtime* rt, std::atomic<int>* runs) -> corio::task<void> {
            expect_refused([&] { (void)rt->block_on(count_run(runs)); }, *runs);
            co_return;
        }(&rt, &runs));
        // Give the runtime a chance to run a stray task before looking again.
        rt.block_on([]() -> corio::task<void> {
            for (int i = 0; i < 10; ++i) co_await corio::yield_now();
        }());
        EXPECT_EQ(runs.load(), 0);
    });
}

TEST(edges_block_on, refused_on_a_worker_of_another_runtime) {
    within(60s, "block_on on another runtime's worker", [] {
        corio::runtime outer(one_worker_options());
        corio::runtime inner(one_worker_options());
        std::atomic<int> runs{0};
        outer.block_on([](corio::runtime* inner, std::atomic<int>* runs) -> corio::task<void> {
            expect_refused([&] { (void)inner->block_on(count_run(runs)); }, *runs);
            co_return;
        }(&inner, &runs));
        EXPECT_EQ(runs.load(), 0);
        EXPECT_EQ(inner.block_on(count_run(&runs)), 1);  // the inner runtime is fine
    });
}

TEST(edges_block_on, refused_inside_a_current_thread_block_on) {
    within(60s, "block_on inside current_thread block_on", [] {
        corio::runtime outer(current_thread_options());
        corio::runtime other_ct(current_thread_options());
        corio::runtime other_mt(one_worker_options());
        std::atomic<int> runs{0};
        outer.block_on([](corio::runtime* self, corio::runtime* ct, corio::runtime* mt,
                          std::atomic<int>* runs) -> corio::task<void> {
            expect_refused([&] { (void)self->block_on(count_run(runs)); }, *runs);
            expect_refused([&] { (void)ct->block_on(count_run(runs)); }, *runs);
            expect_refused([&] { (void)mt->block_on(count_run(runs)); }, *runs);
            co_return;
        }(&outer, &other_ct, &other_mt, &runs));
        EXPECT_EQ(runs.load(), 0);
    });
}

// The blocking_ twins (here blocking_join) are refused on any runtime's worker too.
TEST(edges_block_on, blocking_join_refused_on_any_worker) {
    within(60s, "blocking_join on a worker", [] {
        corio::runtime other(one_worker_options());
        auto h = other.spawn([]() -> corio::task<int> { co_return 3; }());
        for (bool current : {false, true}) {
            corio::runtime rt(current ? current_thread_options() : one_worker_options());
            bool threw = rt.block_on([](corio::join_handle<int>* h) -> corio::task<bool> {
                try {
                    (void)h->blocking_join();
                } catch (const std::logic_error&) {
                    co_return true;
                }
                co_return false;
            }(&h));
            EXPECT_TRUE(threw) << "current_thread=" << current;
        }
        EXPECT_EQ(h.blocking_join().value(), 3);  // from a plain thread: fine
    });
}

// From a spawn_blocking job, block_on is allowed (the job's thread is not a worker).
TEST(edges_block_on, allowed_from_a_blocking_job) {
    within(60s, "block_on from spawn_blocking", [] {
        corio::runtime rt(one_worker_options());
        corio::runtime other(current_thread_options());
        int v = rt.block_on([](corio::runtime* other) -> corio::task<int> {
            auto h = corio::spawn_blocking([other] {
                return other->block_on([]() -> corio::task<int> { co_return 9; }());
            });
            co_return (co_await h).value();
        }(&other));
        EXPECT_EQ(v, 9);
    });
}

// --- 5. shutdown from another thread during a current_thread block_on -------------------------

corio::task<void> spawn_forever(std::atomic<int>* spawned, std::atomic<int>* finished) {
    for (;;) {
        auto h = corio::spawn([](std::atomic<int>* f) -> corio::task<void> {
            co_await corio::yield_now();
            f->fetch_add(1);
        }(finished));
        h.detach();
        spawned->fetch_add(1);
        co_await corio::yield_now();
    }
}

TEST(edges_shutdown, shutdown_from_another_thread_during_current_thread_block_on) {
    for (int round = 0; round < 20; ++round) {
        within(60s, "shutdown during current_thread block_on", [] {
            corio::runtime rt(current_thread_options());
            std::atomic<int> spawned{0}, finished{0};
            std::atomic<int> outcome{0};  // 1: logic_error, 2: join_error, 3: returned
            std::thread a([&] {
                try {
                    rt.block_on(spawn_forever(&spawned, &finished));
                    outcome = 3;
                } catch (const std::logic_error&) {
                    outcome = 1;
                } catch (const corio::join_error&) {
                    outcome = 2;
                }
            });
            while (spawned.load() < 100) std::this_thread::yield();
            rt.shutdown(10s);
            a.join();
            EXPECT_EQ(outcome.load(), 1);  // documented: std::logic_error
            EXPECT_GE(spawned.load(), 100);
        });
    }
}

// A second block_on waiting (not driving) when the shutdown comes ends too.
TEST(edges_shutdown, shutdown_ends_every_block_on_of_a_current_thread_runtime) {
    within(60s, "shutdown with two block_on threads", [] {
        corio::runtime rt(current_thread_options());
        std::atomic<int> spawned{0}, finished{0};
        std::atomic<int> ended{0};
        auto run = [&] {
            try {
                rt.block_on(spawn_forever(&spawned, &finished));
            } catch (const std::logic_error&) {
                ended.fetch_add(1);
            } catch (const corio::join_error& e) {
                if (e.is_cancelled()) ended.fetch_add(1);
            }
        };
        std::thread a(run), b(run);
        while (spawned.load() < 200) std::this_thread::yield();
        rt.shutdown(10s);
        a.join();
        b.join();
        EXPECT_EQ(ended.load(), 2);
        // After shutdown, block_on still ends (the task is cancelled at spawn).
        EXPECT_THROW(rt.block_on(count_run(&spawned)), corio::join_error);
    });
}

// Shutdown from one of the runtime's own tasks would wait for itself (the worker it runs on, or
// the current_thread block_on it runs in): refused, and the runtime carries on.
TEST(edges_shutdown, shutdown_from_the_runtimes_own_task_is_refused) {
    within(60s, "shutdown from an own task", [] {
        for (bool current : {false, true}) {
            corio::runtime rt(current ? current_thread_options() : one_worker_options());
            const bool threw = rt.block_on([](corio::runtime* rt) -> corio::task<bool> {
                try {
                    rt->shutdown(1s);
                } catch (const std::logic_error&) {
                    co_return true;
                }
                co_return false;
            }(&rt));
            EXPECT_TRUE(threw) << "current_thread=" << current;
            std::atomic<int> runs{0};
            EXPECT_EQ(rt.block_on(count_run(&runs)), 1) << "current_thread=" << current;
        }
    });
}

}  // namespace
