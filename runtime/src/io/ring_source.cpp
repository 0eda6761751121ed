#include "ring_source.hpp"

#include "reactor.hpp"
#include "uring_driver.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <utility>

namespace corio::detail::io {

namespace {
constexpr std::size_t min_read = 4096;
constexpr std::size_t max_read = 64 * 1024;
constexpr std::size_t max_write = 256 * 1024;

// The ring of the worker polling (null off a runtime). Under this mode the backend is io_uring
// in the whole process, so a worker's reactor always has one.
uring_driver* current_ring() noexcept {
    reactor* r = current_reactor();
    return r ? r->ring() : nullptr;
}

// Waits for an in-flight op: true when done (registering the waker otherwise).
bool wait_done(uring_op* op, context& cx) noexcept {
    if (op->is_done()) return true;
    op->waker_.register_by_ref(cx.waker());
    return op->is_done();
}

// Submits `op` (filled by `prep` on its SQE) as `side`'s in-flight operation, the poll's waker
// registered in it. EBUSY if no SQE could be had.
template <class Prep>
io_poll submit(uring_driver& ring, ring_side& side, uring_op* op, context& cx, Prep prep) noexcept {
    ::io_uring_sqe* sqe = ring.start(op);
    if (!sqe) {
        op->release();
        return ready_error(EBUSY);
    }
    prep(sqe);
    side.inflight = op;
    op->waker_.register_by_ref(cx.waker());
    return pending;
}
}  // namespace

// --- ring_side --------------------------------------------------------------------------------

void ring_side::recycle(uring_op* op) noexcept {
    if (!spare && op->reusable()) {
        op->reset_for_reuse();
        spare = op;
    } else {
        op->release();
    }
}

uring_op* ring_side::take(uring_op::kind k) {
    if (spare && spare->kind_ == k) return std::exchange(spare, nullptr);
    return new uring_op(k);
}

void ring_side::teardown() noexcept {
    if (inflight) {
        if (inflight->ring_) inflight->ring_->cancel(inflight);
        inflight->release();
    }
    if (carry) carry->release();
    if (spare) spare->release();
    inflight = carry = spare = nullptr;
}

// --- ring_source ------------------------------------------------------------------------------

ring_source::~ring_source() {
    // An SQE names the descriptor by number, and the kernel resolves it only when the ring
    // submits it (at the owning worker's next park or tick), which may be after this runs.
    // Closed now, the number could go to a new socket before then and the stale recv/send
    // would act on that one (a stress test saw proxies read a spurious EOF and lose bytes).
    // So while an op is in flight its cell keeps the descriptor open; the last of them
    // closes it, after its CQE (teardown has asked the kernel to cancel them).
    bool deferred = false;
    if (fd_ >= 0 && (rd_.inflight || wr_.inflight)) {
        try {
            const int fd = fd_;
            std::shared_ptr<void> closer(nullptr, [fd](void*) { ::close(fd); });
            if (rd_.inflight) rd_.inflight->keep_ = closer;
            if (wr_.inflight) wr_.inflight->keep_ = closer;
            deferred = true;
        } catch (...) {
            // No memory for the control block: close now (the old, racy behaviour).
        }
    }
    rd_.teardown();
    wr_.teardown();
    if (fd_ >= 0 && !deferred) ::close(fd_);
}

// --- read -------------------------------------------------------------------------------------

io_poll ring_source::read(context& cx, std::byte* buf, std::size_t len) noexcept {
    for (;;) {
        if (rd_.carry_len) {
            const std::size_t n = std::min(len, rd_.carry_len);
            std::memcpy(buf, rd_.carry->buf_.get() + rd_.carry_off, n);
            rd_.carry_off += n;
            rd_.carry_len -= n;
            if (rd_.carry_len == 0) rd_.recycle(std::exchange(rd_.carry, nullptr));
            return ready_value(static_cast<std::int64_t>(n));
        }
        if (uring_op* op = rd_.inflight) {
            if (!wait_done(op, cx)) return pending;
            rd_.inflight = nullptr;
            const int res = op->res_;
            if (res > 0) {
                rd_.carry = op;
                rd_.carry_off = 0;
                rd_.carry_len = static_cast<std::size_t>(res);
                continue;
            }
            rd_.recycle(op);
            if (res == 0) return ready_value(0);  // EOF
            if (res == -ECANCELED || res == -EINTR) continue;  // a cancelled read that got nothing
            return ready_error(-res);
        }
        uring_driver* ring = current_ring();
        if (!ring) return ready_error(no_runtime);
        uring_op* op = rd_.take(uring_op::kind::recv);
        op->ensure_capacity(std::clamp(len, min_read, max_read));
        return submit(*ring, rd_, op, cx, [&](::io_uring_sqe* sqe) {
            ::io_uring_prep_recv(sqe, fd_, op->buf_.get(), std::clamp(len, min_read, op->cap_), 0);
        });
    }
}

void ring_source::cancel_read() noexcept {
    if (uring_op* op = rd_.inflight) {
        drop_waker(op->waker_);  // before the cancel: its CQE must find no waker
        if (op->ring_) op->ring_->cancel(op);
    }
}

// --- write ------------------------------------------------------------------------------------

bool ring_source::settle_write(context& cx, std::uint64_t& ticket, io_poll& mine) noexcept {
    while (uring_op* op = wr_.inflight) {
        if (!wait_done(op, cx)) return false;
        wr_.inflight = nullptr;
        const std::uint64_t owner = std::exchange(wr_.inflight_ticket, 0);
        const int res = op->res_;
        // Set by cancel_write, which runs on the task that owns the side (as this does).
        const bool asked = op->cancel_.load(std::memory_order_relaxed);
        wr_.recycle(op);
        if (ticket != 0 && owner == ticket) {
            ticket = 0;
            // Our own write, stopped by its leaf's cancel() before it sent anything: the leaf
            // polls again, so it is sent afresh below, as if never polled.
            if (res == -ECANCELED && asked) continue;
            mine = res >= 0 ? ready_value(res) : ready_error(-res);
            return true;
        }
        // An abandoned write's result: its caller is gone (writes are not cancel safe).
    }
    return true;
}

io_poll ring_source::write(context& cx, const ::iovec* iov, std::size_t iovcnt, std::uint64_t& ticket) noexcept {
    io_poll mine;
    if (!settle_write(cx, ticket, mine)) return pending;
    if (mine.ready) return mine;
    ticket = 0;
    std::size_t total = 0;
    for (std::size_t i = 0; i < iovcnt; ++i) total += iov[i].iov_len;
    if (total == 0) return ready_value(0);
    uring_driver* ring = current_ring();
    if (!ring) return ready_error(no_runtime);
    // Fast path: the side is free (nothing in flight, so order is kept), so try the send now,
    // non-blocking, from the caller's memory (valid during this poll). A socket almost always
    // has room: the write completes in this poll, with no SQE, no copy into a cell, no suspension
    // and no wait for the ring's next submit (SQEs go in at the worker's park or tick, which
    // would delay a request-response write by a whole scheduling round). Only when the socket
    // buffer is full (EAGAIN) does the write go through the ring.
    {
        ::ssize_t sent;
        do {
            sent = send_iov(fd_, iov, iovcnt);
        } while (sent < 0 && errno == EINTR);
        if (sent >= 0) return ready_value(sent);
        // ENOTSOCK: not a socket (a pipe): the ring's send path reports what applies.
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOTSOCK) return ready_error(errno);
    }
    const std::size_t n = std::min(total, max_write);
    uring_op* op = wr_.take(uring_op::kind::send);
    op->ensure_capacity(n);
    std::size_t copied = 0;
    for (std::size_t i = 0; i < iovcnt && copied < n; ++i) {
        const std::size_t c = std::min(iov[i].iov_len, n - copied);
        std::memcpy(op->buf_.get() + copied, iov[i].iov_base, c);
        copied += c;
    }
    const io_poll p = submit(*ring, wr_, op, cx, [&](::io_uring_sqe* sqe) {
        ::io_uring_prep_send(sqe, fd_, op->buf_.get(), n, MSG_NOSIGNAL);
    });
    if (!p.ready) ticket = wr_.inflight_ticket = ++wr_.next_ticket;
    return p;
}

void ring_source::cancel_write(std::uint64_t ticket) noexcept {
    if (uring_op* op = wr_.inflight) {
        drop_waker(op->waker_);
        // The ticket stays: a later poll of the same leaf collects the result; the next write of
        // another leaf (another ticket) drops it, as an abandoned write's.
        if (ticket != 0 && wr_.inflight_ticket == ticket && op->ring_) op->ring_->cancel(op);
    }
}

// --- accept -----------------------------------------------------------------------------------

io_poll ring_source::accept(context& cx, ::sockaddr_storage* addr, ::socklen_t* addrlen) noexcept {
    for (;;) {
        if (uring_op* op = rd_.inflight) {
            // Possibly an abandoned accept's: its connection goes to this caller, never leaks.
            if (!wait_done(op, cx)) return pending;
            rd_.inflight = nullptr;
            const int res = op->res_;
            if (res >= 0) {
                op->consumed_ = true;
                const ::socklen_t n = std::min<::socklen_t>(op->addrlen_, *addrlen);
                std::memcpy(addr, &op->addr_, n);
                *addrlen = op->addrlen_;
            }
            rd_.recycle(op);
            if (res >= 0) return ready_value(res);
            if (res == -ECANCELED || res == -EINTR) continue;
            return ready_error(-res);
        }
        uring_driver* ring = current_ring();
        if (!ring) return ready_error(no_runtime);
        uring_op* op = rd_.take(uring_op::kind::accept);
        op->addrlen_ = sizeof op->addr_;
        return submit(*ring, rd_, op, cx, [&](::io_uring_sqe* sqe) {
            ::io_uring_prep_accept(sqe, fd_, reinterpret_cast<::sockaddr*>(&op->addr_), &op->addrlen_,
                                   SOCK_NONBLOCK | SOCK_CLOEXEC);
        });
    }
}

// --- connect ----------------------------------------------------------------------------------

io_poll ring_source::connect(context& cx, const ::sockaddr* addr, ::socklen_t addrlen, bool& started) noexcept {
    if (uring_op* op = wr_.inflight) {
        if (!wait_done(op, cx)) return pending;
        wr_.inflight = nullptr;
        const int res = op->res_;
        wr_.recycle(op);
        return res >= 0 ? ready_value(0) : ready_error(-res);
    }
    uring_driver* ring = current_ring();
    if (!ring) return ready_error(no_runtime);
    if (started) return ready_error(ECANCELED);  // defensive: our op vanished
    uring_op* op = wr_.take(uring_op::kind::connect);
    std::memcpy(&op->addr_, addr, std::min<std::size_t>(addrlen, sizeof op->addr_));
    op->addrlen_ = addrlen;
    const io_poll p = submit(*ring, wr_, op, cx, [&](::io_uring_sqe* sqe) {
        ::io_uring_prep_connect(sqe, fd_, reinterpret_cast<::sockaddr*>(&op->addr_), op->addrlen_);
    });
    if (!p.ready) started = true;
    return p;
}

// --- datagrams --------------------------------------------------------------------------------

io_poll ring_source::recv_from(context& cx, std::byte* buf, std::size_t len, ::sockaddr_storage* from,
                               ::socklen_t* fromlen) noexcept {
    for (;;) {
        if (uring_op* op = rd_.inflight) {
            // A datagram a cancelled recv_from received is delivered to this one (truncated to
            // the caller's buffer, like recvfrom).
            if (!wait_done(op, cx)) return pending;
            rd_.inflight = nullptr;
            const int res = op->res_;
            if (res >= 0) {
                const std::size_t n = std::min<std::size_t>(static_cast<std::size_t>(res), len);
                std::memcpy(buf, op->buf_.get(), n);
                const ::socklen_t al = std::min<::socklen_t>(op->msg_.msg_namelen, *fromlen);
                std::memcpy(from, &op->addr_, al);
                *fromlen = op->msg_.msg_namelen;
                rd_.recycle(op);
                return ready_value(static_cast<std::int64_t>(n));
            }
            rd_.recycle(op);
            if (res == -ECANCELED || res == -EINTR) continue;
            return ready_error(-res);
        }
        uring_driver* ring = current_ring();
        if (!ring) return ready_error(no_runtime);
        uring_op* op = rd_.take(uring_op::kind::recvmsg);
        op->ensure_capacity(std::max<std::size_t>(len, 1));
        op->iov_ = {op->buf_.get(), len};
        op->msg_ = {};
        op->msg_.msg_name = &op->addr_;
        op->msg_.msg_namelen = sizeof op->addr_;
        op->msg_.msg_iov = &op->iov_;
        op->msg_.msg_iovlen = 1;
        return submit(*ring, rd_, op, cx, [&](::io_uring_sqe* sqe) { ::io_uring_prep_recvmsg(sqe, fd_, &op->msg_, 0); });
    }
}

io_poll ring_source::send_to(context& cx, const std::byte* buf, std::size_t len, const ::sockaddr* to,
                             ::socklen_t tolen, std::uint64_t& ticket) noexcept {
    io_poll mine;
    if (!settle_write(cx, ticket, mine)) return pending;
    if (mine.ready) return mine;
    ticket = 0;
    uring_driver* ring = current_ring();
    if (!ring) return ready_error(no_runtime);
    uring_op* op = wr_.take(uring_op::kind::sendmsg);
    op->ensure_capacity(std::max<std::size_t>(len, 1));
    std::memcpy(op->buf_.get(), buf, len);
    op->iov_ = {op->buf_.get(), len};
    op->msg_ = {};
    if (to) {
        std::memcpy(&op->addr_, to, std::min<std::size_t>(tolen, sizeof op->addr_));
        op->msg_.msg_name = &op->addr_;
        op->msg_.msg_namelen = tolen;
    }
    op->msg_.msg_iov = &op->iov_;
    op->msg_.msg_iovlen = 1;
    const io_poll p = submit(*ring, wr_, op, cx, [&](::io_uring_sqe* sqe) {
        ::io_uring_prep_sendmsg(sqe, fd_, &op->msg_, MSG_NOSIGNAL);
    });
    if (!p.ready) ticket = wr_.inflight_ticket = ++wr_.next_ticket;
    return p;
}

}  // namespace corio::detail::io
