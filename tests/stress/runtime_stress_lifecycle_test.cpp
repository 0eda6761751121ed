// runtime_stress_lifecycle_test: more of the scheduler's invariants under contention
// (docs/design/invariants.md, items 13, 16, 17): dropped join handles racing completion destroy
// each output once, spawns from outside are never lost while workers park, and work is stolen
// across workers. Counts and orderings only; time bounds are hang guards. Scale as in
// runtime_stress_test.cpp.
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
#include "runtime_stress_support.hpp"

namespace {

using namespace std::chrono_literals;
using corio::testing::expect_each_frame_destroyed_once;
using corio::testing::frame_counters;
using corio::testing::frame_guard;
using corio::testing::hang_guard;
using corio::testing::iterations;
using corio::testing::wait_until;

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
