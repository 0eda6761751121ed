// semaphore_test: corio::sync::semaphore (batch_semaphore) — fast path, FIFO fairness, close, cancel of a queued acquire forwarding its permits, RAII/owned permits, blocking twin.
#include <corio/channels/sync/semaphore.hpp>
#include <corio/runtime/runtime.hpp>
#include <corio/runtime/yield_now.hpp>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using corio::sync::acquire_error;
using corio::sync::semaphore;
using corio::sync::try_acquire_error;

// A waker that counts wakes, for polling leaves by hand (deterministic, no runtime).
struct counting_waker {
    std::atomic<int> wakes{0};
    static const void* clone(const void* d) noexcept { return d; }
    static void wake(const void* d) noexcept { static_cast<counting_waker*>(const_cast<void*>(d))->wakes++; }
    static void drop(const void*) noexcept {}
    static constexpr corio::waker_vtable vtable{&clone, &wake, &wake, &drop};
    corio::waker_ref ref() noexcept { return {this, &vtable}; }
};

struct manual_cx {
    counting_waker w;
    corio::context cx{w.ref(), nullptr};
};

TEST(semaphore, try_acquire_and_release) {
    semaphore sem(2);
    EXPECT_EQ(sem.available_permits(), 2u);
    {
        auto a = sem.try_acquire();
        ASSERT_TRUE(a);
        auto b = sem.try_acquire();
        ASSERT_TRUE(b);
        EXPECT_EQ(sem.available_permits(), 0u);
        auto c = sem.try_acquire();
        ASSERT_FALSE(c);
        EXPECT_EQ(c.error(), try_acquire_error::no_permits);
        EXPECT_EQ(fmt::format("{}", c.error()), "no permits available");
    }
    EXPECT_EQ(sem.available_permits(), 2u);
    auto many = sem.try_acquire_many(2);
    ASSERT_TRUE(many);
    EXPECT_EQ(many->num_permits(), 2u);
    many->forget();
    EXPECT_EQ(sem.available_permits(), 0u);
    sem.add_permits(3);
    EXPECT_EQ(sem.available_permits(), 3u);
}

TEST(semaphore, queued_acquires_are_served_in_fifo_order_and_big_requests_hold_back_small_ones) {
    semaphore sem(1);
    auto held = sem.try_acquire().value();
    manual_cx c1, c2, c3;
    auto big = sem.acquire_many(2);
    auto small = sem.acquire();
    EXPECT_FALSE(big.poll(c1.cx));
    EXPECT_FALSE(small.poll(c2.cx));
    // Not barging: a try_acquire does not see permits while waiters are queued.
    sem.add_permits(1);  // 1 assigned to `big`, still short of 2
    EXPECT_EQ(c1.w.wakes.load(), 0);
    EXPECT_FALSE(sem.try_acquire());
    { auto gone = std::move(held); }  // 2nd permit: big is complete
    EXPECT_EQ(c1.w.wakes.load(), 1);
    EXPECT_EQ(c2.w.wakes.load(), 0);
    ASSERT_TRUE(big.poll(c1.cx));
    auto bp = big.await_resume();
    ASSERT_TRUE(bp);
    EXPECT_EQ(bp->num_permits(), 2u);
    EXPECT_FALSE(small.poll(c2.cx));  // spurious poll: still pending
    { auto gone = std::move(*bp); }
    EXPECT_EQ(c2.w.wakes.load(), 1);
    ASSERT_TRUE(small.poll(c2.cx));
    auto sp = small.await_resume();
    EXPECT_TRUE(sp);
    EXPECT_EQ(sem.available_permits(), 1u);  // the other permit of `big` went back to the count
    (void)c3;
}

TEST(semaphore, cancelled_waiter_forwards_its_assigned_permits_to_the_next) {
    semaphore sem(0);
    manual_cx c1, c2;
    std::optional<semaphore::acquire_operation> first;
    first.emplace(&sem, 2);
    auto second = sem.acquire();
    EXPECT_FALSE(first->poll(c1.cx));
    EXPECT_FALSE(second.poll(c2.cx));
    sem.add_permits(1);  // assigned to `first` (needs 2)
    EXPECT_EQ(c2.w.wakes.load(), 0);
    first.reset();  // cancel: the assigned permit goes to `second`
    EXPECT_EQ(c2.w.wakes.load(), 1);
    ASSERT_TRUE(second.poll(c2.cx));
    auto p = second.await_resume();
    ASSERT_TRUE(p);
    EXPECT_EQ(sem.available_permits(), 0u);
    { auto gone = std::move(*p); }
    EXPECT_EQ(sem.available_permits(), 1u);
}

TEST(semaphore, cancel_with_no_other_waiter_returns_permits_to_the_count) {
    semaphore sem(1);
    manual_cx c;
    {
        auto op = sem.acquire_many(3);
        EXPECT_FALSE(op.poll(c.cx));  // took the 1 available, waits for 2 more
        EXPECT_EQ(sem.available_permits(), 0u);
    }
    EXPECT_EQ(sem.available_permits(), 1u);
    EXPECT_TRUE(sem.try_acquire());
}

TEST(semaphore, close_fails_queued_and_later_acquires) {
    semaphore sem(0);
    manual_cx c;
    auto op = sem.acquire();
    EXPECT_FALSE(op.poll(c.cx));
    sem.close();
    EXPECT_TRUE(sem.is_closed());
    EXPECT_EQ(c.w.wakes.load(), 1);
    ASSERT_TRUE(op.poll(c.cx));
    auto r = op.await_resume();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), acquire_error::closed);
    EXPECT_EQ(fmt::format("{}", r.error()), "semaphore closed");
    auto t = sem.try_acquire();
    ASSERT_FALSE(t);
    EXPECT_EQ(t.error(), try_acquire_error::closed);
    auto later = sem.acquire();
    ASSERT_TRUE(later.poll(c.cx));
    EXPECT_FALSE(later.await_resume());
}

corio::task<int> hold_and_count(semaphore* sem, std::atomic<int>* inside, std::atomic<int>* max_inside) {
    for (int i = 0; i < 200; ++i) {
        auto p = co_await sem->acquire();
        if (!p) co_return -1;
        int now = inside->fetch_add(1) + 1;
        int m = max_inside->load();
        while (now > m && !max_inside->compare_exchange_weak(m, now)) {
        }
        co_await corio::yield_now();
        inside->fetch_sub(1);
    }
    co_return 0;
}

TEST(semaphore, limits_concurrency_across_tasks) {
    corio::runtime rt({.worker_threads = 2});
    semaphore sem(3);
    std::atomic<int> inside{0}, max_inside{0};
    std::vector<corio::join_handle<int>> hs;
    for (int i = 0; i < 8; ++i) hs.push_back(rt.spawn(hold_and_count(&sem, &inside, &max_inside)));
    for (auto& h : hs) EXPECT_EQ(h.blocking_join().value(), 0);
    EXPECT_LE(max_inside.load(), 3);
    EXPECT_EQ(sem.available_permits(), 3u);
}

corio::task<int> acquire_one(semaphore* sem) {
    auto p = co_await sem->acquire();
    co_return p ? 1 : 0;
}

TEST(semaphore, abort_of_a_parked_acquire_leaves_the_queue) {
    corio::runtime rt({.worker_threads = 2});
    semaphore sem(0);
    auto a = rt.spawn(acquire_one(&sem));
    std::this_thread::sleep_for(20ms);
    a.abort();
    EXPECT_TRUE(a.blocking_join().error().is_cancelled());
    auto b = rt.spawn(acquire_one(&sem));
    std::this_thread::sleep_for(10ms);
    sem.add_permits(1);
    EXPECT_EQ(b.blocking_join().value(), 1);
    EXPECT_EQ(sem.available_permits(), 1u);  // b's permit was released when it finished
}

corio::task<std::size_t> acquire_owned_task(std::shared_ptr<semaphore> sem) {
    auto p = co_await semaphore::acquire_owned(sem);
    co_return p ? p->num_permits() : 0;
}

TEST(semaphore, owned_permits_keep_the_semaphore_alive) {
    corio::runtime rt({.worker_threads = 2});
    auto sem = std::make_shared<semaphore>(1);
    EXPECT_EQ(rt.block_on(acquire_owned_task(sem)), 1u);
    auto p = semaphore::try_acquire_owned(sem).value();
    std::weak_ptr<semaphore> weak = sem;
    sem.reset();
    EXPECT_FALSE(weak.expired());
    EXPECT_EQ(weak.lock()->available_permits(), 0u);
    { auto gone = std::move(p); }
    EXPECT_TRUE(weak.expired());
}

TEST(semaphore, blocking_acquire_bridges_a_thread) {
    corio::runtime rt({.worker_threads = 2});
    semaphore sem(0);
    std::thread t([&] {
        auto p = sem.blocking_acquire(2);
        EXPECT_TRUE(p);
        p->forget();
    });
    std::this_thread::sleep_for(20ms);
    sem.add_permits(1);
    std::this_thread::sleep_for(5ms);
    sem.add_permits(1);
    t.join();
    EXPECT_EQ(sem.available_permits(), 0u);
}

}  // namespace
