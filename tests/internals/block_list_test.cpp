// block_list_test: the mpsc queue (channels/include/corio/channels/mpsc/detail/block_list.hpp) on
// its own, without the channel around it: order across 32-slot blocks, block recycling, the close
// marker behind the last value, and producers racing the consumer with every value delivered once
// and each producer's values in order.
#include "support/stress.hpp"

#include <corio/channels/mpsc/detail/block_list.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

namespace mpsc = corio::detail::mpsc;
using mpsc::peek_result;

namespace {

// The list as chan.hpp holds it: one first block shared by both ends.
template <class T>
struct list {
    mpsc::block<T>* first = new mpsc::block<T>(0);
    mpsc::list_tx<T> tx{first};
    mpsc::list_rx<T> rx{first};
    ~list() {
        while (rx.peek(tx) == peek_result::value) rx.discard();
        rx.free_blocks();
    }
};

}  // namespace

TEST(block_list, values_come_out_in_order_across_blocks_then_the_close_marker) {
    list<int> l;
    EXPECT_EQ(l.rx.peek(l.tx), peek_result::empty);
    for (int i = 0; i < 100; ++i) l.tx.push(i);  // 4 blocks
    for (int i = 0; i < 100; ++i) {
        ASSERT_EQ(l.rx.peek(l.tx), peek_result::value);
        ASSERT_EQ(l.rx.take(), i);
    }
    EXPECT_EQ(l.rx.peek(l.tx), peek_result::empty);
    l.tx.close();
    EXPECT_EQ(l.rx.peek(l.tx), peek_result::closed);
    EXPECT_EQ(l.rx.peek(l.tx), peek_result::closed);  // stays closed
}

TEST(block_list, values_sent_before_the_close_are_all_read_before_it) {
    list<int> l;
    for (int i = 0; i < 40; ++i) l.tx.push(i);
    l.tx.close();
    for (int i = 0; i < 40; ++i) {
        ASSERT_EQ(l.rx.peek(l.tx), peek_result::value);
        ASSERT_EQ(l.rx.take(), i);
    }
    EXPECT_EQ(l.rx.peek(l.tx), peek_result::closed);
}

// Discarded and never-read values are destroyed exactly once (the list's destructor discards the
// rest, as the channel's does).
TEST(block_list, discard_and_teardown_destroy_every_value_once) {
    auto token = std::make_shared<int>(7);
    {
        list<std::shared_ptr<int>> l;
        for (int i = 0; i < 70; ++i) l.tx.push(token);
        EXPECT_EQ(token.use_count(), 71);
        for (int i = 0; i < 10; ++i) {
            ASSERT_EQ(l.rx.peek(l.tx), peek_result::value);
            l.rx.discard();
        }
        EXPECT_EQ(token.use_count(), 61);
    }
    EXPECT_EQ(token.use_count(), 1);
}

// A long run through a short queue: the consumer recycles drained blocks to the tail, so the
// same few blocks carry 100k values; order and contents survive the reuse.
TEST(block_list, recycled_blocks_carry_values_in_order) {
    list<std::uint64_t> l;
    std::uint64_t next_in = 0, next_out = 0;
    for (int round = 0; round < 5000; ++round) {
        const int burst = 1 + round % 45;
        for (int k = 0; k < burst; ++k) l.tx.push(next_in++);
        while (l.rx.peek(l.tx) == peek_result::value) ASSERT_EQ(l.rx.take(), next_out++);
    }
    EXPECT_EQ(next_in, next_out);
    EXPECT_EQ(l.rx.index(), next_out);
}

// Three producers push (producer, sequence) pairs while the consumer reads; after all of them
// finish, the close marker. Every value arrives once, each producer's in order, and the marker
// after them all. Under ThreadSanitizer every slot hand-over and block recycle is checked.
TEST(block_list, racing_producers_deliver_every_value_once_in_per_producer_order) {
    constexpr int producers = 3;
    const std::uint64_t per = corio::testing::iterations(200'000, 20'000);
    list<std::uint64_t> l;
    std::atomic<int> done{0};
    std::uint64_t received = 0;
    corio::testing::hang_guard guard("block_list producers vs consumer",
                                     [&] { return "done " + std::to_string(done.load()); });

    std::vector<std::thread> threads;
    for (int p = 0; p < producers; ++p) {
        threads.emplace_back([&l, &done, per, p] {
            for (std::uint64_t i = 0; i < per; ++i) l.tx.push((std::uint64_t(p) << 48) | i);
            if (done.fetch_add(1, std::memory_order_acq_rel) == producers - 1) l.tx.close();
        });
    }
    std::vector<std::uint64_t> next(producers, 0);
    int out_of_order = 0;
    for (;;) {
        const peek_result r = l.rx.peek(l.tx);
        if (r == peek_result::closed) break;
        if (r == peek_result::empty) {
            std::this_thread::yield();
            continue;
        }
        const std::uint64_t v = l.rx.take();
        const auto p = static_cast<std::size_t>(v >> 48);
        ASSERT_LT(p, next.size());
        if ((v & 0xffff'ffff'ffffull) != next[p]) ++out_of_order;
        next[p] = (v & 0xffff'ffff'ffffull) + 1;
        ++received;
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(out_of_order, 0);
    EXPECT_EQ(received, per * producers);
    for (int p = 0; p < producers; ++p) EXPECT_EQ(next[static_cast<std::size_t>(p)], per);
}
