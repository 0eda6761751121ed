// readiness_source: a descriptor that waits in the runtime's shared readiness set
// (readiness_set.hpp); the task makes the non-blocking system call itself. Nothing is ever in
// flight in the kernel, so cancel_read / cancel_write only take the side's waker out of the
// set's reader_ / writer_, and never lose bytes.
//
// sio_:      the registration, created by the first poll that needs to wait (CAS: both sides
//            may race to create it) in the set of the runtime it is polled on (owner_).
// idle:      per side: the side's last attempt got EAGAIN when it had seen idle_edges readiness
//            edges (readiness_source.cpp, attempt()): until the next edge, the socket is known
//            empty (read) / full (write), and a poll skips the system call.
// Threading: a side is touched only by the task using it (one at a time); the edge counts are
//   the hand-off with the dispatching thread (scheduled_io has the ordering).
#pragma once

#include "io_source.hpp"
#include "readiness_set.hpp"

#include <atomic>
#include <cstdint>

namespace corio::detail::io {

class reactor;

class readiness_source final : public io_source {
public:
    explicit readiness_source(int fd) noexcept : io_source(fd) {}
    ~readiness_source() override;

    io_poll read(context& cx, std::byte* buf, std::size_t len) noexcept override;
    io_poll write(context& cx, const ::iovec* iov, std::size_t iovcnt, std::uint64_t& ticket) noexcept override;
    io_poll accept(context& cx, ::sockaddr_storage* addr, ::socklen_t* addrlen) noexcept override;
    io_poll connect(context& cx, const ::sockaddr* addr, ::socklen_t addrlen, bool& started) noexcept override;
    io_poll recv_from(context& cx, std::byte* buf, std::size_t len, ::sockaddr_storage* from,
                      ::socklen_t* fromlen) noexcept override;
    io_poll send_to(context& cx, const std::byte* buf, std::size_t len, const ::sockaddr* to, ::socklen_t tolen,
                    std::uint64_t& ticket) noexcept override;
    void cancel_read() noexcept override;
    void cancel_write(std::uint64_t ticket) noexcept override;

private:
    struct side {
        bool idle = false;
        std::uint32_t idle_edges = 0;
    };

    // The registration in r's readiness set, created on first use; null with err set on failure.
    scheduled_io* registration(reactor* r, int& err) noexcept;
    // One operation under edge-triggered readiness (readiness_source.cpp has the rules).
    template <class F>
    io_poll attempt(reactor* r, context& cx, bool write_side, F call, std::size_t short_means_idle = 0) noexcept;

    side rd_;
    side wr_;
    // Set once (CAS) by the first poll that waits; owner_ is the runtime's readiness set.
    std::atomic<scheduled_io*> sio_{nullptr};
};

}  // namespace corio::detail::io
