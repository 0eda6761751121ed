// unix_test: Unix domain sockets — listener/connect round trips, EOF, split halves, a cancelled
// read whose bytes are kept, the socket file's lifetime (removed by its creator only), abstract
// names, errors; and resolve() for names and numbers.
#include "io/io_test_util.hpp"

#include <corio/net/resolve.hpp>
#include <corio/net/unix_listener.hpp>
#include <corio/net/unix_stream.hpp>
#include <corio/runtime/join_handle.hpp>
#include <corio/runtime/runtime.hpp>
#include <corio/runtime/time.hpp>

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using corio::net::unix_listener;
using corio::net::unix_stream;
using corio::testing::bytes_of;

namespace {

std::string temp_socket_path(const char* tag) {
    static std::atomic<int> seq{0};
    return "/tmp/corio-" + std::string(tag) + "-" + std::to_string(::getpid()) + "-" + std::to_string(seq++) + ".sock";
}

bool exists(const std::string& p) {
    struct ::stat st {};
    return ::lstat(p.c_str(), &st) == 0;
}

corio::task<std::size_t> echo_once(unix_listener* l) {
    auto c = co_await l->accept();
    if (!c) co_return 0;
    std::array<std::byte, 1000> buf;
    std::size_t total = 0;
    for (;;) {
        auto n = co_await c->first.read(buf);
        if (!n || *n == 0) break;
        (co_await c->first.write_all(std::span<const std::byte>(buf.data(), *n))).value();
        total += *n;
    }
    c->first.shutdown().value();
    co_return total;
}

// --- round trip and EOF -------------------------------------------------------------------------

corio::task<std::string> round_trip_main(std::string path) {
    auto l = unix_listener::bind(path);
    if (!l) co_return "bind: " + l.error().message();
    if (l->local_path().value() != path) co_return "local_path " + l->local_path().value();
    auto server = corio::spawn(echo_once(&*l));
    auto s = co_await unix_stream::connect(path);
    if (!s) co_return "connect: " + s.error().message();
    const auto data = corio::testing::pattern(3, 50000);
    auto [rd, wr] = std::move(*s).into_split();
    auto writer = corio::spawn([](corio::net::unix_write_half w, const std::vector<std::byte>* d) -> corio::task<void> {
        (co_await w.write_all(*d)).value();
        w.shutdown().value();
    }(std::move(wr), &data));
    std::vector<std::byte> got(data.size());
    auto r = co_await rd.read_exact(got);
    if (!r) co_return "read_exact: " + r.error().message();
    std::array<std::byte, 8> tail;
    auto eof = co_await rd.read(tail);
    if (!eof || *eof != 0) co_return "expected EOF";
    co_await writer;
    const std::size_t echoed = (co_await server).value();
    if (echoed != data.size()) co_return "echoed " + std::to_string(echoed);
    co_return got == data ? "ok" : "mismatch";
}

TEST(unix_socket, round_trip_through_a_listener_with_split_halves_and_eof) {
    corio::runtime rt(corio::testing::two_workers());
    const std::string path = temp_socket_path("rt");
    EXPECT_EQ(rt.block_on(round_trip_main(path)), "ok");
    EXPECT_FALSE(exists(path)) << "the listener removes the socket file it created";
}

TEST(unix_socket, abstract_names_work_and_leave_no_file) {
    corio::runtime rt(corio::testing::two_workers());
    const std::string name = "@corio-abstract-" + std::to_string(::getpid());
    EXPECT_EQ(rt.block_on(round_trip_main(name)), "ok");
}

corio::task<std::string> pair_main() {
    auto p = unix_stream::pair();
    if (!p) co_return p.error().message();
    (co_await p->first.write_all(bytes_of("ping"))).value();
    std::array<char, 4> got{};
    (co_await p->second.read_exact(got)).value();
    p->first.shutdown().value();
    std::array<char, 4> more{};
    auto eof = co_await p->second.read(more);
    co_return std::string(got.data(), 4) + (eof && *eof == 0 ? "+eof" : "+noeof");
}

TEST(unix_socket, pair_is_connected_and_shutdown_gives_eof) {
    corio::runtime rt(corio::testing::two_workers());
    EXPECT_EQ(rt.block_on(pair_main()), "ping+eof");
}

// --- cancellation -------------------------------------------------------------------------------

corio::task<std::string> cancel_main() {
    auto p = unix_stream::pair().value();
    auto buf = std::make_shared<std::vector<std::byte>>(32, std::byte{0xAA});
    std::span<std::byte> span(*buf);
    auto r = co_await corio::timeout(30ms, p.first.read(span));
    if (r) co_return "the read should have timed out";
    (co_await p.second.write_all(bytes_of("kept-bytes"))).value();
    co_await corio::sleep(20ms);
    if (std::any_of(buf->begin(), buf->end(), [](std::byte b) { return b != std::byte{0xAA}; }))
        co_return "the cancelled read wrote into the caller's buffer";
    std::array<char, 10> got{};
    auto n = co_await p.first.read_exact(got);
    if (!n) co_return n.error().message();
    co_return std::string(got.data(), got.size());
}

TEST(unix_socket, a_cancelled_read_loses_no_bytes_and_never_writes_the_old_buffer) {
    corio::runtime rt(corio::testing::two_workers());
    EXPECT_EQ(rt.block_on(cancel_main()), "kept-bytes");
}

corio::task<std::string> abort_main() {
    auto p = unix_stream::pair().value();
    auto h = corio::spawn([](unix_stream* s) -> corio::task<std::size_t> {
        std::array<std::byte, 16> b;
        auto n = co_await s->read(b);
        co_return n ? *n : 0;
    }(&p.first));
    co_await corio::sleep(20ms);
    h.abort();
    auto j = co_await h;
    if (j) co_return "the task should have been cancelled";
    (co_await p.second.write_all(bytes_of("after-abort"))).value();
    std::array<char, 11> got{};
    (co_await p.first.read_exact(got)).value();
    co_return std::string(got.data(), got.size());
}

TEST(unix_socket, a_read_in_an_aborted_task_is_cancelled_and_the_stream_reads_on) {
    corio::runtime rt(corio::testing::two_workers());
    EXPECT_EQ(rt.block_on(abort_main()), "after-abort");
}

// --- socket file ----------------------------------------------------------------------------------

TEST(unix_socket, bind_never_removes_an_existing_file_and_reports_address_in_use) {
    corio::runtime rt(corio::testing::two_workers());
    const std::string path = temp_socket_path("busy");
    auto outcome = rt.block_on([](std::string p) -> corio::task<std::string> {
        auto first = unix_listener::bind(p);
        if (!first) co_return "first bind: " + first.error().message();
        auto second = unix_listener::bind(p);
        if (second) co_return "second bind should fail";
        if (second.error() != std::errc::address_in_use) co_return second.error().message();
        // The failed bind did not remove the first listener's file: connecting still works.
        if (!exists(p)) co_return "the file vanished";
        auto c = co_await unix_stream::connect(p);
        if (!c) co_return "connect: " + c.error().message();
        auto a = co_await first->accept();
        co_return a ? "ok" : a.error().message();
    }(path));
    EXPECT_EQ(outcome, "ok");
    EXPECT_FALSE(exists(path));
}

TEST(unix_socket, a_replaced_socket_file_is_left_alone) {
    corio::runtime rt(corio::testing::two_workers());
    const std::string path = temp_socket_path("repl");
    auto outcome = rt.block_on([](std::string p) -> corio::task<std::string> {
        auto l = unix_listener::bind(p);
        if (!l) co_return l.error().message();
        ::unlink(p.c_str());
        auto other = unix_listener::bind(p);  // someone else's socket now lives at the path
        if (!other) co_return other.error().message();
        { unix_listener gone = std::move(*l); }  // must not remove other's file
        if (!exists(p)) co_return "removed a file it did not create";
        co_return "ok";
    }(path));
    EXPECT_EQ(outcome, "ok");
    EXPECT_FALSE(exists(path));  // `other` removed its own
}

corio::task<std::string> connect_errors_main() {
    const std::string nowhere = "/tmp/corio-no-such-socket-" + std::to_string(::getpid());
    auto missing = co_await unix_stream::connect(nowhere);
    if (missing || missing.error() != std::errc::no_such_file_or_directory) co_return "missing path";
    const std::string long_path(200, 'x');
    auto too_long = co_await unix_stream::connect(long_path);
    if (too_long || too_long.error() != std::errc::filename_too_long) co_return "long path";
    co_return "ok";
}

TEST(unix_socket, connect_reports_missing_and_overlong_paths) {
    corio::runtime rt(corio::testing::two_workers());
    EXPECT_EQ(rt.block_on(connect_errors_main()), "ok");
}

// --- resolve --------------------------------------------------------------------------------------

corio::task<std::string> resolve_localhost_main() {
    auto r = co_await corio::net::resolve("localhost", 8080);
    if (!r) co_return "resolve: " + r.error().message();
    if (r->empty()) co_return "no addresses";
    for (const auto& a : *r) {
        if (a.port() != 8080) co_return "port " + std::to_string(a.port());
        if (a.ip_string() != "127.0.0.1" && a.ip_string() != "::1") co_return "unexpected " + a.to_string();
    }
    co_return "ok";
}

TEST(resolve, localhost_resolves_to_loopback_with_the_port) {
    corio::runtime rt(corio::testing::two_workers());
    EXPECT_EQ(rt.block_on(resolve_localhost_main()), "ok");
}

TEST(resolve, numeric_hosts_need_no_lookup) {
    corio::runtime rt(corio::testing::two_workers());
    auto r = rt.block_on(corio::net::resolve("::1", 53));
    ASSERT_TRUE(r) << r.error().message();
    ASSERT_EQ(r->size(), 1u);
    EXPECT_EQ((*r)[0].to_string(), "[::1]:53");
}

TEST(resolve, an_invalid_name_is_an_error) {
    corio::runtime rt(corio::testing::two_workers());
    // RFC 2606 reserves .invalid; a name with a bad label is rejected even offline.
    auto r = rt.block_on(corio::net::resolve("no-such-host.invalid", 80));
    ASSERT_FALSE(r);
    EXPECT_EQ(&r.error().category(), &corio::net::resolve_category()) << r.error().message();
}

}  // namespace
