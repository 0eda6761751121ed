// shared_readiness_test: sockets wait in the runtime's one readiness set, which any free worker
// dispatches (the default under both backends), so a socket's readiness never waits for the
// worker that registered it. (With io_uring and CORIO_IO_NET=ring, socket operations go to the
// ring of the worker that submits them, which then holds their completions: skipped.)
#include "io/io_test_util.hpp"

#include <corio/net/unix_stream.hpp>
#include <corio/runtime/join_handle.hpp>
#include <corio/runtime/runtime.hpp>

#include <gtest/gtest.h>

#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <string>
#include <string_view>
#include <thread>

using namespace std::chrono_literals;

namespace {

struct flags {
    std::atomic<bool> blocking{false};   // the blocker holds its worker
    std::atomic<bool> read_done{false};  // the read completed
    std::atomic<bool> nudged{false};     // the nudge task ran
};

// Holds its worker's thread (deliberately blocking) until the read is done; false if it gave up
// (the hang bound: the read was not dispatched while this worker was held).
corio::task<bool> blocker(flags* f) {
    f->blocking.store(true);
    const auto give_up = std::chrono::steady_clock::now() + 20s;
    while (!f->read_done.load()) {
        if (std::chrono::steady_clock::now() > give_up) co_return false;
        std::this_thread::sleep_for(1ms);
    }
    co_return true;
}

corio::task<void> nudge(flags* f) {
    f->nudged.store(true);
    co_return;
}

// The main task registers its stream (first poll of the read, on worker X), then the blocker
// holds one worker; the bytes must be dispatched by the other.
corio::task<std::string> main_task(corio::net::unix_stream* s, flags* f) {
    auto b = corio::spawn(blocker(f));
    std::array<char, 16> buf{};
    auto n = co_await s->read(buf);
    f->read_done.store(true);
    const bool held_meanwhile = (co_await b).value();
    if (!n || *n == 0) co_return "read failed";
    if (!held_meanwhile) co_return "the read was not dispatched while a worker was held";
    co_return std::string(buf.data(), *n);
}

TEST(io_shared_readiness, readiness_is_dispatched_while_the_registering_worker_is_blocked) {
    const char* backend = std::getenv("CORIO_IO_BACKEND");
    const char* net = std::getenv("CORIO_IO_NET");
    const bool ring = !(backend && std::string_view(backend) == "epoll") && net && std::string_view(net) == "ring";
    if (ring) GTEST_SKIP() << "io_uring with CORIO_IO_NET=ring: a ring belongs to its worker";
    corio::runtime rt(corio::testing::two_workers());
    auto p = corio::net::unix_stream::pair().value();
    flags f;
    std::thread writer([&] {
        while (!f.blocking.load()) std::this_thread::sleep_for(1ms);
        // Wake the free worker once, so that it parks again, in the set (a worker parked while
        // another held the set sleeps on its own eventfd until woken).
        auto h = rt.handle().spawn(nudge(&f));
        while (!f.nudged.load()) std::this_thread::sleep_for(1ms);
        const std::string_view msg = "ping";
        ASSERT_EQ(::write(p.second.native_handle(), msg.data(), msg.size()), 4);
    });
    EXPECT_EQ(rt.block_on(main_task(&p.first, &f)), "ping");
    writer.join();
}

}  // namespace
