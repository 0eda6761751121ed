// mpsc_test: corio::mpsc bounded/unbounded delivery, disconnection both ways, try_/reserve/permit/recv_many/close/weak senders, cancellation of parked send/recv/reserve (nothing lost, values and permits come back), blocking twins, value lifetimes.
#include <corio/channels/mpsc.hpp>
#include <corio/runtime/runtime.hpp>
#include <corio/runtime/yield_now.hpp>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using corio::mpsc::try_recv_error;

struct counted {
    static inline std::atomic<int> made{0};
    static inline std::atomic<int> destroyed{0};
    static void reset() {
        made = 0;
        destroyed = 0;
    }
    static int live() { return made.load() - destroyed.load(); }
    explicit counted(int v) noexcept : value(v) { ++made; }
    counted(const counted& o) noexcept : value(o.value) { ++made; }
    counted(counted&& o) noexcept : value(o.value) { ++made; }
    ~counted() { ++destroyed; }
    int value;
};

// A waker that counts wakes, for polling leaves by hand.
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

// Waits (outside the runtime) until `pred` holds, or fails after 5 s.
template <class F>
bool eventually(F pred) {
    for (int i = 0; i < 5000; ++i) {
        if (pred()) return true;
        std::this_thread::sleep_for(1ms);
    }
    return false;
}

corio::task<std::vector<int>> drain(corio::mpsc::receiver<int>* rx) {
    std::vector<int> out;
    while (auto v = co_await rx->recv()) out.push_back(*v);
    co_return out;
}

corio::task<int> produce(corio::mpsc::sender<int> tx, int from, int n) {
    int ok = 0;
    for (int i = from; i < from + n; ++i) {
        auto r = co_await tx.send(i);
        if (r) ++ok;
    }
    co_return ok;
}

TEST(mpsc, unbounded_delivers_in_order_then_ends_when_senders_are_gone) {
    corio::runtime rt({.worker_threads = 2});
    auto [tx, rx] = corio::mpsc::unbounded_channel<int>();
    for (int i = 0; i < 1000; ++i) EXPECT_TRUE(tx.send(i).has_value());
    EXPECT_EQ(rx.len(), 1000u);
    { auto gone = std::move(tx); }
    auto got = rt.block_on(drain(&rx));
    ASSERT_EQ(got.size(), 1000u);
    for (int i = 0; i < 1000; ++i) EXPECT_EQ(got[i], i);
    auto again = rx.try_recv();
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error(), try_recv_error::closed);
}

TEST(mpsc, bounded_backpressure_across_tasks_keeps_per_producer_order) {
    corio::runtime rt({.worker_threads = 2});
    for (std::size_t cap : {1u, 2u, 7u, 64u}) {
        auto [tx, rx] = corio::mpsc::channel<int>(cap);
        EXPECT_EQ(tx.max_capacity(), cap);
        auto a = rt.spawn(produce(tx, 0, 3000));
        auto b = rt.spawn(produce(tx, 100000, 3000));
        { auto gone = std::move(tx); }
        auto got = rt.block_on(drain(&rx));
        EXPECT_EQ(a.blocking_join().value(), 3000);
        EXPECT_EQ(b.blocking_join().value(), 3000);
        ASSERT_EQ(got.size(), 6000u);
        int next_a = 0, next_b = 100000;
        for (int v : got) {
            if (v < 100000) EXPECT_EQ(v, next_a++);
            else EXPECT_EQ(v, next_b++);
        }
    }
}

TEST(mpsc, parked_receiver_is_woken_by_send_and_by_last_sender_drop) {
    corio::runtime rt({.worker_threads = 2});
    auto [tx, rx] = corio::mpsc::channel<int>(4);
    auto h = rt.spawn(drain(&rx));
    std::this_thread::sleep_for(20ms);
    EXPECT_TRUE(tx.try_send(5).has_value());
    std::this_thread::sleep_for(20ms);
    EXPECT_FALSE(h.is_finished());
    { auto gone = std::move(tx); }
    auto got = h.blocking_join().value();
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0], 5);
}

TEST(mpsc, try_send_full_and_closed_hand_the_value_back) {
    auto [tx, rx] = corio::mpsc::channel<std::string>(1);
    EXPECT_TRUE(tx.try_send("a").has_value());
    EXPECT_EQ(tx.capacity(), 0u);
    auto full = tx.try_send("b");
    ASSERT_FALSE(full);
    EXPECT_TRUE(full.error().is_full());
    EXPECT_EQ(full.error().value, "b");
    EXPECT_EQ(fmt::format("{}", full.error()), "no available capacity");
    auto v = rx.try_recv();
    ASSERT_TRUE(v);
    EXPECT_EQ(*v, "a");
    auto empty = rx.try_recv();
    ASSERT_FALSE(empty);
    EXPECT_EQ(empty.error(), try_recv_error::empty);
    EXPECT_EQ(tx.capacity(), 1u);
    rx.close();
    EXPECT_TRUE(tx.is_closed());
    auto closed = tx.try_send("c");
    ASSERT_FALSE(closed);
    EXPECT_TRUE(closed.error().is_closed());
    EXPECT_EQ(std::move(closed.error()).into_inner(), "c");
    EXPECT_EQ(fmt::format("{}", closed.error()), "channel closed");
}

corio::task<bool> send_fails_with(corio::mpsc::sender<int>* tx, int v) {
    auto r = co_await tx->send(v);
    co_return !r && r.error().value == v;
}

TEST(mpsc, receiver_dropped_fails_pending_and_later_sends_with_their_value) {
    corio::runtime rt({.worker_threads = 2});
    auto [tx, rx] = corio::mpsc::channel<int>(1);
    EXPECT_TRUE(tx.try_send(1).has_value());
    auto tx2 = tx;
    auto parked1 = rt.spawn(send_fails_with(&tx, 2));
    auto parked2 = rt.spawn(send_fails_with(&tx2, 3));
    std::this_thread::sleep_for(20ms);
    EXPECT_FALSE(parked1.is_finished());
    { auto gone = std::move(rx); }
    EXPECT_TRUE(parked1.blocking_join().value());
    EXPECT_TRUE(parked2.blocking_join().value());
    EXPECT_TRUE(rt.block_on(send_fails_with(&tx, 4)));
    auto [utx, urx] = corio::mpsc::unbounded_channel<int>();
    { auto gone = std::move(urx); }
    auto r = utx.send(9);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().value, 9);
}

TEST(mpsc, receiver_drop_destroys_queued_values) {
    counted::reset();
    {
        auto [tx, rx] = corio::mpsc::unbounded_channel<counted>();
        for (int i = 0; i < 100; ++i) EXPECT_TRUE(tx.send(counted(i)).has_value());
        { auto gone = std::move(rx); }
        EXPECT_EQ(counted::live(), 0);
    }
    {
        // Values left when the last handle goes (receiver first, then senders; and the other way).
        auto [tx, rx] = corio::mpsc::channel<counted>(64);
        for (int i = 0; i < 40; ++i) EXPECT_TRUE(tx.try_send(counted(i)).has_value());
    }
    EXPECT_EQ(counted::live(), 0);
}

corio::task<int> sum_recv(corio::mpsc::receiver<int>* rx) {
    int sum = 0;
    while (auto v = co_await rx->recv()) sum += *v;
    co_return sum;
}

TEST(mpsc, close_refuses_sends_but_drains_queued_values_and_wakes_closed) {
    corio::runtime rt({.worker_threads = 2});
    auto [tx, rx] = corio::mpsc::channel<int>(8);
    EXPECT_TRUE(tx.try_send(1).has_value());
    EXPECT_TRUE(tx.try_send(2).has_value());
    rx.close();
    EXPECT_TRUE(rx.is_closed());
    EXPECT_FALSE(tx.try_send(3).has_value());
    // tx is still alive: recv ends after the queued values because the receiver closed.
    EXPECT_EQ(rt.block_on(sum_recv(&rx)), 3);
}

corio::task<int> wait_closed(corio::mpsc::sender<int> tx) {
    co_await tx.closed();
    co_return 1;
}

TEST(mpsc, closed_completes_when_the_receiver_goes) {
    corio::runtime rt({.worker_threads = 2});
    auto [tx, rx] = corio::mpsc::channel<int>(1);
    auto h1 = rt.spawn(wait_closed(tx));
    auto h2 = rt.spawn(wait_closed(tx));
    std::this_thread::sleep_for(20ms);
    EXPECT_FALSE(h1.is_finished());
    { auto gone = std::move(rx); }
    EXPECT_EQ(h1.blocking_join().value(), 1);
    EXPECT_EQ(h2.blocking_join().value(), 1);
    EXPECT_EQ(rt.block_on(wait_closed(tx)), 1);  // already closed: ready at once
}

corio::task<int> reserve_and_send(corio::mpsc::sender<int>* tx, int v) {
    auto p = co_await tx->reserve();
    if (!p) co_return 0;
    p->send(v);
    co_return 1;
}

TEST(mpsc, reserve_gives_a_permit_and_an_unused_permit_returns_its_slot) {
    corio::runtime rt({.worker_threads = 2});
    auto [tx, rx] = corio::mpsc::channel<int>(2);
    {
        auto p = tx.try_reserve();
        ASSERT_TRUE(p);
        EXPECT_EQ(tx.capacity(), 1u);
        EXPECT_EQ(rx.len(), 1u);  // reserved slots count
    }
    EXPECT_EQ(tx.capacity(), 2u);
    EXPECT_EQ(rt.block_on(reserve_and_send(&tx, 7)), 1);
    EXPECT_EQ(rx.try_recv().value(), 7);
    auto p1 = tx.try_reserve();
    auto p2 = tx.try_reserve();
    ASSERT_TRUE(p1 && p2);
    auto p3 = tx.try_reserve();
    ASSERT_FALSE(p3);
    EXPECT_EQ(p3.error(), corio::mpsc::try_reserve_error::full);
    p2->send(2);
    p1->send(1);  // order of sending, not of reserving
    EXPECT_EQ(rx.try_recv().value(), 2);
    EXPECT_EQ(rx.try_recv().value(), 1);
    rx.close();
    EXPECT_EQ(rt.block_on(reserve_and_send(&tx, 8)), 0);
}

TEST(mpsc, receiver_closed_waits_for_outstanding_permits) {
    corio::runtime rt({.worker_threads = 2});
    auto [tx, rx] = corio::mpsc::channel<int>(2);
    auto p = tx.try_reserve();
    ASSERT_TRUE(p);
    rx.close();
    auto h = rt.spawn(sum_recv(&rx));
    std::this_thread::sleep_for(20ms);
    EXPECT_FALSE(h.is_finished());  // a permit is outstanding: a value may still come
    p->send(40);
    EXPECT_EQ(h.blocking_join().value(), 40);
    auto q = std::move(*p);  // spent
    EXPECT_FALSE(q);

    auto [tx2, rx2] = corio::mpsc::channel<int>(2);
    auto p2 = tx2.try_reserve();
    rx2.close();
    auto h2 = rt.spawn(sum_recv(&rx2));
    std::this_thread::sleep_for(20ms);
    EXPECT_FALSE(h2.is_finished());
    { auto gone = std::move(*p2); }  // dropped unused: the receiver is told
    EXPECT_EQ(h2.blocking_join().value(), 0);
}

corio::task<int> send_counted(corio::mpsc::sender<counted>* tx, int v) {
    counted c(v);
    auto r = co_await tx->send(std::move(c));
    co_return r ? 1 : 0;
}

TEST(mpsc, abort_of_a_parked_send_sends_nothing_and_passes_capacity_on) {
    counted::reset();
    {
        corio::runtime rt({.worker_threads = 2});
        auto [tx, rx] = corio::mpsc::channel<counted>(1);
        EXPECT_TRUE(tx.try_send(counted(1)).has_value());
        auto a = rt.spawn(send_counted(&tx, 2));
        std::this_thread::sleep_for(20ms);
        auto tx_b = tx;
        auto b = rt.spawn(send_counted(&tx_b, 3));
        std::this_thread::sleep_for(20ms);
        EXPECT_FALSE(a.is_finished());
        a.abort();
        EXPECT_TRUE(a.blocking_join().error().is_cancelled());
        auto v1 = rx.try_recv();  // frees the slot: it goes to b, not to the aborted a
        ASSERT_TRUE(v1);
        EXPECT_EQ(v1->value, 1);
        EXPECT_EQ(b.blocking_join().value(), 1);
        auto v3 = rx.try_recv();
        ASSERT_TRUE(v3);
        EXPECT_EQ(v3->value, 3);
        EXPECT_FALSE(rx.try_recv());
        EXPECT_EQ(tx.capacity(), 1u);
    }
    EXPECT_EQ(counted::live(), 0);  // a's value destroyed exactly once
}

TEST(mpsc, take_value_from_an_abandoned_send_returns_the_value_and_leaves_the_queue) {
    auto [tx, rx] = corio::mpsc::channel<std::string>(1);
    EXPECT_TRUE(tx.try_send("first").has_value());
    manual_cx c1, c2;
    auto winner = tx.send("winner");
    std::optional<std::string> back;
    {
        auto lost = tx.send("lost");
        EXPECT_FALSE(lost.poll(c1.cx));
        EXPECT_FALSE(winner.poll(c2.cx));
        back = lost.take_value();
    }
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, "lost");
    EXPECT_EQ(rx.try_recv().value(), "first");
    EXPECT_EQ(c1.w.wakes.load(), 0);
    EXPECT_EQ(c2.w.wakes.load(), 1);
    ASSERT_TRUE(winner.poll(c2.cx));
    EXPECT_TRUE(winner.await_resume().has_value());
    EXPECT_EQ(rx.try_recv().value(), "winner");
    // Never started: the value is simply there.
    auto unstarted = tx.send("x");
    EXPECT_EQ(unstarted.take_value().value(), "x");
}

corio::task<int> recv_one(corio::mpsc::receiver<int>* rx) {
    auto v = co_await rx->recv();
    co_return v ? *v : -1;
}

TEST(mpsc, abort_of_a_parked_recv_consumes_nothing) {
    corio::runtime rt({.worker_threads = 2});
    auto [tx, rx] = corio::mpsc::channel<int>(4);
    auto a = rt.spawn(recv_one(&rx));
    std::this_thread::sleep_for(20ms);
    a.abort();
    EXPECT_TRUE(a.blocking_join().error().is_cancelled());
    EXPECT_TRUE(tx.try_send(11).has_value());
    EXPECT_EQ(rt.block_on(recv_one(&rx)), 11);
}

TEST(mpsc, abort_of_a_parked_reserve_returns_its_permit) {
    corio::runtime rt({.worker_threads = 2});
    auto [tx, rx] = corio::mpsc::channel<int>(1);
    auto held = tx.try_reserve();
    ASSERT_TRUE(held);
    auto a = rt.spawn(reserve_and_send(&tx, 5));
    std::this_thread::sleep_for(20ms);
    a.abort();
    EXPECT_TRUE(a.blocking_join().error().is_cancelled());
    { auto gone = std::move(*held); }
    EXPECT_EQ(tx.capacity(), 1u);
    EXPECT_EQ(rt.block_on(reserve_and_send(&tx, 6)), 1);
    EXPECT_EQ(rx.try_recv().value(), 6);
}

corio::task<std::size_t> recv_many_once(corio::mpsc::receiver<int>* rx, std::vector<int>* buf, std::size_t limit) {
    std::size_t n = co_await rx->recv_many(*buf, limit);
    co_return n;
}

TEST(mpsc, recv_many_takes_up_to_limit_and_returns_zero_at_the_end) {
    corio::runtime rt({.worker_threads = 2});
    auto [tx, rx] = corio::mpsc::unbounded_channel<int>();
    for (int i = 0; i < 10; ++i) EXPECT_TRUE(tx.send(i).has_value());
    std::vector<int> buf;
    EXPECT_EQ(rt.block_on(recv_many_once(&rx, &buf, 4)), 4u);
    EXPECT_EQ(rt.block_on(recv_many_once(&rx, &buf, 100)), 6u);
    ASSERT_EQ(buf.size(), 10u);
    for (int i = 0; i < 10; ++i) EXPECT_EQ(buf[i], i);
    auto h = rt.spawn(recv_many_once(&rx, &buf, 3));
    std::this_thread::sleep_for(20ms);
    EXPECT_FALSE(h.is_finished());
    EXPECT_TRUE(tx.send(10).has_value());
    EXPECT_EQ(h.blocking_join().value(), 1u);
    { auto gone = std::move(tx); }
    EXPECT_EQ(rt.block_on(recv_many_once(&rx, &buf, 3)), 0u);
}

TEST(mpsc, weak_senders_do_not_keep_the_channel_open) {
    auto [tx, rx] = corio::mpsc::channel<int>(4);
    auto weak = tx.downgrade();
    {
        auto strong = weak.upgrade();
        ASSERT_TRUE(strong);
        EXPECT_EQ(tx.strong_count(), 2u);
        EXPECT_TRUE(strong->try_send(1).has_value());
    }
    { auto gone = std::move(tx); }
    EXPECT_FALSE(weak.upgrade());
    EXPECT_EQ(rx.try_recv().value(), 1);
    auto end = rx.try_recv();
    ASSERT_FALSE(end);
    EXPECT_EQ(end.error(), try_recv_error::closed);

    auto [utx, urx] = corio::mpsc::unbounded_channel<int>();
    auto uweak = utx.downgrade();
    EXPECT_TRUE(uweak.upgrade()->send(2).has_value());
    EXPECT_EQ(urx.try_recv().value(), 2);
}

TEST(mpsc, introspection) {
    auto [tx, rx] = corio::mpsc::channel<int>(3);
    auto [tx2, rx2] = corio::mpsc::channel<int>(3);
    auto [utx, urx] = corio::mpsc::unbounded_channel<int>();
    EXPECT_TRUE(tx.same_channel(tx));
    auto txc = tx;
    EXPECT_TRUE(tx.same_channel(txc));
    EXPECT_FALSE(tx.same_channel(tx2));
    EXPECT_TRUE(rx.same_channel(tx));
    EXPECT_FALSE(rx.same_channel(tx2));
    EXPECT_TRUE(urx.same_channel(utx));
    EXPECT_EQ(rx.max_capacity(), 3u);
    EXPECT_EQ(rx.capacity(), 3u);
    EXPECT_TRUE(rx.is_empty());
    EXPECT_TRUE(tx.try_send(1).has_value());
    EXPECT_EQ(rx.len(), 1u);
    EXPECT_EQ(tx.capacity(), 2u);
    EXPECT_FALSE(rx.is_closed());
    EXPECT_FALSE(tx.is_closed());
    EXPECT_TRUE(utx.send(1).has_value());
    EXPECT_EQ(urx.len(), 1u);
    (void)rx2;
}

TEST(mpsc, blocking_send_and_recv_bridge_plain_threads) {
    corio::runtime rt({.worker_threads = 2});
    auto [tx, rx] = corio::mpsc::channel<int>(2);
    auto [rtx, rrx] = corio::mpsc::channel<int>(2);
    // Thread -> task -> thread.
    auto echo = rt.spawn([](corio::mpsc::receiver<int> in, corio::mpsc::sender<int> out) -> corio::task<int> {
        int n = 0;
        while (auto v = co_await in.recv()) {
            auto r = co_await out.send(*v * 2);
            if (!r) break;
            ++n;
        }
        co_return n;
    }(std::move(rx), std::move(rtx)));
    std::thread producer([tx = std::move(tx)]() mutable {
        for (int i = 0; i < 500; ++i) EXPECT_TRUE(tx.blocking_send(i).has_value());
    });
    long sum = 0;
    int count = 0;
    while (auto v = rrx.blocking_recv()) {
        sum += *v;
        ++count;
    }
    producer.join();
    EXPECT_EQ(count, 500);
    EXPECT_EQ(sum, 2L * 499 * 500 / 2);
    EXPECT_EQ(echo.blocking_join().value(), 500);
    // blocking_send to a gone receiver hands the value back.
    auto [tx3, rx3] = corio::mpsc::channel<int>(1);
    { auto gone = std::move(rx3); }
    auto r = tx3.blocking_send(4);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().value, 4);
}

TEST(mpsc, senders_waiting_for_capacity_are_served_in_fifo_order) {
    auto [tx, rx] = corio::mpsc::channel<int>(1);
    EXPECT_TRUE(tx.try_send(0).has_value());
    manual_cx c[3];
    auto s1 = tx.send(1);
    auto s2 = tx.send(2);
    auto s3 = tx.send(3);
    EXPECT_FALSE(s1.poll(c[0].cx));
    EXPECT_FALSE(s2.poll(c[1].cx));
    EXPECT_FALSE(s3.poll(c[2].cx));
    EXPECT_FALSE(tx.try_send(9).has_value());  // no barging past the queue
    EXPECT_EQ(rx.try_recv().value(), 0);
    EXPECT_EQ(c[0].w.wakes.load(), 1);
    EXPECT_EQ(c[1].w.wakes.load(), 0);
    EXPECT_TRUE(s1.poll(c[0].cx));
    EXPECT_EQ(rx.try_recv().value(), 1);
    EXPECT_TRUE(s2.poll(c[1].cx));
    EXPECT_EQ(rx.try_recv().value(), 2);
    EXPECT_TRUE(s3.poll(c[2].cx));
    EXPECT_EQ(rx.try_recv().value(), 3);
}

TEST(mpsc, many_blocks_are_recycled_without_loss) {
    auto [tx, rx] = corio::mpsc::unbounded_channel<int>();
    int next = 0;
    for (int round = 0; round < 200; ++round) {
        for (int i = 0; i < 97; ++i) EXPECT_TRUE(tx.send(round * 97 + i).has_value());
        for (int i = 0; i < 97; ++i) {
            auto v = rx.try_recv();
            ASSERT_TRUE(v);
            ASSERT_EQ(*v, next++);
        }
    }
    EXPECT_FALSE(rx.try_recv());
}

TEST(mpsc, zero_capacity_is_rejected) {
    EXPECT_THROW((void)corio::mpsc::channel<int>(0), std::invalid_argument);
}

corio::task<std::string> send_timeout_cases() {
    using namespace std::chrono_literals;
    auto [tx, rx] = corio::mpsc::channel<std::string>(1);
    // Capacity free: sends at once.
    auto r1 = co_await tx.send_timeout(std::string("a"), 1s);
    if (!r1) co_return "send_timeout with capacity failed";
    // Full: times out, hands the value back, and holds no place in the capacity queue.
    auto r2 = co_await tx.send_timeout(std::string("b"), 5ms);
    if (r2 || !r2.error().is_timeout() || r2.error().value != "b") co_return "full channel did not time out with the value";
    if (fmt::format("{}", r2.error()) != "timed out waiting on send operation") co_return "wrong error text";
    auto a = rx.try_recv();
    if (!a || *a != "a") co_return "queued value lost";
    auto r3 = co_await tx.send_timeout(std::string("c"), 1s);
    if (!r3) co_return "send_timeout after a receive failed";
    auto c = rx.try_recv();
    if (!c || *c != "c") co_return "value sent after the timeout is wrong";
    // Closed: fails at once with the value.
    rx.close();
    auto r4 = co_await tx.send_timeout(std::string("d"), 1s);
    if (r4 || !r4.error().is_closed() || r4.error().value != "d") co_return "closed channel did not hand the value back";
    co_return "";
}

TEST(mpsc, send_timeout_times_out_sends_or_fails_closed_and_returns_the_value) {
    corio::runtime rt({.worker_threads = 2});
    EXPECT_EQ(rt.block_on(send_timeout_cases()), "");
}

}  // namespace
