// corio/io/detail/io_source.hpp — the reactor seam used by the io types (not a public API).
//
// An io_source is the reactor-side state of one descriptor: the descriptor itself, the read
// side's carry-over bytes and in-flight operation (io_uring), the write side's in-flight
// operation, and the epoll registration. It is reference counted: a stream and both of its split
// halves share it; it closes the descriptor (after cancelling in-flight operations) when the last
// reference goes. Its functions are defined in corio_runtime (io/src/reactor/io_source.cpp),
// which knows the backends; the io types only see this opaque interface.
//
// Each side (read: read/accept/recv; write: write/connect/send) is used by one task at a time.
#pragma once

#include <corio/runtime/waker.hpp>

#include <sys/socket.h>
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <utility>

namespace corio::detail::io {

class io_source;

// The outcome of one poll: pending (ready == false, the waker is registered), or ready with a
// value (bytes transferred, or an accepted descriptor) or an error (err > 0: an errno;
// err == -1: not polled on a runtime worker).
struct io_poll {
    bool ready = false;
    std::int64_t value = 0;
    int err = 0;
};

io_source* source_adopt(int fd);  // takes ownership of fd
void source_retain(io_source* s) noexcept;
void source_release(io_source* s) noexcept;
int source_fd(const io_source* s) noexcept;

io_poll poll_read(io_source* s, context& cx, std::byte* buf, std::size_t len) noexcept;
// `ticket` identifies the caller's write while it is in flight (0 before the first poll).
io_poll poll_write(io_source* s, context& cx, const ::iovec* iov, std::size_t iovcnt, std::uint64_t& ticket) noexcept;
io_poll poll_accept(io_source* s, context& cx, ::sockaddr_storage* addr, ::socklen_t* addrlen) noexcept;
// `started`: connect() was issued (epoll); false before the first poll.
io_poll poll_connect(io_source* s, context& cx, const ::sockaddr* addr, ::socklen_t addrlen, bool& started) noexcept;
// Datagrams (read side / write side): one message per call.
io_poll poll_recv_from(io_source* s, context& cx, std::byte* buf, std::size_t len, ::sockaddr_storage* from,
                       ::socklen_t* fromlen) noexcept;
io_poll poll_send_to(io_source* s, context& cx, const std::byte* buf, std::size_t len, const ::sockaddr* to,
                     ::socklen_t tolen, std::uint64_t& ticket) noexcept;

// An awaiter was destroyed while its operation was pending: cancel the in-flight kernel
// operation (io_uring; a no-op on epoll). A read's late bytes stay for the next read.
void cancel_read(io_source* s) noexcept;
void cancel_write(io_source* s, std::uint64_t ticket) noexcept;

// An owning reference (intrusive).
class source_ptr {
public:
    source_ptr() noexcept = default;
    explicit source_ptr(io_source* s) noexcept : s_(s) {}  // adopts a reference
    source_ptr(const source_ptr& o) noexcept : s_(o.s_) {
        if (s_) source_retain(s_);
    }
    source_ptr(source_ptr&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
    source_ptr& operator=(source_ptr o) noexcept {
        std::swap(s_, o.s_);
        return *this;
    }
    ~source_ptr() { reset(); }
    void reset() noexcept {
        if (auto* s = std::exchange(s_, nullptr)) source_release(s);
    }
    io_source* get() const noexcept { return s_; }
    explicit operator bool() const noexcept { return s_ != nullptr; }
    int fd() const noexcept { return s_ ? source_fd(s_) : -1; }

private:
    io_source* s_ = nullptr;
};

}  // namespace corio::detail::io
