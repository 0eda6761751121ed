// The seam's functions (corio/runtime/detail/io_source.hpp): adoption fixes the source's mode;
// every operation then goes to that mode's implementation.
#include "io_source.hpp"

#include "reactor.hpp"
#include "readiness_source.hpp"
#include "ring_source.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <climits>

namespace corio::detail::io {

io_source* source_adopt(int fd) {
    // net() first: the backend probe runs only when the ring model was asked for.
    if (net() == net_model::ring && backend() == backend_kind::io_uring) return new ring_source(fd);
    return new readiness_source(fd);
}
void source_retain(io_source* s) noexcept { s->refs_.fetch_add(1, std::memory_order_relaxed); }
void source_release(io_source* s) noexcept {
    if (s->refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete s;
}
int source_fd(const io_source* s) noexcept { return s->fd_; }

io_poll poll_read(io_source* s, context& cx, std::byte* buf, std::size_t len) noexcept {
    if (len == 0) return ready_value(0);
    if (!cx.poll_budget()) return pending;
    return s->read(cx, buf, len);
}

io_poll poll_write(io_source* s, context& cx, const ::iovec* iov, std::size_t iovcnt, std::uint64_t& ticket) noexcept {
    if (!cx.poll_budget()) return pending;
    return s->write(cx, iov, iovcnt, ticket);
}

io_poll poll_accept(io_source* s, context& cx, ::sockaddr_storage* addr, ::socklen_t* addrlen) noexcept {
    if (!cx.poll_budget()) return pending;
    return s->accept(cx, addr, addrlen);
}

io_poll poll_connect(io_source* s, context& cx, const ::sockaddr* addr, ::socklen_t addrlen, bool& started) noexcept {
    return s->connect(cx, addr, addrlen, started);
}

io_poll poll_recv_from(io_source* s, context& cx, std::byte* buf, std::size_t len, ::sockaddr_storage* from,
                       ::socklen_t* fromlen) noexcept {
    if (!cx.poll_budget()) return pending;
    return s->recv_from(cx, buf, len, from, fromlen);
}

io_poll poll_send_to(io_source* s, context& cx, const std::byte* buf, std::size_t len, const ::sockaddr* to,
                     ::socklen_t tolen, std::uint64_t& ticket) noexcept {
    if (!cx.poll_budget()) return pending;
    return s->send_to(cx, buf, len, to, tolen, ticket);
}

void cancel_read(io_source* s) noexcept { s->cancel_read(); }
void cancel_write(io_source* s, std::uint64_t ticket) noexcept { s->cancel_write(ticket); }

// A single buffer (the common case) goes through send(): sendmsg costs a msghdr copy-in and an
// iovec import per call (~1 % of an HTTP server's CPU in a profile here).
::ssize_t send_iov(int fd, const ::iovec* iov, std::size_t iovcnt) noexcept {
    if (iovcnt == 1) return ::send(fd, iov[0].iov_base, iov[0].iov_len, MSG_DONTWAIT | MSG_NOSIGNAL);
    ::msghdr m{};
    m.msg_iov = const_cast<::iovec*>(iov);
    m.msg_iovlen = std::min<std::size_t>(iovcnt, IOV_MAX);
    return ::sendmsg(fd, &m, MSG_DONTWAIT | MSG_NOSIGNAL);
}

}  // namespace corio::detail::io
