#include "readiness_source.hpp"

#include "reactor.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <new>

namespace corio::detail::io {

readiness_source::~readiness_source() {
    if (scheduled_io* s = sio_.load(std::memory_order_acquire)) s->owner_->remove(fd_, s);
    if (fd_ >= 0) ::close(fd_);
}

scheduled_io* readiness_source::registration(reactor* r, int& err) noexcept {
    scheduled_io* cur = sio_.load(std::memory_order_acquire);
    if (cur) return cur;
    readiness_set* set = r->readiness();
    auto* fresh = new (std::nothrow) scheduled_io;
    if (!fresh) {
        err = ENOMEM;
        return nullptr;
    }
    fresh->owner_ = set;
    // Acq_rel: publishes owner_ to other sides; a loser adopts the winner's (not yet added: the
    // ADD reports current readiness as an edge, so the loser's registered waker still fires).
    if (!sio_.compare_exchange_strong(cur, fresh, std::memory_order_acq_rel, std::memory_order_acquire)) {
        delete fresh;
        return cur;
    }
    if (int e = set->add(fd_, fresh); e != 0) {
        err = e;  // stays installed (removal is harmless); the caller reports the error
        return nullptr;
    }
    return fresh;
}

// Runs `call` (a non-blocking syscall returning >= 0 or -1/errno) under edge-triggered
// readiness, counting system calls like Tokio does:
//   * If the side's last attempt got EAGAIN and no readiness edge was dispatched since
//     (side::idle_edges == the side's edge count), the socket is still empty/full: skip the
//     attempt, register the waker and wait (a request-response server then does one recv per
//     request instead of an EAGAIN recv and a good one).
//   * After an EAGAIN, register the waker, then retry only if an edge was dispatched since
//     before the attempt (or the descriptor was just added: the ADD reports current readiness
//     to the owner's next wait, not to us). Otherwise the waker will see the next edge.
// No edge is lost: data that arrives after an EAGAIN always produces an edge, which either bumps
// the count before our registration is ordered (we retry, or skip nothing) or finds the waker
// (scheduled_io explains the ordering). At most two attempts per poll.
//   * `short_means_idle` (byte streams: recv/send with the requested length): a transfer shorter
//     than asked drained the receive queue / filled the send buffer, as Tokio assumes on Linux,
//     so the side is idle from then on too (datagrams and accept pass 0: a short one means
//     nothing).
//   * A poll that registered its waker and then completes (the retry succeeded, or failed for
//     good) takes the registration back: a ready poll leaves no waker in the set (the leaf
//     contract: a registration belongs to a pending poll only).
template <class F>
io_poll readiness_source::attempt(reactor* r, context& cx, bool write_side, F call,
                                  std::size_t short_means_idle) noexcept {
    side& sd = write_side ? wr_ : rd_;
    auto edges = [write_side](scheduled_io* sio) -> std::atomic<std::uint32_t>& {
        return write_side ? sio->write_edges_ : sio->read_edges_;
    };
    // Acquire: pairs with registration()'s publication of the scheduled_io.
    scheduled_io* known = sio_.load(std::memory_order_acquire);
    // Acquire: an edge counted here was dispatched before the attempt below looks at the socket.
    std::uint32_t seen = known ? edges(known).load(std::memory_order_acquire) : 0;
    // A closed side (EOF or error seen by the owner, flag published with the count) is never
    // skipped: a short read may have left the EOF behind.
    const bool closed = known && (write_side ? known->write_closed_ : known->read_closed_).load(std::memory_order_relaxed);
    bool try_now = !(known && sd.idle && sd.idle_edges == seen && !closed);
    int attempts = 0;
    atomic_waker* registered = nullptr;  // the slot this poll registered in, if it did
    for (;;) {
        if (try_now) {
            ++attempts;
            std::int64_t n;
            do {
                n = call();
            } while (n < 0 && errno == EINTR);
            if (n >= 0) {
                sd.idle = known && n > 0 && static_cast<std::size_t>(n) < short_means_idle;
                sd.idle_edges = seen;
                if (registered) drop_waker(*registered);
                return ready_value(n);
            }
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                sd.idle = false;
                if (registered) drop_waker(*registered);
                return ready_error(errno);
            }
            sd.idle = known != nullptr;  // meaningful only once the edges are counted
            sd.idle_edges = seen;
            if (attempts == 2) return pending;  // the waker was registered before this attempt
        }
        int err = 0;
        scheduled_io* sio = registration(r, err);
        if (!sio) return ready_error(err);
        registered = write_side ? &sio->writer_ : &sio->reader_;
        registered->register_by_ref(cx.waker());
        // Acquire: after the acq_rel registration (see scheduled_io).
        const std::uint32_t now = edges(sio).load(std::memory_order_acquire);
        if (known && now == seen) return pending;
        known = sio;  // a fresh registration retries once
        seen = now;
        try_now = true;
    }
}

io_poll readiness_source::read(context& cx, std::byte* buf, std::size_t len) noexcept {
    reactor* r = current_reactor();
    if (!r) return ready_error(no_runtime);
    return attempt(r, cx, false, [&] { return ::recv(fd_, buf, len, MSG_DONTWAIT); }, len);
}

io_poll readiness_source::write(context& cx, const ::iovec* iov, std::size_t iovcnt, std::uint64_t& ticket) noexcept {
    ticket = 0;  // nothing is ever in flight: no write outlives its poll
    std::size_t total = 0;
    for (std::size_t i = 0; i < iovcnt; ++i) total += iov[i].iov_len;
    if (total == 0) return ready_value(0);
    reactor* r = current_reactor();
    if (!r) return ready_error(no_runtime);
    return attempt(r, cx, true, [&] { return send_iov(fd_, iov, iovcnt); }, iovcnt <= IOV_MAX ? total : 0);
}

io_poll readiness_source::accept(context& cx, ::sockaddr_storage* addr, ::socklen_t* addrlen) noexcept {
    reactor* r = current_reactor();
    if (!r) return ready_error(no_runtime);
    return attempt(r, cx, false, [&] {
        return ::accept4(fd_, reinterpret_cast<::sockaddr*>(addr), addrlen, SOCK_NONBLOCK | SOCK_CLOEXEC);
    });
}

io_poll readiness_source::connect(context& cx, const ::sockaddr* addr, ::socklen_t addrlen, bool& started) noexcept {
    reactor* r = current_reactor();
    if (!r) return ready_error(no_runtime);
    if (!started) {
        started = true;
        if (::connect(fd_, addr, addrlen) == 0) return ready_value(0);
        if (errno != EINPROGRESS && errno != EINTR) return ready_error(errno);
    }
    int err = 0;
    scheduled_io* sio = registration(r, err);
    if (!sio) return ready_error(err);
    sio->writer_.register_by_ref(cx.waker());
    ::pollfd p{fd_, POLLOUT, 0};
    if (::poll(&p, 1, 0) <= 0 || p.revents == 0) return pending;
    drop_waker(sio->writer_);  // ready: the registration was this poll's (as attempt())
    int so_err = 0;
    ::socklen_t l = sizeof so_err;
    if (::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &so_err, &l) != 0) return ready_error(errno);
    return so_err == 0 ? ready_value(0) : ready_error(so_err);
}

io_poll readiness_source::recv_from(context& cx, std::byte* buf, std::size_t len, ::sockaddr_storage* from,
                                    ::socklen_t* fromlen) noexcept {
    reactor* r = current_reactor();
    if (!r) return ready_error(no_runtime);
    return attempt(r, cx, false, [&] {
        return ::recvfrom(fd_, buf, len, MSG_DONTWAIT, reinterpret_cast<::sockaddr*>(from), fromlen);
    });
}

io_poll readiness_source::send_to(context& cx, const std::byte* buf, std::size_t len, const ::sockaddr* to,
                                  ::socklen_t tolen, std::uint64_t& ticket) noexcept {
    ticket = 0;
    reactor* r = current_reactor();
    if (!r) return ready_error(no_runtime);
    return attempt(r, cx, true, [&] { return ::sendto(fd_, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL, to, tolen); });
}

// Acquire: pairs with registration()'s publication.
void readiness_source::cancel_read() noexcept {
    if (scheduled_io* sio = sio_.load(std::memory_order_acquire)) drop_waker(sio->reader_);
}

void readiness_source::cancel_write(std::uint64_t) noexcept {
    if (scheduled_io* sio = sio_.load(std::memory_order_acquire)) drop_waker(sio->writer_);
}

}  // namespace corio::detail::io
