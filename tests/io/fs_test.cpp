// fs_test: files on both backends — write then read back, read_at offsets and the cursor,
// append, a missing file, read_to_string of 1 MiB, sync_all and len, and a cancelled read_at
// that never writes into the caller's buffer.
#include "io/io_test_util.hpp"

#include <corio/fs/file.hpp>
#include <corio/runtime/join_handle.hpp>
#include <corio/runtime/runtime.hpp>
#include <corio/runtime/time.hpp>

#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using corio::fs::file;
using corio::fs::open_options;
using corio::testing::bytes_of;

namespace {

std::string temp_path(const char* tag) {
    static std::atomic<int> seq{0};
    return "/tmp/corio-fs-" + std::string(tag) + "-" + std::to_string(::getpid()) + "-" + std::to_string(seq++);
}

struct removed {
    std::string path;
    ~removed() { std::remove(path.c_str()); }
};

corio::task<std::string> round_trip_main(std::string path) {
    auto w = co_await corio::fs::write(path, std::string("hello, file"));
    if (!w) co_return "write: " + w.error().message();
    auto s = co_await corio::fs::read_to_string(path);
    if (!s) co_return "read: " + s.error().message();
    co_return *s;
}

TEST(fs, write_then_read_back) {
    corio::runtime rt(corio::testing::two_workers());
    removed r{temp_path("rt")};
    EXPECT_EQ(rt.block_on(round_trip_main(r.path)), "hello, file");
}

corio::task<std::string> offsets_main(std::string path) {
    open_options o;
    o.read = true;
    o.write = true;
    o.create = true;
    o.truncate = true;
    auto f = co_await file::open(path, o);
    if (!f) co_return "open: " + f.error().message();
    (co_await f->write_all("0123456789")).value();
    std::string out;
    std::array<char, 3> b{};
    auto n = co_await f->read_at(std::as_writable_bytes(std::span(b)), 4);
    out += std::string(b.data(), *n) + ",";
    n = co_await f->read_at(std::as_writable_bytes(std::span(b)), 8);  // short: 2 left
    out += std::string(b.data(), *n) + ",";
    n = co_await f->read_at(std::as_writable_bytes(std::span(b)), 10);  // at the end: 0
    out += std::to_string(*n) + ",";
    (co_await f->write_at(bytes_of("AB"), 2)).value();  // overwrite in place; cursor unaffected
    n = co_await f->read(b);  // the cursor is at 10 (after write_all): EOF
    out += std::to_string(*n) + ",";
    std::array<char, 16> all{};
    n = co_await f->read_at(std::as_writable_bytes(std::span(all)), 0);
    out += std::string(all.data(), *n) + ",";
    (co_await f->sync_all()).value();
    out += std::to_string(f->len().value());
    co_return out;
}

TEST(fs, read_at_and_write_at_use_offsets_not_the_cursor) {
    corio::runtime rt(corio::testing::two_workers());
    removed r{temp_path("off")};
    EXPECT_EQ(rt.block_on(offsets_main(r.path)), "456,89,0,0,01AB456789,10");
}

corio::task<std::string> append_main(std::string path) {
    (co_await corio::fs::write(path, std::string("first\n"))).value();
    open_options o;
    o.append = true;
    for (int i = 0; i < 3; ++i) {
        auto f = co_await file::open(path, o);
        if (!f) co_return "open: " + f.error().message();
        const std::string line = "line " + std::to_string(i) + "\n";
        (co_await f->write_all(line)).value();
    }
    auto s = co_await corio::fs::read_to_string(path);
    co_return s ? *s : s.error().message();
}

TEST(fs, append_writes_go_to_the_end) {
    corio::runtime rt(corio::testing::two_workers());
    removed r{temp_path("app")};
    EXPECT_EQ(rt.block_on(append_main(r.path)), "first\nline 0\nline 1\nline 2\n");
}

corio::task<std::string> missing_main() {
    const std::string nowhere = "/tmp/corio-fs-missing-" + std::to_string(::getpid()) + "/x";
    auto f = co_await file::open(nowhere);
    if (f) co_return "opened a missing file";
    if (f.error() != std::errc::no_such_file_or_directory) co_return f.error().message();
    auto s = co_await corio::fs::read_to_string(nowhere);
    if (s || s.error() != std::errc::no_such_file_or_directory) co_return "read_to_string";
    open_options o;
    o.write = true;
    o.create_new = true;
    const std::string here = "/tmp";
    auto dir = co_await file::open(here, o);  // exists: create_new fails
    if (dir || dir.error() != std::errc::file_exists) co_return "create_new on an existing path";
    co_return "ok";
}

TEST(fs, a_missing_file_is_no_such_file_or_directory) {
    corio::runtime rt(corio::testing::two_workers());
    EXPECT_EQ(rt.block_on(missing_main()), "ok");
}

corio::task<std::string> big_main(std::string path) {
    const auto data = corio::testing::pattern(21, 1024 * 1024 + 17);
    (co_await corio::fs::write(path, data)).value();
    auto s = co_await corio::fs::read_to_string(path);
    if (!s) co_return s.error().message();
    if (s->size() != data.size()) co_return "size " + std::to_string(s->size());
    if (!std::equal(data.begin(), data.end(), reinterpret_cast<const std::byte*>(s->data()))) co_return "content differs";
    co_return "ok";
}

TEST(fs, read_to_string_of_a_1_mib_file) {
    corio::runtime rt(corio::testing::two_workers());
    removed r{temp_path("big")};
    EXPECT_EQ(rt.block_on(big_main(r.path)), "ok");
}

// A read on a FIFO with no writer pending blocks in the kernel (or on a pool thread): the timeout
// cancels it; the caller's buffer is never written, even when the data arrives afterwards.
corio::task<std::string> cancel_main(std::string fifo) {
    open_options o;
    o.read = true;
    o.write = true;  // O_RDWR on a FIFO: open does not wait for a peer
    auto f = co_await file::open(fifo, o);
    if (!f) co_return "open: " + f.error().message();
    auto buf = std::make_shared<std::vector<std::byte>>(16, std::byte{0xAA});
    std::span<std::byte> span(*buf);
    auto r = co_await corio::timeout(30ms, f->read(span));
    if (r) co_return "the read should have timed out";
    (co_await f->write_all("late")).value();  // completes the abandoned read (on either backend)
    co_await corio::sleep(30ms);
    if (std::any_of(buf->begin(), buf->end(), [](std::byte b) { return b != std::byte{0xAA}; }))
        co_return "the cancelled read wrote into the caller's buffer";
    co_return "ok";
}

TEST(fs, a_cancelled_read_never_writes_the_callers_buffer) {
    corio::runtime rt(corio::testing::two_workers());
    removed r{temp_path("fifo")};
    ASSERT_EQ(::mkfifo(r.path.c_str(), 0600), 0);
    EXPECT_EQ(rt.block_on(cancel_main(r.path)), "ok");
}

}  // namespace
