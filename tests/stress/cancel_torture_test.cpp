// cancel_torture_test: the randomized proof of "no operand outlives the co_await that owns it".
// Looping tasks await select / select_biased (plain and coroutine handlers), race, first_of,
// timeout, join and try_join over operands chosen at random per iteration from a seeded RNG —
// channel sends and receives of every kind, locks, permits, notifications, sleeps, socket reads,
// borrowing task operands and spawned operands — while a producer, a socket writer, channel
// recycling and a supervisor that aborts whole loopers race them. At the end every message,
// permit and lock is accounted for, no operand ran after its combinator returned, and nothing
// hung (a watchdog reports what each looper was doing, and fails the test, rather than waiting
// for the CI limit). The parts live in cancel_torture/ (torture.hpp describes them).
//
// Environment:
//   CORIO_TORTURE_SEED=n          the seed of the random choices (printed by every round; the
//                                 thread interleaving is not reproducible, so a seed repeats the
//                                 choices, not the run)
//   CORIO_TORTURE_KINDS=a,b,...   only these operation kinds (plus sleep); `-a,-b` all but these.
//                                 Names: send reserve recv urecv oneshot bcast watch mutex read
//                                 write acquire acquire2 notified sleep deadline io operand spawned
//                                 private (losers of private resources) relock (coroutine handlers)
//   CORIO_TORTURE_WATCHDOG_S=n    the watchdog's limit (default 60 s, ×5 under TSan, ×3 under ASan)
//   CORIO_STRESS_SCALE=x          multiplies the iteration counts (support/stress.hpp)
// With CORIO_TORTURE_KINDS=-operand,-spawned,-private,-relock only the accounting is left (no
// operand that can outlive its select, no handler that waits for a loser's resource): that much
// also held before the rule, which is how a failure can be split between the harness and the rule.
#include "cancel_torture/torture.hpp"

#include <support/stress.hpp>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <random>
#include <string>
#include <thread>

#if defined(__SANITIZE_ADDRESS__)
#define CORIO_TORTURE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CORIO_TORTURE_ASAN 1
#endif
#endif
#ifndef CORIO_TORTURE_ASAN
#define CORIO_TORTURE_ASAN 0
#endif

namespace {

using namespace corio::torture;

std::uint64_t seed_from_env() {
    if (const char* e = std::getenv("CORIO_TORTURE_SEED")) return std::strtoull(e, nullptr, 0);
    std::random_device rd;
    return (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
}

std::uint32_t kinds_from_env() {
    const std::uint32_t all = (1u << kind_count) - 1;
    const char* e = std::getenv("CORIO_TORTURE_KINDS");
    if (!e || !*e) return all;
    std::uint32_t only = 0, without = 0;
    std::string list(e);
    for (std::size_t at = 0; at <= list.size();) {
        std::size_t end = list.find(',', at);
        if (end == std::string::npos) end = list.size();
        std::string name = list.substr(at, end - at);
        const bool minus = !name.empty() && name[0] == '-';
        if (minus) name.erase(0, 1);
        bool known = false;
        for (unsigned k = 0; k < kind_count; ++k)
            if (name == kind_name(k)) {
                (minus ? without : only) |= 1u << k;
                known = true;
            }
        if (!known && !name.empty()) ADD_FAILURE() << "CORIO_TORTURE_KINDS: unknown kind " << name;
        at = end + 1;
    }
    // The fresh sleep stays: it is what every select falls back on to complete.
    return ((only ? only : all) & ~without) | (1u << k_sleep);
}

std::chrono::seconds watchdog_limit() {
    if (const char* e = std::getenv("CORIO_TORTURE_WATCHDOG_S")) return std::chrono::seconds(std::strtol(e, nullptr, 10));
    const int factor = CORIO_STRESS_TSAN ? 5 : CORIO_TORTURE_ASAN ? 3 : 1;
    return std::chrono::seconds(60 * factor);
}

// Fails the test with what every looper was doing if the round has not finished in time (a lost
// wake-up, or a handler waiting for a branch that was never cancelled), then aborts the process:
// the round cannot be unwound while its tasks are stuck.
class watchdog {
public:
    watchdog(std::chrono::seconds limit, const world* w) : w_(w), thread_([this, limit] { watch(limit); }) {}
    watchdog(const watchdog&) = delete;
    watchdog& operator=(const watchdog&) = delete;
    ~watchdog() {
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
        const std::string state = w_->dump();
        std::fprintf(stderr, "\nHANG: cancel_torture did not finish within %llds\n%s\n", static_cast<long long>(limit.count()),
                     state.c_str());
        ADD_FAILURE() << "cancel_torture did not finish within " << limit.count() << " s (seed " << w_->cfg.seed << ")";
        std::fflush(stderr);
        std::fflush(stdout);
        std::abort();
    }

    const world* w_;
    std::mutex mutex_;
    std::condition_variable cv_;
    bool done_ = false;
    std::thread thread_;
};

void run_round(config c) {
    SCOPED_TRACE(fmt::format("seed {} (CORIO_TORTURE_SEED={} repeats the random choices)", c.seed, c.seed));
    fmt::print(stderr, "cancel_torture: {} round, {} roles x {} iterations, seed {}, kinds {:#x}\n",
               c.flavor == corio::runtime_flavor::current_thread ? "current_thread" : "multi_thread (2 workers)", c.roles,
               c.iterations, c.seed, c.kinds);
    auto w = std::make_unique<world>(c);
    {
        // Declared first: it watches the runtime's shutdown too.
        watchdog dog(watchdog_limit(), w.get());
        corio::runtime_options o;
        o.flavor = c.flavor;
        o.worker_threads = 2;
        corio::runtime rt(o);
        rt.block_on(run(w.get()));
    }
    std::string token_stats;
    EXPECT_EQ(w->led.check(&token_stats), "");
    EXPECT_EQ(w->violations(), "");
    for (const auto& r : w->roles) EXPECT_EQ(r->done.load(), c.iterations) << "role " << r->index;
    fmt::print(stderr, "cancel_torture: {}\n  {}\n", token_stats, w->stats());
}

config base_config() {
    config c;
    c.seed = seed_from_env();
    c.kinds = kinds_from_env();
    c.abort_every = std::chrono::microseconds(2000);
    return c;
}

TEST(cancel_torture, multi_thread_two_workers) {
    config c = base_config();
    c.flavor = corio::runtime_flavor::multi_thread;
    c.iterations = corio::testing::iterations(5000, 3000);
    run_round(c);
}

TEST(cancel_torture, current_thread) {
    config c = base_config();
    c.flavor = corio::runtime_flavor::current_thread;
    c.iterations = corio::testing::iterations(2000, 1200);
    run_round(c);
}

}  // namespace
