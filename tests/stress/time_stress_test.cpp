// time_stress_test: timer entries under cross-worker races (docs/design/invariants.md, item 14; docs/design/timer-wheel.md, "Fire, cancel and reset races"). Sleeps
// are registered on one worker and fired, cancelled or reset on another, with deadlines chosen so
// that expiry races the cancel or the reset; run under TSan. Checks: a sleep never ends early,
// every outcome is counted exactly once, cancelled entries never fire into freed frames (ASan),
// and 100k insert/cancel cycles per task leave nothing behind. Time bounds are hang guards only.
//
// Scale: iteration counts are multiplied by CORIO_STRESS_SCALE (environment, else the CMake cache
// default), and cut down under ThreadSanitizer.
#include <corio/channels/oneshot.hpp>
#include <corio/runtime/runtime.hpp>
#include <corio/runtime/time.hpp>
#include <corio/runtime/yield_now.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CORIO_STRESS_TSAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__) && !defined(CORIO_STRESS_TSAN)
#define CORIO_STRESS_TSAN 1
#endif
#ifndef CORIO_STRESS_TSAN
#define CORIO_STRESS_TSAN 0
#endif
#ifndef CORIO_STRESS_SCALE_DEFAULT
#define CORIO_STRESS_SCALE_DEFAULT 1.0
#endif

namespace {

using namespace std::chrono_literals;

std::size_t iterations(std::size_t normal, std::size_t tsan) {
    double scale = CORIO_STRESS_SCALE_DEFAULT;
    if (const char* e = std::getenv("CORIO_STRESS_SCALE")) {
        const double v = std::strtod(e, nullptr);
        if (v > 0) scale = v;
    }
    const double v = double(CORIO_STRESS_TSAN ? tsan : normal) * scale;
    return v < 1 ? 1 : static_cast<std::size_t>(v);
}

// Aborts with the test's counters if it has not finished in time: a hang must fail, not stall.
class hang_guard {
public:
    hang_guard(const char* name, const std::atomic<std::uint64_t>* progress, std::chrono::seconds limit = 240s)
        : name_(name), progress_(progress), thread_([this, limit] { watch(limit); }) {}
    ~hang_guard() {
        {
            std::lock_guard lock(mutex_);
            done_ = true;
        }
        cv_.notify_all();
        thread_.join();
    }

private:
    void watch(std::chrono::seconds limit) {
        std::unique_lock lock(mutex_);
        if (cv_.wait_for(lock, limit, [this] { return done_; })) return;
        std::fprintf(stderr, "\nHANG: %s did not finish within %llds; progress %llu\n", name_,
                     static_cast<long long>(limit.count()), static_cast<unsigned long long>(progress_->load()));
        std::abort();
    }

    const char* name_;
    const std::atomic<std::uint64_t>* progress_;
    std::mutex mutex_;
    std::condition_variable cv_;
    bool done_ = false;
    std::thread thread_;
};

struct counters {
    std::atomic<std::uint64_t> progress{0};
    std::atomic<std::uint64_t> early{0};
    std::atomic<std::uint64_t> inner_won{0};
    std::atomic<std::uint64_t> deadline_won{0};
};

std::uint32_t next_rand(std::uint32_t& s) {
    s ^= s << 13;
    s ^= s >> 17;
    s ^= s << 5;
    return s;
}

std::chrono::microseconds small_delay(std::uint32_t& rng) { return std::chrono::microseconds(next_rand(rng) % 1500); }

// Races within one task, moving between workers through yields: timeout(a, sleep(b)) — both
// deadlines near, so either may win and the loser is cancelled, possibly while the wheel fires
// it on the other worker; then reset of a registered sleep racing its expiry.
corio::task<void> race_loop(counters* c, std::uint32_t seed, std::size_t rounds) {
    std::uint32_t rng = seed | 1;
    for (std::size_t i = 0; i < rounds; ++i) {
        const auto a = small_delay(rng);
        const auto b = small_delay(rng);
        const auto t0 = std::chrono::steady_clock::now();
        auto r = co_await corio::timeout(a, corio::sleep(b));
        const auto took = std::chrono::steady_clock::now() - t0;
        if (r) {
            c->inner_won.fetch_add(1, std::memory_order_relaxed);
            if (took < b) c->early.fetch_add(1, std::memory_order_relaxed);
        } else {
            c->deadline_won.fetch_add(1, std::memory_order_relaxed);
            if (took < a) c->early.fetch_add(1, std::memory_order_relaxed);
        }

        // Reset racing expiry: register, let it nearly expire, move it.
        auto s = corio::sleep(small_delay(rng));
        auto probe = co_await corio::timeout(small_delay(rng), s);  // registers s (unless it elapsed)
        (void)probe;
        if (next_rand(rng) % 2) co_await corio::yield_now();  // maybe resumed on the other worker
        const auto new_deadline = corio::time::now() + small_delay(rng);
        s.reset(new_deadline);
        co_await s;
        if (corio::time::now() < new_deadline) c->early.fetch_add(1, std::memory_order_relaxed);
        c->progress.fetch_add(1, std::memory_order_relaxed);
    }
}

TEST(time_stress, cancel_and_reset_race_expiry_across_workers) {
    counters c;
    hang_guard guard("cancel_and_reset_race_expiry_across_workers", &c.progress);
    const std::size_t tasks = 16;
    const std::size_t rounds = iterations(300, 60);
    {
        corio::runtime rt({.worker_threads = 2});
        std::vector<corio::join_handle<void>> hs;
        for (std::size_t t = 0; t < tasks; ++t) hs.push_back(rt.spawn(race_loop(&c, static_cast<std::uint32_t>(0x9E37 * (t + 1)), rounds)));
        for (auto& h : hs) h.blocking_join().value();
    }
    EXPECT_EQ(c.early.load(), 0u);
    EXPECT_EQ(c.inner_won.load() + c.deadline_won.load(), tasks * rounds);
    EXPECT_EQ(c.progress.load(), tasks * rounds);
}

// The inner operation completes on another worker (a oneshot sent from a task elsewhere) while
// the deadline is about to fire: the timeout finishes on whichever worker runs it and cancels the
// loser there. A value is either received or, after a timeout, still in the channel.
corio::task<void> sender(corio::oneshot::sender<std::uint64_t> tx, std::chrono::microseconds delay, std::uint64_t v) {
    co_await corio::sleep(delay);
    (void)tx.send(v);
}

corio::task<void> receiver_loop(counters* c, std::uint32_t seed, std::size_t rounds) {
    std::uint32_t rng = seed | 1;
    for (std::size_t i = 0; i < rounds; ++i) {
        auto [tx, rx] = corio::oneshot::channel<std::uint64_t>();
        auto h = corio::spawn(sender(std::move(tx), small_delay(rng), i));
        auto r = co_await corio::timeout(small_delay(rng), rx);
        if (r) {
            c->inner_won.fetch_add(1, std::memory_order_relaxed);
            if (!*r || **r != i) c->early.fetch_add(1000000, std::memory_order_relaxed);  // wrong value
        } else {
            c->deadline_won.fetch_add(1, std::memory_order_relaxed);
            auto late = co_await rx;  // the value was not consumed by the cancelled recv
            if (!late || *late != i) c->early.fetch_add(1000000, std::memory_order_relaxed);
        }
        auto j = co_await h;
        j.value();
        c->progress.fetch_add(1, std::memory_order_relaxed);
    }
}

TEST(time_stress, timeout_of_a_recv_completed_on_another_worker) {
    counters c;
    hang_guard guard("timeout_of_a_recv_completed_on_another_worker", &c.progress);
    const std::size_t tasks = 8;
    const std::size_t rounds = iterations(500, 100);
    {
        corio::runtime rt({.worker_threads = 2});
        std::vector<corio::join_handle<void>> hs;
        for (std::size_t t = 0; t < tasks; ++t) hs.push_back(rt.spawn(receiver_loop(&c, static_cast<std::uint32_t>(0x51ED * (t + 1)), rounds)));
        for (auto& h : hs) h.blocking_join().value();
    }
    EXPECT_EQ(c.early.load(), 0u);
    EXPECT_EQ(c.inner_won.load() + c.deadline_won.load(), tasks * rounds);
}

// 100k insert/cancel cycles per task on two workers, then a sleep that must be the next timer
// to fire (on a real clock: just that it completes and is not early).
corio::task<void> churn(counters* c, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
        auto r = co_await corio::timeout(1s, corio::yield_now());
        if (!r) c->early.fetch_add(1, std::memory_order_relaxed);
        c->progress.fetch_add(1, std::memory_order_relaxed);
    }
    const auto t0 = std::chrono::steady_clock::now();
    co_await corio::sleep(2ms);
    if (std::chrono::steady_clock::now() - t0 < 2ms) c->early.fetch_add(1, std::memory_order_relaxed);
}

TEST(time_stress, hundred_thousand_insert_cancel_cycles_on_two_workers) {
    counters c;
    hang_guard guard("hundred_thousand_insert_cancel_cycles_on_two_workers", &c.progress);
    const std::size_t n = iterations(100'000, 20'000);
    {
        corio::runtime rt({.worker_threads = 2});
        auto a = rt.spawn(churn(&c, n));
        auto b = rt.spawn(churn(&c, n));
        a.blocking_join().value();
        b.blocking_join().value();
    }
    EXPECT_EQ(c.early.load(), 0u);
    EXPECT_EQ(c.progress.load(), 2 * n);
}

// Many sleepers with the same few deadlines, fired in batches larger than the wake batch (32)
// while the sleeping tasks are aborted from outside: each frame is destroyed exactly once and
// fired entries are never touched after their frame is gone.
corio::task<void> sleeper(std::atomic<std::uint64_t>* done, std::chrono::microseconds d) {
    co_await corio::sleep(d);
    done->fetch_add(1, std::memory_order_relaxed);
}

TEST(time_stress, abort_races_batched_expiry) {
    counters c;
    hang_guard guard("abort_races_batched_expiry", &c.progress);
    const std::size_t rounds = iterations(40, 10);
    std::atomic<std::uint64_t> done{0};
    std::uint32_t rng = 12345;
    corio::runtime rt({.worker_threads = 2});
    for (std::size_t r = 0; r < rounds; ++r) {
        std::vector<corio::join_handle<void>> hs;
        for (int i = 0; i < 200; ++i) hs.push_back(rt.spawn(sleeper(&done, std::chrono::microseconds(500 + i % 3 * 500))));
        std::this_thread::sleep_for(std::chrono::microseconds(next_rand(rng) % 2000));
        for (std::size_t i = 0; i < hs.size(); i += 2) hs[i].abort();
        std::uint64_t completed = 0, cancelled = 0;
        for (auto& h : hs) {
            auto out = h.blocking_join();
            if (out) ++completed;
            else if (out.error().is_cancelled()) ++cancelled;
        }
        EXPECT_EQ(completed + cancelled, hs.size());
        c.progress.fetch_add(1, std::memory_order_relaxed);
    }
    EXPECT_LE(done.load(), rounds * 200);
}

}  // namespace
