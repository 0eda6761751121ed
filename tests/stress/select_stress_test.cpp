// select_stress_test: under every interleaving, a select delivers each message exactly once. Producers push numbered messages through selects over two send branches and a timer (losing sends hand their value back and are retried), consumers select over their two receivers and a timer, some consumers close a receiver mid-run while sends race the close, and everything ends through when_some + otherwise as the senders go away: every message is received exactly once, in per-producer order at each consumer.
#include <corio/channels/mpsc.hpp>
#include <corio/runtime/runtime.hpp>
#include <corio/runtime/select.hpp>
#include <corio/runtime/time.hpp>

#include <support/stress.hpp>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
using msg = std::uint64_t;
constexpr unsigned seq_bits = 40;

constexpr int producers = 4;
constexpr int consumers = 4;  // consumers [consumers/2, consumers) close one receiver mid-run

struct shared_state {
    explicit shared_state(std::size_t per) : per_producer(per), seen(producers * per) {}
    std::size_t per_producer;
    std::vector<std::atomic<int>> seen;  // seen[p * per + seq]: times received
    std::atomic<std::uint64_t> received{0};
    std::atomic<std::uint64_t> sent{0};
    std::atomic<std::uint64_t> given_back{0};   // send branches that lost and handed their value back
    std::atomic<std::uint64_t> timer_wins{0};   // selects won by the timer
    std::atomic<std::uint64_t> send_closed{0};  // sends that failed on a closed receiver
    std::atomic<int> order_errors{0};
    std::atomic<int> duplicates{0};
    std::atomic<int> producers_done{0};
    std::atomic<int> consumers_done{0};
};

// Cheap per-task randomness (the test's choices, not select's).
struct rng {
    std::uint64_t s;
    std::uint32_t next(std::uint32_t n) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        return static_cast<std::uint32_t>((s >> 11) % n);
    }
};

// Producer p reaches consumer c only through channel txs[c] (= consumer c's channel p % 2), so its
// messages to one consumer go through one FIFO: per-producer order holds at each consumer.
corio::task<void> producer(shared_state* st, int p, std::vector<corio::mpsc::sender<msg>> txs) {
    rng r{0x9E3779B97F4A7C15ull * static_cast<std::uint64_t>(p + 1)};
    std::vector<bool> alive(consumers, true);
    for (std::uint64_t seq = 0; seq < st->per_producer;) {
        const msg m = (static_cast<msg>(p) << seq_bits) | seq;
        // Two live targets (consumers below consumers/2 never close, so there are always two).
        int c1, c2;
        do c1 = static_cast<int>(r.next(consumers));
        while (!alive[c1]);
        do c2 = static_cast<int>(r.next(consumers));
        while (c2 == c1 || !alive[c2]);
        std::optional<msg> back1, back2;
        int outcome = 0;  // 1: sent, 2: a target closed, 3: timer
        const auto wait = std::chrono::microseconds(r.next(200));
        co_await corio::select(corio::branch(txs[c1].send(m),
                                             [&](corio::result<void, corio::send_error<msg>> res) {
                                                 if (res) {
                                                     outcome = 1;
                                                 } else {
                                                     outcome = 2;
                                                     alive[c1] = false;
                                                 }
                                             })
                                   .unsent_into(back1),
                               corio::branch(txs[c2].send(m),
                                             [&](corio::result<void, corio::send_error<msg>> res) {
                                                 if (res) {
                                                     outcome = 1;
                                                 } else {
                                                     outcome = 2;
                                                     alive[c2] = false;
                                                 }
                                             })
                                   .unsent_into(back2),
                               corio::branch(corio::sleep(wait), [&] { outcome = 3; }));
        // Exactly one branch won: a sent message never comes back, an unsent one always does
        // (from each losing send branch; the copies are the same logical message).
        const int backs = (back1 ? 1 : 0) + (back2 ? 1 : 0);
        if (outcome == 1) {
            st->sent.fetch_add(1, std::memory_order_relaxed);
            st->given_back.fetch_add(backs, std::memory_order_relaxed);
            if (backs != 1) st->duplicates.fetch_add(1);  // the loser must hand its copy back
            ++seq;
        } else if (outcome == 2) {
            st->send_closed.fetch_add(1, std::memory_order_relaxed);
            if (backs != 1) st->duplicates.fetch_add(1);
        } else {
            st->timer_wins.fetch_add(1, std::memory_order_relaxed);
            if (backs != 2) st->duplicates.fetch_add(1);
        }
    }
    txs.clear();
    st->producers_done.fetch_add(1);
}

corio::task<void> consumer(shared_state* st, int c, corio::mpsc::receiver<msg> rx0, corio::mpsc::receiver<msg> rx1) {
    rng r{0xD1B54A32D192ED03ull * static_cast<std::uint64_t>(c + 1)};
    std::vector<std::int64_t> last(producers, -1);
    const bool closes = c >= consumers / 2;
    const std::uint64_t close_at = r.next(static_cast<std::uint32_t>(st->per_producer) + 1);
    std::uint64_t iteration = 0;
    auto take = [&](msg m) {
        const int p = static_cast<int>(m >> seq_bits);
        const std::uint64_t seq = m & ((std::uint64_t{1} << seq_bits) - 1);
        if (static_cast<std::int64_t>(seq) <= last[p]) st->order_errors.fetch_add(1);
        last[p] = static_cast<std::int64_t>(seq);
        if (st->seen[p * st->per_producer + seq].fetch_add(1) != 0) st->duplicates.fetch_add(1);
        st->received.fetch_add(1, std::memory_order_relaxed);
    };
    for (bool done = false; !done; ++iteration) {
        if (closes && iteration == close_at) rx0.close();  // races the producers' pending sends
        const auto wait = std::chrono::microseconds(r.next(100));
        // The timer branch runs while a sender may still send; the receive branches drop out when
        // their channel is closed and drained; then otherwise() ends the loop.
        const bool senders_left = !rx0.is_closed() || !rx1.is_closed();
        co_await corio::select(corio::branch(rx0.recv()).when_some(take), corio::branch(rx1.recv()).when_some(take),
                               corio::branch(corio::sleep(wait), [] {}).if_(senders_left), corio::otherwise([&] { done = true; }));
    }
    st->consumers_done.fetch_add(1);
}

TEST(select_stress, every_message_is_received_exactly_once_through_racing_selects) {
    const std::size_t rounds = corio::testing::iterations(4, 2);
    const std::size_t per = corio::testing::iterations(20000, 2000);
    for (std::size_t round = 0; round < rounds; ++round) {
        auto st = std::make_unique<shared_state>(per);
        corio::testing::hang_guard guard("select_stress", [&] {
            return fmt::format("round {} received {} sent {} given_back {} timer_wins {} closed {} producers_done {} consumers_done {}",
                               round, st->received.load(), st->sent.load(), st->given_back.load(), st->timer_wins.load(),
                               st->send_closed.load(), st->producers_done.load(), st->consumers_done.load());
        });
        corio::runtime rt({.worker_threads = 2});
        std::vector<std::vector<corio::mpsc::sender<msg>>> by_parity(2);
        std::vector<corio::join_handle<void>> handles;
        for (int c = 0; c < consumers; ++c) {
            auto [tx0, rx0] = corio::mpsc::channel<msg>(2);
            auto [tx1, rx1] = corio::mpsc::channel<msg>(2);
            by_parity[0].push_back(std::move(tx0));
            by_parity[1].push_back(std::move(tx1));
            handles.push_back(rt.spawn(consumer(st.get(), c, std::move(rx0), std::move(rx1))));
        }
        for (int p = 0; p < producers; ++p) {
            std::vector<corio::mpsc::sender<msg>> txs = by_parity[p % 2];  // copies
            handles.push_back(rt.spawn(producer(st.get(), p, std::move(txs))));
        }
        by_parity.clear();  // only the producers keep the channels open now
        for (auto& h : handles) h.blocking_join().value();

        EXPECT_EQ(st->order_errors.load(), 0);
        EXPECT_EQ(st->duplicates.load(), 0);
        EXPECT_EQ(st->sent.load(), producers * per);
        EXPECT_EQ(st->received.load(), producers * per);
        std::size_t missing = 0;
        for (auto& s : st->seen) missing += s.load() == 1 ? 0 : 1;
        EXPECT_EQ(missing, 0u);
        EXPECT_GT(st->given_back.load(), 0u);  // send branches did lose and hand values back
        fmt::print(stderr, "round {}: {} messages, {} values handed back by losing sends, {} timer wins, {} sends on a closed receiver\n",
                   round, st->received.load(), st->given_back.load(), st->timer_wins.load(), st->send_closed.load());
        if (::testing::Test::HasFailure()) break;
    }
}

}  // namespace
