// buf_test: buf_reader (read_line / read_until with partial reads, max length, EOF mid-line,
// cancellation keeping buffered bytes, read / fill_buf / consume), buf_writer (buffering, flush,
// large writes), copy and copy_bidirectional through a proxy with half-close.
#include "io/io_test_util.hpp"

#include <corio/io/buf_reader.hpp>
#include <corio/io/buf_writer.hpp>
#include <corio/io/copy.hpp>
#include <corio/net/tcp_listener.hpp>
#include <corio/net/tcp_stream.hpp>
#include <corio/net/unix_stream.hpp>
#include <corio/runtime/join_handle.hpp>
#include <corio/runtime/runtime.hpp>
#include <corio/runtime/time.hpp>
#include <corio/runtime/yield_now.hpp>

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using corio::io::buf_reader;
using corio::io::buf_writer;
using corio::net::socket_addr;
using corio::net::tcp_listener;
using corio::net::tcp_stream;
using corio::net::unix_stream;
using corio::testing::bytes_of;
using corio::testing::pattern;

namespace {

// Writes `text` one byte per write (with a yield between), then shuts down if asked.
corio::task<void> trickle(unix_stream* s, std::string text, bool close) {
    for (char c : text) {
        std::string one(1, c);
        auto w = co_await s->write_all(one);
        EXPECT_TRUE(w);
        co_await corio::yield_now();
    }
    if (close) s->shutdown().value();
}

// --- read_line ------------------------------------------------------------------------------------

corio::task<std::vector<std::string>> lines_main(std::string text, std::size_t capacity) {
    auto p = unix_stream::pair().value();
    auto writer = corio::spawn(trickle(&p.second, text, true));
    buf_reader rd(std::move(p.first), capacity);
    std::vector<std::string> lines;
    for (;;) {
        std::string line;
        auto n = co_await rd.read_line(line, 1024);
        if (!n) {
            lines.push_back("error: " + n.error().message());
            break;
        }
        if (*n == 0) break;
        EXPECT_EQ(*n, line.size());
        lines.push_back(line);
    }
    co_await writer;
    co_return lines;
}

TEST(buf_reader, read_line_reassembles_lines_from_one_byte_writes) {
    corio::runtime rt(corio::testing::two_workers());
    auto lines = rt.block_on(lines_main("alpha\nbe\n\ngamma-delta\n", 4));  // capacity 4: lines outgrow it
    ASSERT_EQ(lines.size(), 4u);
    EXPECT_EQ(lines[0], "alpha\n");
    EXPECT_EQ(lines[1], "be\n");
    EXPECT_EQ(lines[2], "\n");
    EXPECT_EQ(lines[3], "gamma-delta\n");
}

TEST(buf_reader, eof_mid_line_returns_the_partial_last_line_then_zero) {
    corio::runtime rt(corio::testing::two_workers());
    auto lines = rt.block_on(lines_main("one\ntwo-without-newline", 8192));
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_EQ(lines[0], "one\n");
    EXPECT_EQ(lines[1], "two-without-newline");
}

corio::task<std::vector<std::string>> too_long_main() {
    auto p = unix_stream::pair().value();
    (co_await p.second.write_all(bytes_of("0123456789\nshort\nabcde\n"))).value();
    p.second.shutdown().value();
    buf_reader rd(std::move(p.first), 4);
    std::vector<std::string> out;
    std::string line;
    auto r = co_await rd.read_line(line, 5);
    out.push_back(r ? "ok" : r.error() == corio::io::error::line_too_long ? "too_long" : r.error().message());
    out.push_back(line);                                       // nothing appended
    out.push_back(std::to_string(rd.buffer().size() > 5));     // more than max_len buffered, not consumed
    r = co_await rd.read_line(line, 100);                      // a larger limit reads it whole
    out.push_back(line);
    line.clear();
    r = co_await rd.read_line(line, 6);  // "short\n" is exactly 6: fits
    out.push_back(line);
    line.clear();
    r = co_await rd.read_line(line, 5);  // "abcde\n" is 6: too long even though 5 chars
    out.push_back(r ? "ok" : "too_long");
    // Skip it with consume: drop through the newline.
    auto b = rd.buffer();
    std::size_t i = 0;
    while (i < b.size() && b[i] != std::byte{'\n'}) ++i;
    rd.consume(i + 1);
    line.clear();
    r = co_await rd.read_line(line, 5);
    out.push_back(r ? std::to_string(*r) : "error");  // EOF
    co_return out;
}

TEST(buf_reader, line_longer_than_max_len_fails_consumes_nothing_and_the_reader_stays_usable) {
    corio::runtime rt(corio::testing::two_workers());
    auto out = rt.block_on(too_long_main());
    const std::vector<std::string> want{"too_long", "", "1", "0123456789\n", "short\n", "too_long", "0"};
    EXPECT_EQ(out, want);
}

corio::task<std::string> last_line_exactly_max_main() {
    auto p = unix_stream::pair().value();
    (co_await p.second.write_all(bytes_of("abc"))).value();
    p.second.shutdown().value();
    buf_reader rd(std::move(p.first));
    std::string line;
    auto r = co_await rd.read_line(line, 3);
    co_return r ? line : r.error().message();
}

TEST(buf_reader, a_last_line_of_exactly_max_len_at_eof_is_accepted) {
    corio::runtime rt(corio::testing::two_workers());
    EXPECT_EQ(rt.block_on(last_line_exactly_max_main()), "abc");
}

// --- read_until, read, fill_buf -------------------------------------------------------------------

corio::task<std::vector<std::string>> read_until_main() {
    auto p = unix_stream::pair().value();
    auto writer = corio::spawn(trickle(&p.second, std::string("k1=v1;k2=v2;tail", 16), true));
    buf_reader rd(std::move(p.first), 3);
    std::vector<std::string> out;
    for (;;) {
        std::vector<std::byte> chunk;
        auto n = co_await rd.read_until(std::byte{';'}, chunk, 64);
        if (!n || *n == 0) break;
        out.push_back(corio::testing::to_string(chunk));
    }
    co_await writer;
    co_return out;
}

TEST(buf_reader, read_until_splits_on_the_delimiter) {
    corio::runtime rt(corio::testing::two_workers());
    const std::vector<std::string> want{"k1=v1;", "k2=v2;", "tail"};
    EXPECT_EQ(rt.block_on(read_until_main()), want);
}

corio::task<std::string> read_and_fill_main() {
    auto p = unix_stream::pair().value();
    (co_await p.second.write_all(bytes_of("line\nrest of it"))).value();
    p.second.shutdown().value();
    buf_reader rd(std::move(p.first), 64);
    std::string line;
    (co_await rd.read_line(line)).value();
    std::string out = line;
    auto f = co_await rd.fill_buf();  // what read_line left in the buffer
    out += "[" + corio::testing::to_string(*f) + "]";
    rd.consume(5);  // "rest "
    std::array<char, 3> small{};
    auto n = co_await rd.read(small);
    out += std::string(small.data(), *n) + "|";
    std::array<char, 100> big{};
    n = co_await rd.read(big);
    out += std::string(big.data(), *n) + "|";
    n = co_await rd.read(big);
    out += std::to_string(*n);
    co_return out;
}

TEST(buf_reader, read_fill_buf_and_consume_share_the_buffer) {
    corio::runtime rt(corio::testing::two_workers());
    EXPECT_EQ(rt.block_on(read_and_fill_main()), "line\n[rest of it]of |it|0");
}

corio::task<std::string> bypass_main() {
    auto p = unix_stream::pair().value();
    const auto data = pattern(5, 100000);
    auto w = corio::spawn([](unix_stream* s, const std::vector<std::byte>* d) -> corio::task<void> {
        (co_await s->write_all(*d)).value();
        s->shutdown().value();
    }(&p.second, &data));
    buf_reader rd(std::move(p.first), 16);
    std::vector<std::byte> got;
    std::vector<std::byte> buf(4096);  // >= capacity: reads bypass the buffer
    for (;;) {
        auto n = co_await rd.read(std::span<std::byte>(buf));
        if (!n || *n == 0) break;
        got.insert(got.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(*n));
    }
    co_await w;
    co_return got == data ? "ok" : "mismatch";
}

TEST(buf_reader, large_reads_bypass_the_buffer_and_arrive_intact) {
    corio::runtime rt(corio::testing::two_workers());
    EXPECT_EQ(rt.block_on(bypass_main()), "ok");
}

// --- cancellation ---------------------------------------------------------------------------------

corio::task<std::string> cancel_main() {
    auto p = unix_stream::pair().value();
    buf_reader rd(std::move(p.first));
    (co_await p.second.write_all(bytes_of("partial-"))).value();
    std::string line;
    auto r = co_await corio::timeout(30ms, rd.read_line(line, 100));
    if (r) co_return "read_line should have timed out";
    if (!line.empty()) co_return "a cancelled read_line appended to out";
    if (corio::testing::to_string(rd.buffer()) != "partial-") co_return "the bytes it read are not buffered";
    (co_await p.second.write_all(bytes_of("line\n"))).value();
    auto n = co_await rd.read_line(line, 100);
    if (!n) co_return n.error().message();
    co_return line;
}

TEST(buf_reader, a_cancelled_read_line_keeps_the_bytes_it_buffered) {
    corio::runtime rt(corio::testing::two_workers());
    EXPECT_EQ(rt.block_on(cancel_main()), "partial-line\n");
}

// --- buf_writer -----------------------------------------------------------------------------------

corio::task<std::string> writer_main() {
    auto p = unix_stream::pair().value();
    buf_writer wr(std::move(p.first), 16);
    std::string out;
    (co_await wr.write_all("hello ")).value();
    (co_await wr.write("world")).value();
    out += std::to_string(wr.buffer().size()) + ",";  // 11 buffered, nothing sent
    std::array<char, 64> buf{};
    auto peek = co_await corio::timeout(20ms, p.second.read(buf));
    out += peek ? "sent-early," : "held,";
    (co_await wr.write_all("!!!!!!")).value();  // 17 > 16: flushes the 11 first, buffers these 6
    out += std::to_string(wr.buffer().size()) + ",";
    (co_await wr.flush()).value();
    out += std::to_string(wr.buffer().size()) + ",";
    const auto big = pattern(9, 1000);
    (co_await wr.write_all(big)).value();  // >= capacity: straight through
    out += std::to_string(wr.buffer().size()) + ",";
    wr.get_ref().shutdown().value();
    std::string text;
    std::vector<std::byte> rest;
    for (;;) {
        auto n = co_await p.second.read(buf);
        if (!n || *n == 0) break;
        rest.insert(rest.end(), reinterpret_cast<std::byte*>(buf.data()), reinterpret_cast<std::byte*>(buf.data()) + *n);
    }
    const std::string head = "hello world!!!!!!";
    if (rest.size() != head.size() + big.size()) co_return out + "size " + std::to_string(rest.size());
    if (corio::testing::to_string(std::span(rest).first(head.size())) != head) co_return out + "bad head";
    if (!std::equal(big.begin(), big.end(), rest.begin() + static_cast<std::ptrdiff_t>(head.size()))) co_return out + "bad body";
    co_return out + "ok";
}

TEST(buf_writer, buffers_small_writes_flushes_on_overflow_and_writes_large_ones_through) {
    corio::runtime rt(corio::testing::two_workers());
    EXPECT_EQ(rt.block_on(writer_main()), "11,held,6,0,0,ok");
}

// --- copy ---------------------------------------------------------------------------------------

corio::task<std::string> copy_main() {
    auto a = unix_stream::pair().value();
    auto b = unix_stream::pair().value();
    const auto data = pattern(11, 300000);
    auto w = corio::spawn([](unix_stream* s, const std::vector<std::byte>* d) -> corio::task<void> {
        (co_await s->write_all(*d)).value();
        s->shutdown().value();
    }(&a.second, &data));
    // Reader side: a buf_reader over a.first, copied into b.first; b.second collects.
    auto collect = corio::spawn([](unix_stream s) -> corio::task<std::vector<std::byte>> {
        std::vector<std::byte> got;
        std::array<std::byte, 7000> buf;
        for (;;) {
            auto n = co_await s.read(buf);
            if (!n || *n == 0) break;
            got.insert(got.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(*n));
        }
        co_return got;
    }(std::move(b.second)));
    buf_reader rd(std::move(a.first), 1000);
    auto n = co_await corio::io::copy(rd, b.first);
    b.first.shutdown().value();
    co_await w;
    auto got = (co_await collect).value();
    if (!n) co_return n.error().message();
    if (*n != data.size()) co_return "copied " + std::to_string(*n);
    co_return got == data ? "ok" : "mismatch";
}

TEST(copy, copies_everything_until_eof_and_counts_it) {
    corio::runtime rt(corio::testing::two_workers());
    EXPECT_EQ(rt.block_on(copy_main()), "ok");
}

// A proxy: accepts one client, connects upstream, copy_bidirectional between them.
corio::task<std::pair<std::uint64_t, std::uint64_t>> proxy(tcp_listener* l, socket_addr upstream) {
    auto c = co_await l->accept();
    auto u = co_await tcp_stream::connect(upstream);
    if (!c || !u) co_return std::pair<std::uint64_t, std::uint64_t>(0, 0);
    auto r = co_await corio::io::copy_bidirectional(c->first, *u);
    EXPECT_TRUE(r) << r.error().message();
    co_return r ? *r : std::pair<std::uint64_t, std::uint64_t>(0, 0);
}

// Upstream: reads everything until EOF (the client's half-close crossed the proxy), then
// replies with the byte count and a trailer, and closes.
corio::task<void> upstream_server(tcp_listener* l) {
    auto c = co_await l->accept();
    if (!c) co_return;
    std::vector<std::byte> buf(5000);
    std::size_t total = 0;
    for (;;) {
        auto n = co_await c->first.read(std::span<std::byte>(buf));
        if (!n || *n == 0) break;
        total += *n;
    }
    std::string reply = "got " + std::to_string(total) + " bytes";
    (co_await c->first.write_all(reply)).value();
    c->first.shutdown().value();
}

corio::task<std::string> bidi_main() {
    auto up = tcp_listener::bind(socket_addr::ipv4_loopback(0)).value();
    auto front = tcp_listener::bind(socket_addr::ipv4_loopback(0)).value();
    auto srv = corio::spawn(upstream_server(&up));
    auto px = corio::spawn(proxy(&front, up.local_addr().value()));
    auto s = (co_await tcp_stream::connect(front.local_addr().value())).value();
    const auto data = pattern(13, 200000);
    (co_await s.write_all(data)).value();
    s.shutdown().value();  // half-close: the upstream sees EOF through the proxy, then replies
    std::string reply;
    std::array<char, 256> buf{};
    for (;;) {
        auto n = co_await s.read(buf);
        if (!n || *n == 0) break;
        reply.append(buf.data(), *n);
    }
    co_await srv;
    auto counts = (co_await px).value();
    co_return reply + " | " + std::to_string(counts.first) + "/" + std::to_string(counts.second);
}

TEST(copy, copy_bidirectional_proxies_both_ways_and_forwards_half_close) {
    corio::runtime rt(corio::testing::two_workers());
    EXPECT_EQ(rt.block_on(bidi_main()), "got 200000 bytes | 200000/16");
}

}  // namespace
