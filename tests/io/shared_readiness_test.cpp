// shared_readiness_test: sockets wait in the runtime's one readiness set, which any free worker
// dispatches (the default under both backends), so a socket's readiness never waits for the
// worker that registered it. (With io_uring and CORIO_IO_NET=ring, socket operations go to the
// ring of the worker that submits them, which then holds their completions: skipped.)
#include "io/io_test_util.hpp"

#include <corio/fs/file.hpp>
#include <corio/net/unix_stream.hpp>
#include <corio/runtime/time.hpp>
#include <corio/runtime/join_handle.hpp>
#include <corio/runtime/runtime.hpp>

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
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


// --- a worker with ring operations in flight still watches the set ------------------------------

corio::task<std::size_t> read_fifo(corio::fs::file* f) {
    std::array<std::byte, 8> b{};
    auto n = co_await f->read(b);
    co_return n ? *n : 0;
}

struct ring_and_set_flags {
    std::atomic<bool> reading{false};      // the socket read is about to be awaited
    std::atomic<bool> socket_done{false};  // it completed
};

// One worker, so nobody else could dispatch the socket: its ring has a file read in flight (a
// FIFO with no data waits in the kernel), so it parks in its ring, not in the set; holding the
// set, it must watch it from there. The FIFO gets its bytes only after the socket read is done
// (or after the writer gives up, which fails the test), so the file read cannot wake it instead.
corio::task<std::string> ring_and_set(corio::fs::file* f, corio::net::unix_stream* s, ring_and_set_flags* fl) {
    auto file_read = corio::spawn(read_fifo(f));
    co_await corio::yield_now();  // the file read is submitted (in flight) before we park
    std::array<char, 16> buf{};
    fl->reading.store(true);
    auto n = co_await s->read(buf);
    fl->socket_done.store(true);
    if (!n || *n == 0) co_return "read failed";
    const std::size_t fifo_bytes = (co_await file_read).value();
    if (fifo_bytes != 4) co_return "file read: " + std::to_string(fifo_bytes);
    co_return std::string(buf.data(), *n);
}

corio::task<std::string> open_then_serve(std::string path, corio::net::unix_stream* s, ring_and_set_flags* fl) {
    corio::fs::open_options o;
    o.read = true;
    o.write = true;  // O_RDWR on a FIFO: open does not wait for a peer
    auto f = co_await corio::fs::file::open(path, o);
    if (!f) co_return "open: " + f.error().message();
    co_return co_await ring_and_set(&*f, s, fl);
}

TEST(io_shared_readiness, a_worker_waiting_in_its_ring_still_dispatches_the_set) {
    const std::string fifo = "/tmp/corio-ring-and-set-" + std::to_string(::getpid());
    ::unlink(fifo.c_str());
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    corio::runtime_options o;
    o.worker_threads = 1;
    corio::runtime rt(o);
    auto p = corio::net::unix_stream::pair().value();
    ring_and_set_flags fl;
    bool gave_up = false;
    std::thread writer([&] {
        while (!fl.reading.load()) std::this_thread::sleep_for(1ms);
        std::this_thread::sleep_for(50ms);  // the worker is parked by now (not required to pass)
        const std::string_view msg = "ping";
        ASSERT_EQ(::write(p.second.native_handle(), msg.data(), msg.size()), 4);
        const auto give_up = std::chrono::steady_clock::now() + 10s;  // hang bound only
        while (!fl.socket_done.load()) {
            if (std::chrono::steady_clock::now() > give_up) {
                gave_up = true;
                break;
            }
            std::this_thread::sleep_for(1ms);
        }
        const int w = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        ASSERT_GE(w, 0);
        ASSERT_EQ(::write(w, "fifo", 4), 4);
        ::close(w);
    });
    const std::string got = rt.block_on(open_then_serve(fifo, &p.first, &fl));
    writer.join();
    ::unlink(fifo.c_str());
    EXPECT_EQ(got, "ping");
    EXPECT_FALSE(gave_up) << "the socket was not dispatched while the worker waited in its ring";
}

}  // namespace
