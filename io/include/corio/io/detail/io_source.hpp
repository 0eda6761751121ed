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

// A leaf's pending operation on the side is cancelled (its cancel(), or its destructor): the
// side's waker registration is dropped (the in-flight cell's, or the readiness set's reader /
// writer), so no wake of the leaf is left anywhere; then an operation in flight in the kernel
// is asked to cancel (io_uring; nothing is in flight on the readiness path). Its late result
// stays with the side and goes to the next operation there: a read's bytes to the next read,
// a connection to the next accept, a datagram to the next receive.
void cancel_read(io_source* s) noexcept;
// The same for the write side. `ticket` (nonzero: the leaf's write is in flight) is cancelled
// in the kernel. The leaf may keep its ticket: polled again with it, it first collects that
// write's outcome (bytes the kernel sent before the cancel are reported, never sent twice; a
// write the cancel stopped before it sent anything is sent afresh). Ticket 0 (connect, or a
// write waiting out an older one) only drops the registration.
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
