// local_queue_test: the worker's run queue (runtime/src/local_queue.hpp) from its private header,
// with the 4-slot test capacity: FIFO order, overflow of the older half to the inject queue,
// stealing half, and an owner racing a stealer with every item taken exactly once.
#include "internals/queue_item.hpp"
#include "support/stress.hpp"

#include "local_queue.hpp"  // runtime/src

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

using corio::detail::inject_queue;
using corio::detail::local_queue;
using corio::detail::task_header;
using corio::testing::id_of;
using corio::testing::make_items;

static_assert(local_queue::capacity == 4, "internals_test is built with CORIO_TEST_SMALL_QUEUES=1");

namespace {

std::vector<int> drain(local_queue& q) {
    std::vector<int> ids;
    while (task_header* t = q.pop()) ids.push_back(id_of(t));
    return ids;
}

std::vector<int> drain(inject_queue& q) {
    std::vector<int> ids;
    while (task_header* t = q.pop()) ids.push_back(id_of(t));
    return ids;
}

}  // namespace

TEST(local_queue, pops_in_push_order_and_reports_its_length) {
    auto items = make_items(4);
    local_queue q;
    inject_queue inject;
    EXPECT_FALSE(q.has_tasks());
    EXPECT_EQ(q.remaining_slots(), 4u);
    for (auto& it : items) q.push_back(it.get(), inject);
    EXPECT_EQ(q.len(), 4u);
    EXPECT_EQ(q.remaining_slots(), 0u);
    EXPECT_EQ(drain(q), (std::vector<int>{0, 1, 2, 3}));
    EXPECT_EQ(q.pop(), nullptr);
    EXPECT_TRUE(inject.is_empty());
}

// Tokio's overflow: when full, the older half and the new task go to the inject queue in one
// batch, in order, and the newer half stays.
TEST(local_queue, a_push_into_a_full_queue_moves_the_older_half_and_the_new_task_to_the_inject_queue) {
    auto items = make_items(5);
    local_queue q;
    inject_queue inject;
    for (auto& it : items) q.push_back(it.get(), inject);
    EXPECT_EQ(inject.len(), 3u);
    EXPECT_EQ(q.len(), 2u);
    EXPECT_EQ(drain(inject), (std::vector<int>{0, 1, 4}));
    EXPECT_EQ(drain(q), (std::vector<int>{2, 3}));
}

// The positions run on past the buffer many times over: slot reuse keeps the order.
TEST(local_queue, order_holds_as_positions_wrap_around_the_buffer) {
    auto items = make_items(3000);
    local_queue q;
    inject_queue inject;
    std::vector<int> got;
    for (std::size_t i = 0; i < items.size(); i += 3) {
        for (std::size_t k = i; k < i + 3; ++k) q.push_back(items[k].get(), inject);
        got.push_back(id_of(q.pop()));
        got.push_back(id_of(q.pop()));
        got.push_back(id_of(q.pop()));
    }
    ASSERT_EQ(got.size(), items.size());
    for (std::size_t i = 0; i < got.size(); ++i) ASSERT_EQ(got[i], static_cast<int>(i));
    EXPECT_TRUE(inject.is_empty());
}

// A steal takes the older half (rounded up): the last stolen task is returned to run at once, the
// others land in the thief's queue; the victim keeps the newer ones.
TEST(local_queue, a_steal_takes_the_older_half_and_returns_the_last_of_it) {
    auto items = make_items(4);
    local_queue victim, thief;
    inject_queue inject;
    for (auto& it : items) victim.push_back(it.get(), inject);
    task_header* ran = victim.steal_into(thief);
    EXPECT_EQ(id_of(ran), 1);
    EXPECT_EQ(drain(thief), (std::vector<int>{0}));
    EXPECT_EQ(drain(victim), (std::vector<int>{2, 3}));
}

TEST(local_queue, a_steal_of_one_task_returns_it_and_queues_nothing) {
    auto items = make_items(1);
    local_queue victim, thief;
    inject_queue inject;
    victim.push_back(items[0].get(), inject);
    EXPECT_EQ(id_of(victim.steal_into(thief)), 0);
    EXPECT_FALSE(thief.has_tasks());
    EXPECT_FALSE(victim.has_tasks());
}

TEST(local_queue, nothing_is_stolen_from_an_empty_queue_or_into_a_more_than_half_full_one) {
    auto items = make_items(5);
    local_queue victim, thief;
    inject_queue inject;
    EXPECT_EQ(victim.steal_into(thief), nullptr);
    victim.push_back(items[0].get(), inject);
    victim.push_back(items[1].get(), inject);
    for (int i = 2; i < 5; ++i) thief.push_back(items[static_cast<std::size_t>(i)].get(), inject);
    EXPECT_EQ(victim.steal_into(thief), nullptr);  // the thief has 3 of 4: it has work
    EXPECT_EQ(victim.len(), 2u);
    EXPECT_EQ(thief.len(), 3u);
}

// The owner pushes (overflowing often: 4 slots) and pops while another thread steals into its
// own queue and runs what it stole. Every item is taken exactly once, by someone; under
// ThreadSanitizer the queue's orderings are checked on every hand-over.
TEST(local_queue, an_owner_racing_a_stealer_hands_out_every_item_exactly_once) {
    const int n = static_cast<int>(corio::testing::iterations(200'000, 20'000));
    auto items = make_items(n);
    local_queue victim;
    inject_queue inject;
    std::atomic<bool> owner_done{false};
    std::atomic<long> stolen{0};
    corio::testing::hang_guard guard("local_queue owner vs stealer",
                                     [&] { return "stolen " + std::to_string(stolen.load()); });

    std::thread stealer([&] {
        local_queue mine;
        for (;;) {
            const bool last_round = owner_done.load(std::memory_order_acquire);
            while (task_header* t = victim.steal_into(mine)) {
                static_cast<corio::testing::queue_item*>(t)->taken();
                stolen.fetch_add(1, std::memory_order_relaxed);
                while (task_header* u = mine.pop()) {
                    static_cast<corio::testing::queue_item*>(u)->taken();
                    stolen.fetch_add(1, std::memory_order_relaxed);
                }
            }
            if (last_round) break;
            std::this_thread::yield();
        }
    });

    long popped = 0;
    for (int i = 0; i < n; ++i) {
        victim.push_back(items[static_cast<std::size_t>(i)].get(), inject);
        if (i % 3 == 2) {
            if (task_header* t = victim.pop()) {
                static_cast<corio::testing::queue_item*>(t)->taken();
                ++popped;
            }
        }
    }
    owner_done.store(true, std::memory_order_release);
    while (task_header* t = victim.pop()) {
        static_cast<corio::testing::queue_item*>(t)->taken();
        ++popped;
    }
    stealer.join();
    long injected = 0;
    while (task_header* t = inject.pop()) {
        static_cast<corio::testing::queue_item*>(t)->taken();
        ++injected;
    }

    EXPECT_EQ(popped + stolen.load() + injected, n);
    int wrong = 0;
    for (auto& it : items) wrong += it->times_taken() != 1;
    EXPECT_EQ(wrong, 0) << "items taken zero or several times";
    EXPECT_GT(injected, 0) << "a 4-slot queue fed this fast must overflow";
}
