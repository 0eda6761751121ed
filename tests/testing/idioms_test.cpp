// testing_idioms_test: the idioms of docs/testing.md, compiled and run exactly as written there
// (keep the two in step: this file is the doc's examples, nothing more).
#include <corio/corio.hpp>
#include <corio/testing.hpp>

#include <array>
#include <chrono>
#include <span>
#include <string>
#include <utility>

namespace {

CORIO_TEST_WITH(timeouts, a_silent_peer_times_out,
                .flavor = corio::runtime_flavor::current_thread, .start_paused = true) {
    auto [tx, rx] = corio::mpsc::channel<int>(1);  // nobody sends
    const auto t0 = corio::time::now();
    auto r = co_await corio::timeout(std::chrono::hours(1), rx.recv());
    EXPECT_FALSE(r.has_value());
    EXPECT_EQ(corio::time::now() - t0, std::chrono::nanoseconds(std::chrono::hours(1)));
}

CORIO_TEST_WITH(intervals, tick_once_per_period, .workers = 1, .start_paused = true) {
    auto iv = corio::interval(std::chrono::seconds(10));
    const auto t0 = co_await iv.tick();  // the first tick completes at once
    const auto t1 = co_await iv.tick();
    EXPECT_EQ(t1 - t0, std::chrono::nanoseconds(std::chrono::seconds(10)));
}

corio::task<int> sum_until_closed(corio::mpsc::receiver<int> a, corio::mpsc::receiver<int> b) {
    int sum = 0;
    for (bool open = true; open;) {
        co_await corio::select(corio::branch(a.recv()).when_some([&](int v) { sum += v; }),
                               corio::branch(b.recv()).when_some([&](int v) { sum += v; }),
                               corio::otherwise([&] { open = false; }));
    }
    co_return sum;
}

CORIO_TEST(select_loop, sums_both_inputs_and_ends_when_both_close) {
    auto [ta, ra] = corio::mpsc::channel<int>(4);
    auto [tb, rb] = corio::mpsc::channel<int>(4);
    auto loop = corio::spawn(sum_until_closed(std::move(ra), std::move(rb)));
    (void)co_await ta.send(1);
    (void)co_await tb.send(2);
    { auto drop_a = std::move(ta); auto drop_b = std::move(tb); }  // close both inputs
    auto sum = co_await loop;
    ASSERT_TRUE(sum.has_value());
    EXPECT_EQ(*sum, 3);
}

corio::task<void> serve_one(corio::net::tcp_listener l) {
    auto c = co_await l.accept();
    if (!c) co_return;
    std::array<std::byte, 64> buf;
    auto n = co_await c->first.read(buf);
    if (n && *n > 0) (void)co_await c->first.write_all(std::span(buf.data(), *n));
}

CORIO_TEST(echo, returns_what_it_got) {
    auto l = corio::net::tcp_listener::bind(corio::net::socket_addr::ipv4_loopback(0));
    ASSERT_TRUE(l.has_value());
    const auto addr = *l->local_addr();
    auto server = corio::spawn(serve_one(std::move(*l)));
    auto s = co_await corio::net::tcp_stream::connect(addr);
    ASSERT_TRUE(s.has_value());
    const std::string msg = "ping";
    ASSERT_TRUE((co_await s->write_all(std::as_bytes(std::span(msg)))).has_value());
    std::array<char, 4> got{};
    auto n = co_await s->read(std::span(got));
    ASSERT_TRUE(n.has_value());
    EXPECT_EQ(std::string(got.data(), *n), "ping");
    (void)co_await server;
}

}  // namespace
