// io_source: the reactor-side state of one descriptor, behind the seam's opaque handle
// (corio/runtime/detail/io_source.hpp). One backend per source: the mode is fixed when the
// descriptor is adopted (source_adopt, io_source.cpp), from the process-wide choice in reactor.hpp:
//   readiness_source (readiness_source.hpp): the descriptor waits in the runtime's shared
//     readiness set and the task makes the non-blocking system call itself (the epoll backend,
//     and io_uring's default net_model::readiness).
//   ring_source (ring_source.hpp): every operation is an SQE on the ring of the worker that
//     polls it (io_uring with CORIO_IO_NET=ring).
// Reference counted: a stream and both of its split halves share one. Relaxed increment (a
// reference is only made from a live one), acq_rel decrement (the thread that destroys sees both
// sides' writes). The derived destructor closes the descriptor.
//
// Each side (read: read/accept/recv_from; write: write/connect/send_to) is used by one task at a
// time. The seam's functions check what both modes share (an empty transfer, the coop budget)
// before they call the source.
#pragma once

#include <corio/runtime/detail/atomic_waker.hpp>
#include <corio/runtime/detail/io_source.hpp>
#include <corio/runtime/waker.hpp>

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace corio::detail::io {

class io_source {
public:
    io_source(const io_source&) = delete;
    io_source& operator=(const io_source&) = delete;
    virtual ~io_source() = default;

    // The operations of the seam (corio/runtime/detail/io_source.hpp has their contracts).
    virtual io_poll read(context& cx, std::byte* buf, std::size_t len) noexcept = 0;
    virtual io_poll write(context& cx, const ::iovec* iov, std::size_t iovcnt, std::uint64_t& ticket) noexcept = 0;
    virtual io_poll accept(context& cx, ::sockaddr_storage* addr, ::socklen_t* addrlen) noexcept = 0;
    virtual io_poll connect(context& cx, const ::sockaddr* addr, ::socklen_t addrlen, bool& started) noexcept = 0;
    virtual io_poll recv_from(context& cx, std::byte* buf, std::size_t len, ::sockaddr_storage* from,
                              ::socklen_t* fromlen) noexcept = 0;
    virtual io_poll send_to(context& cx, const std::byte* buf, std::size_t len, const ::sockaddr* to,
                            ::socklen_t tolen, std::uint64_t& ticket) noexcept = 0;
    virtual void cancel_read() noexcept = 0;
    virtual void cancel_write(std::uint64_t ticket) noexcept = 0;

    std::atomic<std::uint32_t> refs_{1};
    const int fd_;

protected:
    explicit io_source(int fd) noexcept : fd_(fd) {}
};

// --- shared by both modes' operations ---------------------------------------------------------

inline constexpr io_poll pending{};
inline io_poll ready_value(std::int64_t v) noexcept { return {true, v, 0}; }
inline io_poll ready_error(int err) noexcept { return {true, 0, err}; }
inline constexpr int no_runtime = -1;  // io_poll::err: not polled on a runtime worker

// Drops a registration (the leaf behind it was cancelled): its waker is not woken.
inline void drop_waker(atomic_waker& w) noexcept { static_cast<void>(w.take_waker()); }

// One non-blocking send of the caller's buffers (io_source.cpp).
::ssize_t send_iov(int fd, const ::iovec* iov, std::size_t iovcnt) noexcept;

}  // namespace corio::detail::io
