// wheel_test: the hierarchical timer wheel (runtime/src/time/wheel.hpp) on its own, against a
// plain sorted model: entries at every level, removals, and time advanced in steps of every size.
// (The top level's ring edge cases are in tests/runtime/edges_test.cpp.)
#include "time/wheel.hpp"  // runtime/src

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <vector>

using corio::detail::timer_entry;
using corio::detail::wheel;

namespace {

// Deadlines spread over every level: level L holds deadlines 64^L .. 64^(L+1) ticks away.
std::uint64_t random_delay(std::mt19937_64& rng) {
    const unsigned level = static_cast<unsigned>(rng() % wheel::num_levels);
    const std::uint64_t lo = level == 0 ? 0 : std::uint64_t{1} << (6 * level);
    const std::uint64_t hi = std::uint64_t{1} << (6 * (level + 1));
    return lo + rng() % (hi - lo);
}

}  // namespace

TEST(wheel, an_entry_due_now_or_earlier_is_handed_out_by_the_next_poll) {
    wheel w;
    EXPECT_EQ(w.poll(1000), nullptr);
    timer_entry past;
    past.when_ = 10;
    w.insert(&past);
    EXPECT_EQ(w.next_expiration(), std::optional<std::uint64_t>(1000));
    EXPECT_EQ(w.poll(1000), &past);
    EXPECT_EQ(past.list_, nullptr);
    EXPECT_TRUE(w.is_empty());
}

TEST(wheel, remove_unlinks_once) {
    wheel w;
    timer_entry e;
    e.when_ = 5000;
    w.insert(&e);
    EXPECT_FALSE(w.is_empty());
    EXPECT_TRUE(w.remove(&e));
    EXPECT_FALSE(w.remove(&e));
    EXPECT_TRUE(w.is_empty());
    EXPECT_EQ(w.next_expiration(), std::nullopt);
    EXPECT_EQ(w.poll(10'000), nullptr);
}

// Each round: insert entries at random levels (relative to the wheel's time), remove some, then
// advance by a random step (1 tick up to a whole level) and poll until nothing is due. Checked
// against the model: an entry comes out exactly once, never before its deadline, never later
// than the first poll at or after it, and in deadline order; next_expiration() never lies past
// the earliest live deadline.
TEST(wheel, agrees_with_a_sorted_model_over_random_inserts_removes_and_advances) {
    std::mt19937_64 rng(20261207);
    wheel w;
    std::vector<std::unique_ptr<timer_entry>> entries;
    std::multimap<std::uint64_t, timer_entry*> live;  // the model: deadline -> entry
    std::uint64_t now = 0;
    std::size_t fired = 0;

    for (int round = 0; round < 3000; ++round) {
        for (int k = static_cast<int>(rng() % 4); k > 0; --k) {
            auto e = std::make_unique<timer_entry>();
            e->when_ = now + random_delay(rng);
            w.insert(e.get());
            live.emplace(e->when_, e.get());
            entries.push_back(std::move(e));
        }
        if (!live.empty() && rng() % 3 == 0) {
            auto it = live.begin();
            std::advance(it, static_cast<long>(rng() % live.size()));
            ASSERT_TRUE(w.remove(it->second));
            live.erase(it);
        }
        if (!live.empty()) {
            auto next = w.next_expiration();
            ASSERT_TRUE(next.has_value());
            ASSERT_LE(*next, live.begin()->first) << "round " << round;
        }
        const unsigned step_level = static_cast<unsigned>(rng() % 4);
        now += 1 + rng() % (std::uint64_t{1} << (6 * step_level + 2));
        std::uint64_t last_when = 0;
        while (timer_entry* e = w.poll(now)) {
            ASSERT_LE(e->when_, now) << "fired early, round " << round;
            ASSERT_GE(e->when_, last_when) << "out of order, round " << round;
            last_when = e->when_;
            auto [lo, hi] = live.equal_range(e->when_);
            auto it = lo;
            while (it != hi && it->second != e) ++it;
            ASSERT_NE(it, hi) << "fired twice, or fired after its removal";
            live.erase(it);
            ++fired;
        }
        ASSERT_TRUE(live.empty() || live.begin()->first > now) << "a due entry was held back, round " << round;
    }
    // Run the clock out: everything left fires.
    while (!live.empty()) {
        now = live.begin()->first;
        while (timer_entry* e = w.poll(now)) {
            auto [lo, hi] = live.equal_range(e->when_);
            auto it = lo;
            while (it != hi && it->second != e) ++it;
            ASSERT_NE(it, hi);
            live.erase(it);
            ++fired;
        }
    }
    EXPECT_TRUE(w.is_empty());
    EXPECT_GT(fired, 1000u);
}
