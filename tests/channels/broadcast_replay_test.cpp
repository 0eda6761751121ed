// broadcast_replay_test: corio::broadcast::replay(n): a late subscriber receives the last n values
// first, then live ones; fewer when fewer were sent; replay(0) is the plain channel; lag after a
// replay; replay then closed; values held only while in the window; with_metrics alongside.
#include <corio/channels/broadcast.hpp>
#include <corio/channels/metrics.hpp>
#include <corio/runtime/runtime.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

namespace {

using corio::broadcast::recv_error;
using corio::broadcast::replay;
using corio::broadcast::try_recv_error;

struct counted {
    static inline std::atomic<int> live{0};
    explicit counted(int v) noexcept : value(v) { ++live; }
    counted(const counted& o) noexcept : value(o.value) { ++live; }
    counted(counted&& o) noexcept : value(o.value) { ++live; }
    counted& operator=(const counted&) = default;
    ~counted() { --live; }
    int value;
};

// Everything try_recv yields until empty or closed: values as they are, lag as -skipped, and a
// final 0 for closed (the values used here are all positive).
std::vector<long> take_all(corio::broadcast::receiver<int>& rx) {
    std::vector<long> out;
    for (;;) {
        auto r = rx.try_recv();
        if (r) {
            out.push_back(*r);
        } else if (r.error().is_lagged()) {
            out.push_back(-static_cast<long>(r.error().skipped()));
        } else {
            if (r.error().is_closed()) out.push_back(0);
            return out;
        }
    }
}

TEST(broadcast_replay, late_subscriber_gets_the_last_n_then_live_values_in_order) {
    auto [tx, rx] = corio::broadcast::channel<int>(8, replay(3));
    for (int v = 1; v <= 5; ++v) ASSERT_EQ(tx.send(v).value(), 1u);
    auto late = tx.subscribe();
    EXPECT_EQ(late.len(), 3u);
    EXPECT_EQ(tx.receiver_count(), 2u);
    EXPECT_EQ(take_all(late), (std::vector<long>{3, 4, 5}));
    EXPECT_EQ(tx.send(6).value(), 2u);
    EXPECT_EQ(tx.send(7).value(), 2u);
    EXPECT_EQ(take_all(late), (std::vector<long>{6, 7}));
    // The first receiver is untouched by the replay: it still has everything.
    EXPECT_EQ(take_all(rx), (std::vector<long>{1, 2, 3, 4, 5, 6, 7}));
}

TEST(broadcast_replay, fewer_sent_than_n_replays_what_there_is) {
    auto [tx, rx] = corio::broadcast::channel<int>(8, replay(6));
    auto first = tx.subscribe();  // nothing sent yet: nothing to replay
    EXPECT_TRUE(first.is_empty());
    ASSERT_TRUE(tx.send(1));
    ASSERT_TRUE(tx.send(2));
    auto late = tx.subscribe();
    EXPECT_EQ(take_all(late), (std::vector<long>{1, 2}));
    EXPECT_EQ(take_all(first), (std::vector<long>{1, 2}));
}

TEST(broadcast_replay, replay_0_is_the_plain_channel) {
    auto [tx, rx] = corio::broadcast::channel<int>(4, replay(0));
    ASSERT_TRUE(tx.send(1));
    auto late = tx.subscribe();
    EXPECT_TRUE(take_all(late).empty());
    ASSERT_TRUE(tx.send(2));
    EXPECT_EQ(take_all(late), (std::vector<long>{2}));
    auto again = late.resubscribe();
    EXPECT_TRUE(again.is_empty());
}

TEST(broadcast_replay, n_up_to_the_requested_capacity_else_invalid_argument) {
    EXPECT_THROW((void)corio::broadcast::channel<int>(4, replay(5)), std::invalid_argument);
    // 5 rounds up to 8 slots, but the limit is the capacity asked for.
    EXPECT_THROW((void)corio::broadcast::channel<int>(5, replay(6)), std::invalid_argument);
    EXPECT_NO_THROW((void)corio::broadcast::channel<int>(5, replay(5)));
}

TEST(broadcast_replay, n_equal_to_the_capacity_replays_the_whole_ring) {
    auto [tx, rx] = corio::broadcast::channel<int>(4, replay(4));
    for (int v = 1; v <= 6; ++v) ASSERT_TRUE(tx.send(v));
    auto late = tx.subscribe();
    EXPECT_EQ(take_all(late), (std::vector<long>{3, 4, 5, 6}));
    EXPECT_EQ(take_all(rx), (std::vector<long>{-2, 3, 4, 5, 6}));  // the first receiver lagged as usual
}

TEST(broadcast_replay, a_replayed_value_overwritten_before_it_is_read_yields_lagged) {
    {
        auto [tx, rx] = corio::broadcast::channel<int>(4, replay(4));
        for (int v = 1; v <= 4; ++v) ASSERT_TRUE(tx.send(v));
        auto late = tx.subscribe();  // at 1
        ASSERT_TRUE(tx.send(5));     // overwrites 1
        ASSERT_TRUE(tx.send(6));     // overwrites 2
        EXPECT_EQ(late.len(), 6u);
        EXPECT_EQ(take_all(late), (std::vector<long>{-2, 3, 4, 5, 6}));
    }
    {
        auto [tx, rx] = corio::broadcast::channel<int>(4, replay(2));
        for (int v = 1; v <= 4; ++v) ASSERT_TRUE(tx.send(v));
        auto late = tx.subscribe();  // at 3
        for (int v = 5; v <= 7; ++v) ASSERT_TRUE(tx.send(v));  // 7 overwrites 3
        EXPECT_EQ(take_all(late), (std::vector<long>{-1, 4, 5, 6, 7}));
    }
}

TEST(broadcast_replay, a_subscriber_after_close_gets_the_replay_then_closed) {
    auto [tx, rx] = corio::broadcast::channel<int>(8, replay(2));
    for (int v = 1; v <= 3; ++v) ASSERT_TRUE(tx.send(v));
    { auto gone = std::move(tx); }  // the last sender: the channel is closed
    auto late = rx.resubscribe();
    corio::runtime rt({.worker_threads = 2});
    const std::vector<long> got = rt.block_on([](corio::broadcast::receiver<int>* r) -> corio::task<std::vector<long>> {
        std::vector<long> out;
        for (;;) {
            auto v = co_await r->recv();
            if (!v) {
                out.push_back(v.error() == recv_error::closed() ? 0 : -1);
                co_return out;
            }
            out.push_back(*v);
        }
    }(&late));
    EXPECT_EQ(got, (std::vector<long>{2, 3, 0}));
    EXPECT_EQ(take_all(rx), (std::vector<long>{1, 2, 3, 0}));
}

TEST(broadcast_replay, history_outlives_its_receivers_but_a_send_to_nobody_is_not_stored) {
    auto [tx, rx] = corio::broadcast::channel<int>(8, replay(4));
    ASSERT_TRUE(tx.send(1));
    ASSERT_TRUE(tx.send(2));
    { auto gone = std::move(rx); }
    auto failed = tx.send(3);  // no receivers: handed back, as without replay
    ASSERT_FALSE(failed);
    EXPECT_EQ(failed.error().value, 3);
    auto late = tx.subscribe();
    EXPECT_EQ(take_all(late), (std::vector<long>{1, 2}));
}

TEST(broadcast_replay, values_are_held_while_in_the_window_and_released_after) {
    counted::live = 0;
    {
        auto [tx, rx] = corio::broadcast::channel<counted>(8, replay(2));
        for (int v = 1; v <= 5; ++v) ASSERT_TRUE(tx.send(counted(v)));
        for (int v = 1; v <= 5; ++v) ASSERT_EQ(rx.try_recv().value().value, v);
        EXPECT_EQ(counted::live.load(), 2);  // 4 and 5, held for a later subscriber
        {
            auto late = tx.subscribe();
            EXPECT_EQ(late.try_recv().value().value, 4);
            EXPECT_EQ(counted::live.load(), 2);
        }  // dropped with 5 unread: it gives its count on 5 back
        {
            auto unread = tx.subscribe();  // counted on 4 and 5, never reads them
        }
        ASSERT_TRUE(tx.send(counted(6)));
        ASSERT_TRUE(tx.send(counted(7)));
        EXPECT_EQ(rx.try_recv().value().value, 6);
        EXPECT_EQ(rx.try_recv().value().value, 7);
        EXPECT_EQ(counted::live.load(), 2);  // 4 and 5 left the window and nobody owes a read: gone
    }
    EXPECT_EQ(counted::live.load(), 0);
}

TEST(broadcast_replay, combines_with_metrics) {
    auto [tx, rx] = corio::broadcast::channel<int>(4, replay(2), corio::with_metrics);
    for (int v = 1; v <= 3; ++v) ASSERT_TRUE(tx.send(v));
    auto late = tx.subscribe();
    EXPECT_EQ(take_all(late), (std::vector<long>{2, 3}));
    const auto m = tx.metrics();
    ASSERT_TRUE(m);
    EXPECT_EQ(m->sent, 3u);
    EXPECT_EQ(m->received, 2u);  // each replayed copy counts as received
    EXPECT_EQ(m->lagged, 0u);
    auto [plain_tx, plain_rx] = corio::broadcast::channel<int>(4, replay(2));
    EXPECT_FALSE(plain_tx.metrics());
}

}  // namespace
