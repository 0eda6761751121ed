// runtime_stress_test: the scheduler's invariants under contention (docs/design/invariants.md, items 3, 12, 13, 16, 17, 20):
// every task runs exactly once, a wake storm resumes a task once per readiness and never on two
// threads, abort/detach racing completion destroys every frame and output exactly once, spawns
// from outside are never lost while workers park, shutdown cancels tasks mid-flight, and work is
// stolen across workers. Counts and orderings only; time bounds are hang guards.
//
// Scale: iteration counts are multiplied by the environment variable CORIO_STRESS_SCALE (default
// CORIO_STRESS_SCALE_DEFAULT, a CMake cache variable), and cut down under ThreadSanitizer.
#include <corio/runtime/runtime.hpp>
#include <corio/runtime/yield_now.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>
#include <utility>

#include "support/stress.hpp"

namespace {

using namespace std::chrono_literals;
using corio::testing::hang_guard;
using corio::testing::iterations;

// Waits (without a time bound of its own: the hang_guard has one) until `pred` holds.
template <class Pred>
void wait_until(Pred pred) {
    while (!pred()) std::this_thread::yield();
}

// Counts frame destructions. Passed by value as a coroutine parameter it lives in the frame, so it
// also counts frames that were destroyed before they ever ran.
struct frame_counters {
    explicit frame_counters(std::size_t n) : per_id(n) {}
    std::atomic<std::size_t> created{0};
    std::atomic<std::size_t> destroyed{0};
    std::vector<std::atomic<std::uint32_t>> per_id;  // destructions of the frame of task `id`
};

class frame_guard {
public:
    frame_guard(frame_counters* c, std::size_t id) noexcept : c_(c), id_(id) {
        c_->created.fetch_add(1, std::memory_order_relaxed);
    }
    frame_guard(frame_guard&& o) noexcept : c_(std::exchange(o.c_, nullptr)), id_(o.id_) {}
    frame_guard& operator=(frame_guard&&) = delete;
    ~frame_guard() {
        if (!c_) return;
        c_->per_id[id_].fetch_add(1, std::memory_order_relaxed);
        c_->destroyed.fetch_add(1, std::memory_order_acq_rel);
    }

private:
    frame_counters* c_;
    std::size_t id_;
};

void expect_each_frame_destroyed_once(const frame_counters& c, std::size_t n) {
    EXPECT_EQ(c.created.load(), n);
    EXPECT_EQ(c.destroyed.load(), n);
    std::size_t bad = 0;
    for (std::size_t i = 0; i < n; ++i) bad += c.per_id[i].load() != 1;
    EXPECT_EQ(bad, 0u) << "frames not destroyed exactly once";
}

// --- 1. a million tasks ------------------------------------------------------------------------

struct million_state {
    explicit million_state(std::size_t n) : runs(n) {}
    std::vector<std::atomic<std::uint8_t>> runs;
    std::atomic<std::size_t> done{0};
};

corio::task<void> count_once(million_state* s, std::size_t id) {
    s->runs[id].fetch_add(1, std::memory_order_relaxed);
    if (s->done.fetch_add(1, std::memory_order_acq_rel) + 1 == s->runs.size()) s->done.notify_all();
    co_return;
}

// Runs, then spawns its partner from inside the runtime (LIFO slot and local queue paths).
corio::task<void> count_and_spawn(million_state* s, std::size_t id, std::size_t child) {
    corio::spawn(count_once(s, child)).detach();
    if (id % 64 == 0) co_await corio::yield_now();
    s->runs[id].fetch_add(1, std::memory_order_relaxed);
    if (s->done.fetch_add(1, std::memory_order_acq_rel) + 1 == s->runs.size()) s->done.notify_all();
}

TEST(runtime_stress, million_tasks_each_run_exactly_once) {
    const std::size_t n = iterations(1'000'000, 100'000) & ~std::size_t{7};
    constexpr std::size_t spawners = 4;
    million_state s(n);
    std::atomic<std::size_t> spawned{0};
    hang_guard guard("million_tasks", [&] {
        return "spawned " + std::to_string(spawned.load()) + " done " + std::to_string(s.done.load()) + " of " +
               std::to_string(n);
    });
    {
        corio::runtime rt({.worker_threads = 2});
        std::vector<std::thread> threads;
        for (std::size_t t = 0; t < spawners; ++t) {
            threads.emplace_back([&, t, h = rt.handle()]() mutable {
                // Thread t spawns ids [t*n/4, (t+1)*n/4): the first half from here, each of
                // which spawns one of the second half from inside the runtime.
                const std::size_t base = t * n / spawners, half = n / spawners / 2;
                for (std::size_t i = 0; i < half; ++i) {
                    spawned.fetch_add(2, std::memory_order_relaxed);
                    h.spawn(count_and_spawn(&s, base + i, base + half + i)).detach();
                    // Bound the tasks in flight (memory under ASan), never waiting on time.
                    while (spawned.load(std::memory_order_relaxed) - s.done.load(std::memory_order_relaxed) > 100'000)
                        std::this_thread::yield();
                }
            });
        }
        for (auto& t : threads) t.join();
        for (std::size_t d = s.done.load(); d != n; d = s.done.load()) s.done.wait(d);
    }
    EXPECT_EQ(s.done.load(), n);
    std::size_t bad = 0;
    for (auto& r : s.runs) bad += r.load() != 1;
    EXPECT_EQ(bad, 0u) << "tasks that did not run exactly once";
}

// --- 2. wake storm ----------------------------------------------------------------------------

// A readiness counter with one registered waker. The waker is kept under a small mutex and is
// cloned out of it before being fired (never wake under a lock).
struct storm_source {
    std::mutex mutex;
    corio::waker waker;                     // guarded by mutex
    std::atomic<std::uint64_t> tokens{0};   // readiness not yet consumed
    std::atomic<std::uint64_t> consumed{0};  // polls that returned ready
    std::atomic<std::uint64_t> resumed{0};   // times the task continued past the await
    std::atomic<int> running{0};
    std::atomic<int> max_running{0};
    std::atomic<std::uint64_t> mismatches{0};

    corio::waker clone_waker() {
        std::lock_guard lock(mutex);
        return waker;
    }
};

class token_operation : public corio::leaf_awaiter<token_operation> {
public:
    explicit token_operation(storm_source* s) noexcept : s_(s) {}
    bool poll(corio::context& cx) noexcept override {
        {
            // Register first, then check: a token added after the check wakes this waker.
            std::lock_guard lock(s_->mutex);
            s_->waker.set(cx.waker());
        }
        std::uint64_t t = s_->tokens.load(std::memory_order_acquire);
        while (t != 0) {
            if (s_->tokens.compare_exchange_weak(t, t - 1, std::memory_order_acq_rel)) {
                s_->consumed.fetch_add(1, std::memory_order_relaxed);
                return true;
            }
        }
        return false;
    }
    // One consumer per source: its registration is the source's only waker.
    void cancel() noexcept override {
        corio::waker gone;  // dropped after unlock
        std::lock_guard lock(s_->mutex);
        gone = std::move(s_->waker);
    }
    void await_resume() const noexcept {}

private:
    storm_source* s_;
};

void enter(storm_source* s) {
    int r = s->running.fetch_add(1, std::memory_order_acq_rel) + 1;
    int m = s->max_running.load(std::memory_order_relaxed);
    while (r > m && !s->max_running.compare_exchange_weak(m, r)) {
    }
}
void leave(storm_source* s) { s->running.fetch_sub(1, std::memory_order_acq_rel); }

corio::task<void> storm_waiter(storm_source* s, std::uint64_t rounds) {
    for (std::uint64_t i = 0; i < rounds; ++i) {
        token_operation op(s);
        co_await op;
        enter(s);
        const std::uint64_t resumed = s->resumed.fetch_add(1, std::memory_order_relaxed) + 1;
        // Every resumption is preceded by exactly one ready poll.
        if (resumed != s->consumed.load(std::memory_order_relaxed)) s->mismatches.fetch_add(1);
        if (i % 7 == 0) {
            leave(s);
            co_await corio::yield_now();
            enter(s);
        }
        leave(s);
    }
}

TEST(runtime_stress, wake_storm_resumes_once_per_readiness_on_one_thread) {
    constexpr std::size_t tasks = 4, firers = 4;
    const std::uint64_t rounds = iterations(40'000, 20'000) / firers * firers;
    std::vector<storm_source> src(tasks);
    hang_guard guard("wake_storm", [&] {
        std::string out;
        for (auto& s : src)
            out += "[tokens " + std::to_string(s.tokens.load()) + " consumed " + std::to_string(s.consumed.load()) +
                   " resumed " + std::to_string(s.resumed.load()) + "] ";
        return out;
    });
    {
        corio::runtime rt({.worker_threads = 2});
        std::vector<corio::join_handle<void>> handles;
        std::atomic<bool> go{false};
        std::vector<std::thread> threads;
        for (std::size_t f = 0; f < firers; ++f) {
            threads.emplace_back([&, f] {
                std::minstd_rand rng(static_cast<unsigned>(f + 1));
                wait_until([&] { return go.load(); });
                for (std::uint64_t i = 0; i < rounds / firers; ++i) {
                    for (std::size_t k = 0; k < tasks; ++k) {
                        storm_source& s = src[(k + f) % tasks];
                        // Spurious wakes first, possibly before the task registered at all or
                        // while it runs, then one readiness and its wake.
                        for (unsigned j = rng() % 3; j > 0; --j) {
                            corio::waker w = s.clone_waker();
                            if (rng() & 1) w.wake_by_ref();
                            else std::move(w).wake();
                        }
                        s.tokens.fetch_add(1, std::memory_order_acq_rel);
                        corio::waker w = s.clone_waker();
                        std::move(w).wake();
                    }
                }
            });
        }
        // The firers start before the tasks exist: their first wakes find no waker.
        go.store(true);
        for (std::size_t k = 0; k < tasks; ++k) handles.push_back(rt.spawn(storm_waiter(&src[k], rounds)));
        for (auto& t : threads) t.join();
        for (auto& h : handles) EXPECT_TRUE(h.blocking_join().has_value());
        for (auto& s : src) {
            std::lock_guard lock(s.mutex);
            s.waker.reset();
        }
    }
    for (auto& s : src) {
        EXPECT_EQ(s.consumed.load(), rounds);
        EXPECT_EQ(s.resumed.load(), rounds);
        EXPECT_EQ(s.tokens.load(), 0u);
        EXPECT_EQ(s.mismatches.load(), 0u);
        EXPECT_EQ(s.max_running.load(), 1);
    }
}

// --- 3. abort racing completion ---------------------------------------------------------------

corio::task<std::uint64_t> yield_then_return([[maybe_unused]] frame_guard g, std::uint64_t id, unsigned yields) {
    for (unsigned i = 0; i < yields; ++i) co_await corio::yield_now();
    co_return id * 2 + 1;
}

// Never completes on its own: only abort() ends it, at its leaf (docs/design/invariants.md, item 11).
corio::task<std::uint64_t> parked_until_aborted([[maybe_unused]] frame_guard g, unsigned yields);

struct join_tally {
    std::atomic<std::size_t> values{0}, cancelled{0}, wrong{0};
};

void check_join(const corio::result<std::uint64_t, corio::join_error>& r, std::uint64_t id, join_tally* t) {
    if (r.has_value()) {
        if (*r == id * 2 + 1) t->values.fetch_add(1);
        else t->wrong.fetch_add(1);
    } else if (r.error().is_cancelled()) {
        t->cancelled.fetch_add(1);
    } else {
        t->wrong.fetch_add(1);
    }
}

corio::task<void> join_all(std::vector<corio::join_handle<std::uint64_t>>* hs, std::uint64_t first_id, join_tally* t) {
    for (std::size_t i = 0; i < hs->size(); ++i) {
        corio::join_handle<std::uint64_t>& h = (*hs)[i];
        auto r = co_await h;
        check_join(r, first_id + i, t);
    }
}

TEST(runtime_stress, abort_racing_completion_gives_value_or_cancelled) {
    constexpr std::size_t batch = 128, parked_stride = 16;
    const std::size_t batches = iterations(200, 150);
    const std::size_t n = batch * batches;
    frame_counters frames(n);
    join_tally tally;
    std::atomic<std::size_t> batch_no{0};
    hang_guard guard("abort_racing_completion", [&] {
        return "batch " + std::to_string(batch_no.load()) + " values " + std::to_string(tally.values.load()) +
               " cancelled " + std::to_string(tally.cancelled.load());
    });
    {
        corio::runtime rt({.worker_threads = 2});
        std::vector<corio::join_handle<std::uint64_t>> handles;
        std::barrier sync(2);
        std::thread aborter([&] {
            std::minstd_rand rng(7);
            for (std::size_t b = 0; b < batches; ++b) {
                sync.arrive_and_wait();  // the batch is spawned
                for (std::size_t i = 0; i < batch; ++i) {
                    if (rng() % 2) continue;
                    for (unsigned spin = rng() % 2000; spin > 0; --spin) std::atomic_signal_fence(std::memory_order_seq_cst);
                    handles[rng() % batch].abort();  // possibly twice, possibly after completion
                }
                // The parked ones finish only by abort: this makes every batch see cancellations.
                for (std::size_t i = parked_stride - 1; i < batch; i += parked_stride) handles[i].abort();
                sync.arrive_and_wait();  // done with the handles
            }
        });
        std::minstd_rand rng(3);
        for (std::size_t b = 0; b < batches; ++b) {
            batch_no.store(b);
            const std::uint64_t first = b * batch;
            handles.clear();
            for (std::size_t i = 0; i < batch; ++i) {
                if (i % parked_stride == parked_stride - 1)
                    handles.push_back(rt.spawn(parked_until_aborted(frame_guard(&frames, first + i), rng() % 4)));
                else
                    handles.push_back(
                        rt.spawn(yield_then_return(frame_guard(&frames, first + i), first + i, rng() % 4)));
            }
            sync.arrive_and_wait();
            if (b % 2) {
                for (std::size_t i = 0; i < batch; ++i) check_join(handles[i].blocking_join(), first + i, &tally);
            } else {
                rt.block_on(join_all(&handles, first, &tally));
            }
            sync.arrive_and_wait();
        }
        aborter.join();
        handles.clear();
        // Every task was joined: its frame is gone before its handle sees it complete.
        EXPECT_EQ(frames.destroyed.load(), n);
    }
    EXPECT_EQ(tally.wrong.load(), 0u);
    EXPECT_EQ(tally.values.load() + tally.cancelled.load(), n);
    EXPECT_GE(tally.cancelled.load(), batches * (batch / parked_stride));
    expect_each_frame_destroyed_once(frames, n);
}

// --- 4. join racing abort and detach ----------------------------------------------------------

// An output that counts the destruction of each value it owns (moved-from husks don't count).
struct output_counters {
    explicit output_counters(std::size_t n) : per_id(n), returned(n) {}
    std::atomic<std::size_t> made{0}, destroyed{0};
    std::vector<std::atomic<std::uint32_t>> per_id;
    std::vector<std::atomic<std::uint8_t>> returned;
};

class counted {
public:
    counted(output_counters* c, std::size_t id) noexcept : c_(c), id_(id) { c_->made.fetch_add(1); }
    counted(counted&& o) noexcept : c_(std::exchange(o.c_, nullptr)), id_(o.id_) {}
    counted& operator=(counted&& o) noexcept {
        release();
        c_ = std::exchange(o.c_, nullptr);
        id_ = o.id_;
        return *this;
    }
    ~counted() { release(); }
    std::size_t id() const noexcept { return id_; }

private:
    void release() noexcept {
        if (auto* c = std::exchange(c_, nullptr)) {
            c->per_id[id_].fetch_add(1, std::memory_order_relaxed);
            c->destroyed.fetch_add(1, std::memory_order_acq_rel);
        }
    }
    output_counters* c_;
    std::size_t id_;
};

corio::task<counted> make_counted([[maybe_unused]] frame_guard g, output_counters* c, std::size_t id, unsigned yields) {
    for (unsigned i = 0; i < yields; ++i) co_await corio::yield_now();
    c->returned[id].store(1, std::memory_order_relaxed);
    counted out(c, id);
    co_return std::move(out);
}

TEST(runtime_stress, dropped_join_handles_destroy_each_output_once) {
    constexpr std::size_t batch = 128;
    const std::size_t batches = iterations(300, 200);
    const std::size_t n = batch * batches;
    frame_counters frames(n);
    output_counters outs(n);
    std::atomic<std::size_t> batch_no{0}, joined_ok{0}, joined_cancelled{0}, wrong{0};
    hang_guard guard("dropped_join_handles", [&] {
        return "batch " + std::to_string(batch_no.load()) + " outputs made " + std::to_string(outs.made.load()) +
               " destroyed " + std::to_string(outs.destroyed.load());
    });
    {
        corio::runtime rt({.worker_threads = 2});
        std::vector<corio::join_handle<counted>> mine, theirs;
        std::barrier sync(2);
        auto handle_some = [&](std::vector<corio::join_handle<counted>>& hs, std::size_t first, unsigned seed) {
            // Per handle, at a random moment: drop it, abort then drop it, or abort/not and join it.
            std::minstd_rand rng(seed);
            for (std::size_t i = 0; i < hs.size(); ++i) {
                for (unsigned spin = rng() % 1000; spin > 0; --spin) std::atomic_signal_fence(std::memory_order_seq_cst);
                switch (rng() % 4) {
                    case 0: hs[i].detach(); break;
                    case 1:
                        hs[i].abort();
                        hs[i] = corio::join_handle<counted>();
                        break;
                    case 2: hs[i].abort(); [[fallthrough]];
                    default: {
                        auto r = hs[i].blocking_join();
                        if (r.has_value()) {
                            if (r->id() == first + i) joined_ok.fetch_add(1);
                            else wrong.fetch_add(1);
                        } else if (r.error().is_cancelled()) {
                            joined_cancelled.fetch_add(1);
                        } else {
                            wrong.fetch_add(1);
                        }
                        break;
                    }
                }
            }
            hs.clear();
        };
        std::thread other([&] {
            for (std::size_t b = 0; b < batches; ++b) {
                sync.arrive_and_wait();
                handle_some(theirs, b * batch + batch / 2, static_cast<unsigned>(b * 2 + 1));
                sync.arrive_and_wait();
            }
        });
        std::minstd_rand rng(11);
        for (std::size_t b = 0; b < batches; ++b) {
            batch_no.store(b);
            const std::size_t first = b * batch;
            for (std::size_t i = 0; i < batch; ++i) {
                auto h = rt.spawn(make_counted(frame_guard(&frames, first + i), &outs, first + i, rng() % 3));
                (i < batch / 2 ? mine : theirs).push_back(std::move(h));
            }
            sync.arrive_and_wait();
            handle_some(mine, first, static_cast<unsigned>(b * 2 + 2));
            sync.arrive_and_wait();
        }
        other.join();
    }
    // The runtime is gone: every task completed or was cancelled at shutdown.
    EXPECT_EQ(wrong.load(), 0u);
    EXPECT_GT(joined_ok.load(), 0u);
    expect_each_frame_destroyed_once(frames, n);
    EXPECT_EQ(outs.made.load(), outs.destroyed.load());
    std::size_t bad = 0, returned = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const bool ret = outs.returned[i].load();
        returned += ret;
        bad += outs.per_id[i].load() != (ret ? 1u : 0u);
    }
    EXPECT_EQ(outs.made.load(), returned);
    EXPECT_EQ(bad, 0u) << "outputs not destroyed exactly once";
}

// --- 5. spawns from outside while workers park ------------------------------------------------

using steady = std::chrono::steady_clock;

struct parking_state {
    explicit parking_state(std::size_t n) : spawned_at(n), ran_at(n), runs(n) {}
    std::vector<std::atomic<std::int64_t>> spawned_at, ran_at;  // steady_clock ticks
    std::vector<std::atomic<std::uint8_t>> runs;
    std::atomic<std::size_t> done{0};
};

std::int64_t now_ticks() { return steady::now().time_since_epoch().count(); }

corio::task<void> record_run(parking_state* s, std::size_t id) {
    s->ran_at[id].store(now_ticks(), std::memory_order_relaxed);
    s->runs[id].fetch_add(1, std::memory_order_relaxed);
    s->done.fetch_add(1, std::memory_order_acq_rel);
    s->done.notify_all();
    co_return;
}

corio::task<void> record_and_spawn(parking_state* s, std::size_t id, std::size_t child) {
    s->spawned_at[child].store(now_ticks(), std::memory_order_relaxed);
    corio::spawn(record_run(s, child)).detach();
    co_await record_run(s, id);
}

TEST(runtime_stress, spawns_from_outside_are_never_lost_while_workers_park) {
    constexpr std::size_t producers = 2;
    const std::size_t per_producer = iterations(10'000, 8'000) & ~std::size_t{1};
    const std::size_t n = producers * per_producer;
    parking_state s(n);
    hang_guard guard("parking_race", [&] { return "done " + std::to_string(s.done.load()) + " of " + std::to_string(n); });
    {
        corio::runtime rt({.worker_threads = 2});
        std::vector<std::thread> threads;
        for (std::size_t p = 0; p < producers; ++p) {
            threads.emplace_back([&, p, h = rt.handle()]() mutable {
                std::minstd_rand rng(static_cast<unsigned>(p + 100));
                const std::size_t base = p * per_producer;
                for (std::size_t i = 0; i < per_producer; i += 2) {
                    // Short random gaps, so the workers run dry and park between spawns; some
                    // spawns come back to back.
                    switch (rng() % 4) {
                        case 0: break;
                        case 1:
                            for (unsigned spin = rng() % 20'000; spin > 0; --spin)
                                std::atomic_signal_fence(std::memory_order_seq_cst);
                            break;
                        default: std::this_thread::sleep_for(std::chrono::microseconds(rng() % 200)); break;
                    }
                    const std::size_t id = base + i;
                    s.spawned_at[id].store(now_ticks(), std::memory_order_relaxed);
                    if (rng() % 8 == 0) {
                        // Wait for this one: the runtime goes fully idle before the next spawn.
                        auto jh = h.spawn(record_and_spawn(&s, id, id + 1));
                        EXPECT_TRUE(jh.blocking_join().has_value());
                    } else {
                        h.spawn(record_and_spawn(&s, id, id + 1)).detach();
                    }
                }
            });
        }
        for (auto& t : threads) t.join();
        for (std::size_t d = s.done.load(); d != n; d = s.done.load()) s.done.wait(d);
    }
    std::size_t bad = 0, slow = 0;
    std::int64_t worst = 0;
    const std::int64_t bound =
        std::chrono::duration_cast<steady::duration>(std::chrono::seconds(CORIO_STRESS_TSAN ? 30 : 10)).count();
    for (std::size_t i = 0; i < n; ++i) {
        bad += s.runs[i].load() != 1;
        const std::int64_t wait = s.ran_at[i].load() - s.spawned_at[i].load();
        worst = std::max(worst, wait);
        slow += wait > bound;
    }
    EXPECT_EQ(bad, 0u) << "tasks that did not run exactly once";
    EXPECT_EQ(slow, 0u) << "tasks that waited longer than the hang bound; worst "
                        << std::chrono::duration_cast<std::chrono::milliseconds>(steady::duration(worst)).count()
                        << " ms";
}

// --- 6. shutdown with tasks mid-flight --------------------------------------------------------

// A leaf that is never ready; it keeps its waker (a task reference) until its frame is destroyed.
class never_operation : public corio::leaf_awaiter<never_operation> {
public:
    bool poll(corio::context& cx) noexcept override {
        waker_.set(cx.waker());
        return false;
    }
    void cancel() noexcept override { waker_.reset(); }
    void await_resume() const noexcept {}

private:
    corio::waker waker_;
};

corio::task<std::uint64_t> parked_until_aborted([[maybe_unused]] frame_guard g, unsigned yields) {
    for (unsigned i = 0; i < yields; ++i) co_await corio::yield_now();
    never_operation op;
    co_await op;
    co_return 0;  // unreachable: the leaf is never ready
}

// Wakers of parked tasks that an outside thread fires while the runtime shuts down.
struct wake_registry {
    std::mutex mutex;
    std::vector<corio::waker> wakers;  // guarded by mutex
};

class registered_operation : public corio::leaf_awaiter<registered_operation> {
public:
    explicit registered_operation(wake_registry* r) noexcept : r_(r) {}
    bool poll(corio::context& cx) noexcept override {
        if (polled_) return true;  // any wake makes it ready
        polled_ = true;
        registered_as_ = cx.waker().data();
        std::lock_guard lock(r_->mutex);
        r_->wakers.push_back(cx.waker().clone());
        return false;
    }
    // Withdraws the clone this operation registered (one operation per task: the task's waker
    // identifies it).
    void cancel() noexcept override {
        if (!std::exchange(polled_, false)) return;
        std::vector<corio::waker> gone;  // dropped after unlock
        std::lock_guard lock(r_->mutex);
        for (auto it = r_->wakers.begin(); it != r_->wakers.end();) {
            if (it->as_ref().data() == registered_as_) {
                gone.push_back(std::move(*it));
                it = r_->wakers.erase(it);
            } else {
                ++it;
            }
        }
    }
    void await_resume() const noexcept {}

private:
    wake_registry* r_;
    bool polled_ = false;
    const void* registered_as_ = nullptr;
};

struct shutdown_state {
    explicit shutdown_state(std::size_t max_frames) : frames(max_frames) {}
    frame_counters frames;
    std::atomic<std::size_t> next_id{0};
    std::atomic<std::size_t> started{0};
    wake_registry registry;
    frame_guard make_guard() {
        std::size_t id = next_id.fetch_add(1, std::memory_order_relaxed);
        if (id >= frames.per_id.size()) std::abort();  // the test sized the counters too small
        return frame_guard(&frames, id);
    }
};

corio::task<void> yielder([[maybe_unused]] frame_guard g, shutdown_state* s) {
    s->started.fetch_add(1);
    for (;;) co_await corio::yield_now();
}

corio::task<void> parked_forever([[maybe_unused]] frame_guard g, shutdown_state* s) {
    s->started.fetch_add(1);
    never_operation op;
    co_await op;
}

corio::task<void> parked_on_registry([[maybe_unused]] frame_guard g, shutdown_state* s) {
    s->started.fetch_add(1);
    for (;;) {
        registered_operation op(&s->registry);
        co_await op;
    }
}

corio::task<void> spawner([[maybe_unused]] frame_guard g, shutdown_state* s, unsigned depth) {
    s->started.fetch_add(1);
    for (unsigned i = 0; i < 8; ++i) {
        if (depth > 0) corio::spawn(spawner(s->make_guard(), s, depth - 1)).detach();
        else corio::spawn(parked_forever(s->make_guard(), s)).detach();
        co_await corio::yield_now();
    }
    never_operation op;
    co_await op;
}

corio::task<int> finisher([[maybe_unused]] frame_guard g, shutdown_state* s) {
    s->started.fetch_add(1);
    co_await corio::yield_now();
    co_return 1;
}

TEST(runtime_stress, shutdown_mid_flight_destroys_every_frame_once) {
    const std::size_t rounds = iterations(300, 150);
    // Per round: 4 kinds x 4 roots, spawner trees of 8 + 8*8 children, one spawn after shutdown.
    constexpr std::size_t per_round = 16 + 4 * (8 + 64) + 1;
    std::size_t round_no = 0;
    std::unique_ptr<shutdown_state> s;
    hang_guard guard("shutdown_mid_flight", [&] {
        return "round " + std::to_string(round_no) + (s ? " started " + std::to_string(s->started.load()) : "");
    });
    std::minstd_rand rng(5);
    for (; round_no < rounds; ++round_no) {
        s = std::make_unique<shutdown_state>(per_round);
        std::atomic<bool> stop_firing{false};
        std::thread firer;
        std::vector<corio::join_handle<int>> kept;
        {
            // Vary the worker count and the LIFO slot: shutdown drains local queues, LIFO slots
            // and the inject queue.
            corio::runtime rt({.worker_threads = 1 + round_no % 3, .disable_lifo_slot = round_no % 2 == 1});
            for (int k = 0; k < 4; ++k) {
                rt.spawn(yielder(s->make_guard(), s.get())).detach();
                rt.spawn(parked_on_registry(s->make_guard(), s.get())).detach();
                rt.spawn(spawner(s->make_guard(), s.get(), 1)).detach();
                kept.push_back(rt.spawn(finisher(s->make_guard(), s.get())));
            }
            firer = std::thread([&] {
                while (!stop_firing.load()) {
                    std::vector<corio::waker> ws;
                    {
                        std::lock_guard lock(s->registry.mutex);
                        ws.swap(s->registry.wakers);
                    }
                    for (auto& w : ws) std::move(w).wake();
                    std::this_thread::yield();
                }
            });
            // Shut down at a random point: at once, or after some of the tasks started.
            const std::size_t wait_for = rng() % 24;
            wait_until([&] { return s->started.load() >= wait_for; });
            if (round_no % 4 == 0) {
                // An explicit shutdown, then a spawn: the new task is cancelled without running.
                rt.shutdown(std::chrono::seconds(0));
                auto late = rt.spawn(finisher(s->make_guard(), s.get()));
                auto r = late.blocking_join();
                EXPECT_TRUE(!r.has_value() && r.error().is_cancelled()) << "a task spawned after shutdown ran";
            }
        }
        // The runtime is gone; the firer may still be waking tasks that no longer exist.
        stop_firing.store(true);
        firer.join();
        for (auto& h : kept) {
            auto r = h.blocking_join();
            EXPECT_TRUE(r.has_value() ? *r == 1 : r.error().is_cancelled());
        }
        kept.clear();
        s->registry.wakers.clear();
        const std::size_t made = s->next_id.load();
        EXPECT_EQ(s->frames.created.load(), made);
        EXPECT_EQ(s->frames.destroyed.load(), made) << "round " << round_no;
        std::size_t bad = 0;
        for (std::size_t i = 0; i < made; ++i) bad += s->frames.per_id[i].load() != 1;
        ASSERT_EQ(bad, 0u) << "frames not destroyed exactly once in round " << round_no;
    }
}

// --- 7. stealing ------------------------------------------------------------------------------

struct steal_state {
    explicit steal_state(std::size_t n) : runs(n), thread_of(n) {}
    std::vector<std::atomic<std::uint32_t>> runs;
    std::vector<std::thread::id> thread_of;  // written by the task, read after all joined
    std::atomic<bool> go{false};
    std::atomic<std::size_t> started{0};
};

corio::task<std::uint64_t> cpu_task(steal_state* s, std::size_t id) {
    s->started.fetch_add(1, std::memory_order_relaxed);
    // Until the spawner has queued every task, a worker that stole one is held here: the
    // spawner's worker must then take the overflow path (its queue holds only 256).
    while (!s->go.load(std::memory_order_acquire)) std::this_thread::yield();
    s->runs[id].fetch_add(1, std::memory_order_relaxed);
    s->thread_of[id] = std::this_thread::get_id();
    std::uint64_t x = id + 1;
    for (int i = 0; i < 2000; ++i) x = x * 6364136223846793005u + 1442695040888963407u;
    co_return x | 1;
}

corio::task<std::size_t> spawn_many(steal_state* s) {
    const std::size_t n = s->runs.size();
    std::vector<corio::join_handle<std::uint64_t>> hs;
    hs.reserve(n);
    for (std::size_t i = 0; i < n; ++i) hs.push_back(corio::spawn(cpu_task(s, i)));
    // The other worker was notified by the spawns above and steals from this worker's queue (this
    // task keeps this worker busy, so only the other one can start a task). Once it started one,
    // it is held in cpu_task: so it has run some, more than 2 x 256 are still queued (this
    // worker's local queue overflowed into the inject queue), and the last task spawned sits in
    // this worker's LIFO slot, which cannot be stolen: this worker runs some too.
    while (s->started.load(std::memory_order_acquire) == 0) std::this_thread::yield();
    const std::size_t started_before_go = s->started.load();
    s->go.store(true, std::memory_order_release);
    std::size_t ok = 0;
    for (auto& h : hs) {
        auto r = co_await h;
        ok += r.has_value() && (*r & 1) == 1;
    }
    co_return ok * 1'000'000 + started_before_go;
}

TEST(runtime_stress, ten_thousand_tasks_from_one_worker_are_stolen_and_run_once) {
    const std::size_t n = iterations(10'000, 10'000);
    const std::size_t rounds = iterations(10, 3);
    for (std::size_t round = 0; round < rounds; ++round) {
        steal_state s(n);
        hang_guard guard("stealing", [&] { return "started " + std::to_string(s.started.load()); });
        std::size_t packed;
        {
            corio::runtime rt({.worker_threads = 2});
            packed = rt.block_on(spawn_many(&s));
        }
        EXPECT_EQ(packed / 1'000'000, n);
        EXPECT_EQ(packed % 1'000'000, 1u) << "tasks started while the spawner was queueing";
        std::size_t bad = 0;
        std::set<std::thread::id> threads;
        for (std::size_t i = 0; i < n; ++i) {
            bad += s.runs[i].load() != 1;
            threads.insert(s.thread_of[i]);
        }
        EXPECT_EQ(bad, 0u) << "tasks that did not run exactly once";
        EXPECT_EQ(threads.size(), 2u) << "both workers should have run some of the tasks";
    }
}

}  // namespace
