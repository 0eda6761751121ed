// oneshot_stress_test: send vs receiver drop vs await vs closed() races on 2 workers; every value is delivered, handed back or destroyed exactly once.
#include <corio/channels/oneshot.hpp>
#include <corio/runtime/runtime.hpp>
#include <corio/runtime/yield_now.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>

#ifndef CORIO_STRESS_ONESHOT_ITERATIONS
#define CORIO_STRESS_ONESHOT_ITERATIONS 100000
#endif
#ifndef CORIO_STRESS_SCALE_DEFAULT
#define CORIO_STRESS_SCALE_DEFAULT 1.0
#endif

namespace {

// The base count times CORIO_STRESS_SCALE (environment, else the CMake cache value).
long iterations() {
    double scale = CORIO_STRESS_SCALE_DEFAULT;
    if (const char* env = std::getenv("CORIO_STRESS_SCALE")) scale = std::atof(env);
    const long n = static_cast<long>(CORIO_STRESS_ONESHOT_ITERATIONS * scale);
    return n > 16 ? n : 16;
}

struct counted {
    static inline std::atomic<long> made{0};
    static inline std::atomic<long> destroyed{0};
    explicit counted(long v) noexcept : value(v) { made.fetch_add(1, std::memory_order_relaxed); }
    counted(counted&& o) noexcept : value(o.value) { made.fetch_add(1, std::memory_order_relaxed); }
    counted(const counted&) = delete;
    ~counted() { destroyed.fetch_add(1, std::memory_order_relaxed); }
    long value;
};

struct tally {
    std::atomic<long> delivered{0};     // the receiver got the value
    std::atomic<long> handed_back{0};   // send failed and returned it
    std::atomic<long> accepted{0};      // send succeeded
    std::atomic<long> recv_closed{0};   // the receiver saw closed
    std::atomic<long> closed_seen{0};   // a sender's closed() completed
};

// Aborts the process if the test does not finish in time (a lost wakeup hangs forever).
class watchdog {
public:
    explicit watchdog(std::chrono::seconds limit) : thread_([this, limit] {
        std::unique_lock lk(mu_);
        if (!cv_.wait_for(lk, limit, [this] { return done_; })) {
            std::fprintf(stderr, "oneshot stress: watchdog expired, aborting\n");
            std::abort();
        }
    }) {}
    ~watchdog() {
        {
            std::lock_guard lk(mu_);
            done_ = true;
        }
        cv_.notify_all();
        thread_.join();
    }

private:
    std::mutex mu_;
    std::condition_variable cv_;
    bool done_ = false;
    std::thread thread_;
};

// Receiver behaviours: await, drop at once, try_recv then drop, close then await.
corio::task<void> receive_side(corio::oneshot::receiver<counted> rx, long i, tally* t) {
    switch (i % 4) {
        case 0: {
            auto r = co_await rx;
            if (r) {
                EXPECT_EQ(r->value, i);
                t->delivered.fetch_add(1, std::memory_order_relaxed);
            } else {
                t->recv_closed.fetch_add(1, std::memory_order_relaxed);
            }
            break;
        }
        case 1: {
            auto gone = std::move(rx);
            break;
        }
        case 2: {
            auto r = rx.try_recv();
            if (r) t->delivered.fetch_add(1, std::memory_order_relaxed);
            break;
        }
        default: {
            co_await corio::yield_now();
            rx.close();
            auto r = co_await rx;
            if (r) t->delivered.fetch_add(1, std::memory_order_relaxed);
            else t->recv_closed.fetch_add(1, std::memory_order_relaxed);
            break;
        }
    }
}

// Sender behaviours: send at once, yield then send, wait for closed() (receiver drops), drop.
corio::task<void> send_side(corio::oneshot::sender<counted> tx, long i, tally* t) {
    const long mode = (i / 4) % 4;
    if (mode == 1) co_await corio::yield_now();
    if (mode == 2 && (i % 4 == 1 || i % 4 == 3)) {
        // This receiver closes or drops: closed() must complete.
        co_await tx.closed();
        t->closed_seen.fetch_add(1, std::memory_order_relaxed);
    }
    if (mode == 3) {
        auto gone = std::move(tx);
        co_return;
    }
    counted v(i);
    auto r = tx.send(std::move(v));
    if (r) t->accepted.fetch_add(1, std::memory_order_relaxed);
    else t->handed_back.fetch_add(1, std::memory_order_relaxed);
}

corio::task<void> drive(long iterations, tally* t) {
    for (long i = 0; i < iterations; ++i) {
        auto [tx, rx] = corio::oneshot::channel<counted>();
        auto hr = corio::spawn(receive_side(std::move(rx), i, t));
        auto hs = corio::spawn(send_side(std::move(tx), i, t));
        (co_await hr).value();
        (co_await hs).value();
    }
}

TEST(oneshot_stress, send_drop_await_race) {
    watchdog dog(std::chrono::seconds(300));
    const long n = iterations();
    tally t;
    {
        corio::runtime rt({.worker_threads = 2});
        rt.block_on(drive(n, &t));
    }
    EXPECT_EQ(counted::made.load(), counted::destroyed.load());
    // Every send either succeeded or handed its value back.
    const long senders = n - (n / 16) * 4 - (n % 16 > 12 ? n % 16 - 12 : 0);  // mode 3 drops its sender
    EXPECT_EQ(t.accepted.load() + t.handed_back.load(), senders);
    EXPECT_LE(t.delivered.load(), t.accepted.load());
    EXPECT_GT(t.delivered.load(), 0);
    EXPECT_GT(t.handed_back.load(), 0);
    EXPECT_GT(t.closed_seen.load(), 0);
}

}  // namespace
