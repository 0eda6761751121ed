// io_source: per-descriptor reactor state and the backend-specific halves of every io operation.
//
// io_uring (completion-based) sides:
//   inflight_  the operation this side waits for. It may have been started by an awaiter that
//              was destroyed since (cancel requested): the next operation on the side first
//              waits for its CQE, so results are consumed in submission order and never lost.
//   carry_     read side: a completed recv's buffer whose bytes were not all delivered yet
//              (the caller asked for fewer, or its awaiter was destroyed before it saw them).
//              Every read is served from here first. Reads therefore go through the cell's
//              own buffer and are copied out: the kernel never writes into caller memory.
//   ticket     write side: which awaiter owns inflight_'s result (unique per side; only the leaf
//              holding it ever asks for that result). A write whose awaiter was destroyed never
//              collects it: the next write waits it out and drops it. A cancelled write keeps its
//              ticket while its leaf lives: polled again, the leaf collects the result first (an
//              -ECANCELED one, nothing sent, is sent afresh); a write of another leaf in between
//              drops it, as an abandoned one's.
//              Writes copy the caller's bytes into the cell first (the kernel never reads caller
//              memory after the awaiter is gone).
//   waker      cancel_read / cancel_write take the side's registration out (the in-flight cell's
//              waker_, and the readiness set's reader_ / writer_), so a cancelled leaf holds no
//              wake anywhere. A side has one user at a time, so the registration taken is that
//              leaf's (or a stale one of its task's). A wake already under way when it is taken
//              still completes (a spurious poll of the task, never a lost one: the next
//              operation re-registers and re-checks done_ / the edge count).
// Threading: a side is touched only by the task using it (one at a time); the cell's done_ flag
//   is the hand-off with the ring's thread. The destructor runs after the last reference drops
//   (acq_rel refcount), so it sees both sides' final state.
#include "epoll_driver.hpp"
#include "reactor.hpp"
#include "uring_driver.hpp"

#include <corio/io/detail/io_source.hpp>

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <memory>

namespace corio::detail::io {

namespace {
constexpr std::size_t min_read = 4096;
constexpr std::size_t max_read = 64 * 1024;
constexpr std::size_t max_write = 256 * 1024;
}  // namespace

struct io_side {
    uring_op* inflight = nullptr;     // a reference
    std::uint64_t inflight_ticket = 0;
    std::uint64_t next_ticket = 0;
    uring_op* carry = nullptr;        // a reference (read side)
    std::size_t carry_off = 0;
    std::size_t carry_len = 0;
    uring_op* spare = nullptr;        // a consumed cell kept for reuse
    // epoll: the side's last attempt got EAGAIN when the side had seen idle_edges readiness
    // edges (readiness_op): until the next edge, the socket is known empty (read) / full (write).
    bool idle = false;
    std::uint32_t idle_edges = 0;

    void recycle(uring_op* op) noexcept {
        if (!spare && op->reusable()) {
            op->reset_for_reuse();
            spare = op;
        } else {
            op->release();
        }
    }
    uring_op* take(uring_op::kind k) {
        if (spare && spare->kind_ == k) return std::exchange(spare, nullptr);
        return new uring_op(k);
    }
    void teardown() noexcept {
        if (inflight) {
            if (inflight->ring_) inflight->ring_->cancel(inflight);
            inflight->release();
        }
        if (carry) carry->release();
        if (spare) spare->release();
        inflight = carry = spare = nullptr;
    }
};

class io_source {
public:
    explicit io_source(int fd) noexcept : fd_(fd) {}
    ~io_source() {
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
        if (scheduled_io* s = sio_.load(std::memory_order_acquire)) s->owner_->remove(fd_, s);
        if (fd_ >= 0 && !deferred) ::close(fd_);
    }

    // Relaxed increment: a reference is only made from a live one. Acq_rel decrement: the
    // thread that destroys sees both sides' writes.
    std::atomic<std::uint32_t> refs_{1};
    const int fd_;
    io_side rd_;
    io_side wr_;
    // epoll: set once (CAS) by the first poll; owner_ is the runtime's readiness set.
    std::atomic<scheduled_io*> sio_{nullptr};
};

io_source* source_adopt(int fd) { return new io_source(fd); }
void source_retain(io_source* s) noexcept { s->refs_.fetch_add(1, std::memory_order_relaxed); }
void source_release(io_source* s) noexcept {
    if (s->refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete s;
}
int source_fd(const io_source* s) noexcept { return s->fd_; }

namespace {

constexpr io_poll pending{};
io_poll ready_value(std::int64_t v) noexcept { return {true, v, 0}; }
io_poll ready_error(int err) noexcept { return {true, 0, err}; }
constexpr int no_runtime = -1;

// Drops a registration (the leaf behind it was cancelled): its waker is not woken.
void drop_waker(atomic_waker& w) noexcept { static_cast<void>(w.take_waker()); }

// Waits for side.inflight: true when done (registering the waker otherwise).
bool wait_done(uring_op* op, context& cx) noexcept {
    if (op->is_done()) return true;
    op->waker_.register_by_ref(cx.waker());
    return op->is_done();
}

// --- epoll ------------------------------------------------------------------------------------

scheduled_io* registration(io_source* s, reactor* r, int& err) noexcept {
    scheduled_io* cur = s->sio_.load(std::memory_order_acquire);
    if (cur) return cur;
    readiness_set* ep = r->readiness();
    auto* fresh = new (std::nothrow) scheduled_io;
    if (!fresh) {
        err = ENOMEM;
        return nullptr;
    }
    fresh->owner_ = ep;
    // Acq_rel: publishes owner_ to other sides; a loser adopts the winner's (not yet added: the
    // ADD reports current readiness as an edge, so the loser's registered waker still fires).
    if (!s->sio_.compare_exchange_strong(cur, fresh, std::memory_order_acq_rel, std::memory_order_acquire)) {
        delete fresh;
        return cur;
    }
    if (int e = ep->add(s->fd_, fresh); e != 0) {
        err = e;  // stays installed (removal is harmless); the caller reports the error
        return nullptr;
    }
    return fresh;
}

// Runs `attempt` (a non-blocking syscall returning >= 0 or -1/errno) under edge-triggered
// readiness, counting system calls like Tokio does:
//   * If the side's last attempt got EAGAIN and no readiness edge was dispatched since
//     (io_side::idle_edges == the side's edge count), the socket is still empty/full: skip the
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
io_poll readiness_op(io_source* s, reactor* r, context& cx, bool write_side, F attempt,
                     std::size_t short_means_idle = 0) noexcept {
    io_side& side = write_side ? s->wr_ : s->rd_;
    auto edges = [write_side](scheduled_io* sio) -> std::atomic<std::uint32_t>& {
        return write_side ? sio->write_edges_ : sio->read_edges_;
    };
    // Acquire: pairs with registration()'s publication of the scheduled_io.
    scheduled_io* known = s->sio_.load(std::memory_order_acquire);
    // Acquire: an edge counted here was dispatched before the attempt below looks at the socket.
    std::uint32_t seen = known ? edges(known).load(std::memory_order_acquire) : 0;
    // A closed side (EOF or error seen by the owner, flag published with the count) is never
    // skipped: a short read may have left the EOF behind.
    const bool closed = known && (write_side ? known->write_closed_ : known->read_closed_).load(std::memory_order_relaxed);
    bool try_now = !(known && side.idle && side.idle_edges == seen && !closed);
    int attempts = 0;
    atomic_waker* registered = nullptr;  // the slot this poll registered in, if it did
    for (;;) {
        if (try_now) {
            ++attempts;
            std::int64_t n;
            do {
                n = attempt();
            } while (n < 0 && errno == EINTR);
            if (n >= 0) {
                side.idle = known && n > 0 && static_cast<std::size_t>(n) < short_means_idle;
                side.idle_edges = seen;
                if (registered) drop_waker(*registered);
                return ready_value(n);
            }
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                side.idle = false;
                if (registered) drop_waker(*registered);
                return ready_error(errno);
            }
            side.idle = known != nullptr;  // meaningful only once the edges are counted
            side.idle_edges = seen;
            if (attempts == 2) return pending;  // the waker was registered before this attempt
        }
        int err = 0;
        scheduled_io* sio = registration(s, r, err);
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

}  // namespace

// --- read -------------------------------------------------------------------------------------

io_poll poll_read(io_source* s, context& cx, std::byte* buf, std::size_t len) noexcept {
    if (len == 0) return ready_value(0);
    if (!cx.poll_budget()) return pending;
    reactor* r = current_reactor();
    io_side& rd = s->rd_;
    for (;;) {
        if (rd.carry_len) {
            const std::size_t n = std::min(len, rd.carry_len);
            std::memcpy(buf, rd.carry->buf_.get() + rd.carry_off, n);
            rd.carry_off += n;
            rd.carry_len -= n;
            if (rd.carry_len == 0) rd.recycle(std::exchange(rd.carry, nullptr));
            return ready_value(static_cast<std::int64_t>(n));
        }
        if (uring_op* op = rd.inflight) {
            if (!wait_done(op, cx)) return pending;
            rd.inflight = nullptr;
            const int res = op->res_;
            if (res > 0) {
                rd.carry = op;
                rd.carry_off = 0;
                rd.carry_len = static_cast<std::size_t>(res);
                continue;
            }
            rd.recycle(op);
            if (res == 0) return ready_value(0);  // EOF
            if (res == -ECANCELED || res == -EINTR) continue;  // a cancelled read that got nothing
            return ready_error(-res);
        }
        if (!r) return ready_error(no_runtime);
        if (r->readiness()) {
            return readiness_op(
                s, r, cx, false, [&] { return ::recv(s->fd_, buf, len, MSG_DONTWAIT); }, len);
        }
        auto* ring = static_cast<uring_driver*>(r);
        uring_op* op = rd.take(uring_op::kind::recv);
        op->ensure_capacity(std::clamp(len, min_read, max_read));
        ::io_uring_sqe* sqe = ring->start(op);
        if (!sqe) {
            op->release();
            return ready_error(EBUSY);
        }
        ::io_uring_prep_recv(sqe, s->fd_, op->buf_.get(), std::clamp(len, min_read, op->cap_), 0);
        rd.inflight = op;
        op->waker_.register_by_ref(cx.waker());
        return pending;
    }
}

void cancel_read(io_source* s) noexcept {
    if (uring_op* op = s->rd_.inflight) {
        drop_waker(op->waker_);  // before the cancel: its CQE must find no waker
        if (op->ring_) op->ring_->cancel(op);
    }
    // Acquire: pairs with registration()'s publication.
    if (scheduled_io* sio = s->sio_.load(std::memory_order_acquire)) drop_waker(sio->reader_);
}

// --- write ------------------------------------------------------------------------------------

namespace {
// One non-blocking send of the caller's buffers. A single buffer (the common case) goes through
// send(): sendmsg costs a msghdr copy-in and an iovec import per call (~1 % of an HTTP
// server's CPU in a profile here).
ssize_t send_iov(int fd, const ::iovec* iov, std::size_t iovcnt) noexcept {
    if (iovcnt == 1) return ::send(fd, iov[0].iov_base, iov[0].iov_len, MSG_DONTWAIT | MSG_NOSIGNAL);
    ::msghdr m{};
    m.msg_iov = const_cast<::iovec*>(iov);
    m.msg_iovlen = std::min<std::size_t>(iovcnt, IOV_MAX);
    return ::sendmsg(fd, &m, MSG_DONTWAIT | MSG_NOSIGNAL);
}

// Waits out the write side's in-flight op. Returns true with `mine` set to its result if it was
// `ticket`'s; true with mine unset if the side is free; false if pending.
bool settle_write(io_side& wr, context& cx, std::uint64_t& ticket, io_poll& mine) noexcept {
    while (uring_op* op = wr.inflight) {
        if (!wait_done(op, cx)) return false;
        wr.inflight = nullptr;
        const std::uint64_t owner = std::exchange(wr.inflight_ticket, 0);
        const int res = op->res_;
        // Set by cancel_write, which runs on the task that owns the side (as this does).
        const bool asked = op->cancel_.load(std::memory_order_relaxed);
        wr.recycle(op);
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
}  // namespace

io_poll poll_write(io_source* s, context& cx, const ::iovec* iov, std::size_t iovcnt, std::uint64_t& ticket) noexcept {
    if (!cx.poll_budget()) return pending;
    io_side& wr = s->wr_;
    io_poll mine;
    if (!settle_write(wr, cx, ticket, mine)) return pending;
    if (mine.ready) return mine;
    ticket = 0;
    std::size_t total = 0;
    for (std::size_t i = 0; i < iovcnt; ++i) total += iov[i].iov_len;
    if (total == 0) return ready_value(0);
    reactor* r = current_reactor();
    if (!r) return ready_error(no_runtime);
    if (r->readiness()) {
        return readiness_op(s, r, cx, true, [&] { return send_iov(s->fd_, iov, iovcnt); },
                            iovcnt <= IOV_MAX ? total : 0);
    }
    // Fast path: the side is free (nothing in flight, so order is kept), so try the send now,
    // non-blocking, from the caller's memory (valid during this poll). A socket almost always
    // has room: the write completes in this poll, with no SQE, no copy into a cell, no suspension
    // and no wait for the ring's next submit (SQEs go in at the worker's park or tick, which
    // would delay a request-response write by a whole scheduling round). Only when the socket
    // buffer is full (EAGAIN) does the write go through the ring.
    {
        ssize_t sent;
        do {
            sent = send_iov(s->fd_, iov, iovcnt);
        } while (sent < 0 && errno == EINTR);
        if (sent >= 0) return ready_value(sent);
        // ENOTSOCK: not a socket (a pipe): the ring's send path reports what applies.
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOTSOCK) return ready_error(errno);
    }
    auto* ring = static_cast<uring_driver*>(r);
    const std::size_t n = std::min(total, max_write);
    uring_op* op = wr.take(uring_op::kind::send);
    op->ensure_capacity(n);
    std::size_t copied = 0;
    for (std::size_t i = 0; i < iovcnt && copied < n; ++i) {
        const std::size_t c = std::min(iov[i].iov_len, n - copied);
        std::memcpy(op->buf_.get() + copied, iov[i].iov_base, c);
        copied += c;
    }
    ::io_uring_sqe* sqe = ring->start(op);
    if (!sqe) {
        op->release();
        return ready_error(EBUSY);
    }
    ::io_uring_prep_send(sqe, s->fd_, op->buf_.get(), n, MSG_NOSIGNAL);
    wr.inflight = op;
    ticket = wr.inflight_ticket = ++wr.next_ticket;
    op->waker_.register_by_ref(cx.waker());
    return pending;
}

void cancel_write(io_source* s, std::uint64_t ticket) noexcept {
    io_side& wr = s->wr_;
    if (uring_op* op = wr.inflight) {
        drop_waker(op->waker_);
        // The ticket stays: a later poll of the same leaf collects the result; the next write of
        // another leaf (another ticket) drops it, as an abandoned write's.
        if (ticket != 0 && wr.inflight_ticket == ticket && op->ring_) op->ring_->cancel(op);
    }
    if (scheduled_io* sio = s->sio_.load(std::memory_order_acquire)) drop_waker(sio->writer_);
}

// --- accept -----------------------------------------------------------------------------------

io_poll poll_accept(io_source* s, context& cx, ::sockaddr_storage* addr, ::socklen_t* addrlen) noexcept {
    if (!cx.poll_budget()) return pending;
    io_side& rd = s->rd_;
    for (;;) {
        if (uring_op* op = rd.inflight) {
            // Possibly an abandoned accept's: its connection goes to this caller, never leaks.
            if (!wait_done(op, cx)) return pending;
            rd.inflight = nullptr;
            const int res = op->res_;
            if (res >= 0) {
                op->consumed_ = true;
                const ::socklen_t n = std::min<::socklen_t>(op->addrlen_, *addrlen);
                std::memcpy(addr, &op->addr_, n);
                *addrlen = op->addrlen_;
            }
            rd.recycle(op);
            if (res >= 0) return ready_value(res);
            if (res == -ECANCELED || res == -EINTR) continue;
            return ready_error(-res);
        }
        reactor* r = current_reactor();
        if (!r) return ready_error(no_runtime);
        if (r->readiness()) {
            return readiness_op(s, r, cx, false, [&] {
                return ::accept4(s->fd_, reinterpret_cast<::sockaddr*>(addr), addrlen, SOCK_NONBLOCK | SOCK_CLOEXEC);
            });
        }
        auto* ring = static_cast<uring_driver*>(r);
        uring_op* op = rd.take(uring_op::kind::accept);
        op->addrlen_ = sizeof op->addr_;
        ::io_uring_sqe* sqe = ring->start(op);
        if (!sqe) {
            op->release();
            return ready_error(EBUSY);
        }
        ::io_uring_prep_accept(sqe, s->fd_, reinterpret_cast<::sockaddr*>(&op->addr_), &op->addrlen_,
                               SOCK_NONBLOCK | SOCK_CLOEXEC);
        rd.inflight = op;
        op->waker_.register_by_ref(cx.waker());
        return pending;
    }
}

// --- connect ----------------------------------------------------------------------------------

io_poll poll_connect(io_source* s, context& cx, const ::sockaddr* addr, ::socklen_t addrlen, bool& started) noexcept {
    io_side& wr = s->wr_;
    if (uring_op* op = wr.inflight) {
        if (!wait_done(op, cx)) return pending;
        wr.inflight = nullptr;
        const int res = op->res_;
        wr.recycle(op);
        return res >= 0 ? ready_value(0) : ready_error(-res);
    }
    reactor* r = current_reactor();
    if (!r) return ready_error(no_runtime);
    if (r->readiness()) {
        if (!started) {
            started = true;
            if (::connect(s->fd_, addr, addrlen) == 0) return ready_value(0);
            if (errno != EINPROGRESS && errno != EINTR) return ready_error(errno);
        }
        int err = 0;
        scheduled_io* sio = registration(s, r, err);
        if (!sio) return ready_error(err);
        sio->writer_.register_by_ref(cx.waker());
        ::pollfd p{s->fd_, POLLOUT, 0};
        if (::poll(&p, 1, 0) <= 0 || p.revents == 0) return pending;
        drop_waker(sio->writer_);  // ready: the registration was this poll's (as readiness_op)
        int so_err = 0;
        ::socklen_t l = sizeof so_err;
        if (::getsockopt(s->fd_, SOL_SOCKET, SO_ERROR, &so_err, &l) != 0) return ready_error(errno);
        return so_err == 0 ? ready_value(0) : ready_error(so_err);
    }
    if (started) return ready_error(ECANCELED);  // defensive: our op vanished
    auto* ring = static_cast<uring_driver*>(r);
    uring_op* op = wr.take(uring_op::kind::connect);
    std::memcpy(&op->addr_, addr, std::min<std::size_t>(addrlen, sizeof op->addr_));
    op->addrlen_ = addrlen;
    ::io_uring_sqe* sqe = ring->start(op);
    if (!sqe) {
        op->release();
        return ready_error(EBUSY);
    }
    ::io_uring_prep_connect(sqe, s->fd_, reinterpret_cast<::sockaddr*>(&op->addr_), op->addrlen_);
    wr.inflight = op;
    started = true;
    op->waker_.register_by_ref(cx.waker());
    return pending;
}

// --- datagrams --------------------------------------------------------------------------------

io_poll poll_recv_from(io_source* s, context& cx, std::byte* buf, std::size_t len, ::sockaddr_storage* from,
                       ::socklen_t* fromlen) noexcept {
    if (!cx.poll_budget()) return pending;
    io_side& rd = s->rd_;
    for (;;) {
        if (uring_op* op = rd.inflight) {
            // A datagram a cancelled recv_from received is delivered to this one (truncated to
            // the caller's buffer, like recvfrom).
            if (!wait_done(op, cx)) return pending;
            rd.inflight = nullptr;
            const int res = op->res_;
            if (res >= 0) {
                const std::size_t n = std::min<std::size_t>(static_cast<std::size_t>(res), len);
                std::memcpy(buf, op->buf_.get(), n);
                const ::socklen_t al = std::min<::socklen_t>(op->msg_.msg_namelen, *fromlen);
                std::memcpy(from, &op->addr_, al);
                *fromlen = op->msg_.msg_namelen;
                rd.recycle(op);
                return ready_value(static_cast<std::int64_t>(n));
            }
            rd.recycle(op);
            if (res == -ECANCELED || res == -EINTR) continue;
            return ready_error(-res);
        }
        reactor* r = current_reactor();
        if (!r) return ready_error(no_runtime);
        if (r->readiness()) {
            return readiness_op(s, r, cx, false, [&] {
                return ::recvfrom(s->fd_, buf, len, MSG_DONTWAIT, reinterpret_cast<::sockaddr*>(from), fromlen);
            });
        }
        auto* ring = static_cast<uring_driver*>(r);
        uring_op* op = rd.take(uring_op::kind::recvmsg);
        op->ensure_capacity(std::max<std::size_t>(len, 1));
        op->iov_ = {op->buf_.get(), len};
        op->msg_ = {};
        op->msg_.msg_name = &op->addr_;
        op->msg_.msg_namelen = sizeof op->addr_;
        op->msg_.msg_iov = &op->iov_;
        op->msg_.msg_iovlen = 1;
        ::io_uring_sqe* sqe = ring->start(op);
        if (!sqe) {
            op->release();
            return ready_error(EBUSY);
        }
        ::io_uring_prep_recvmsg(sqe, s->fd_, &op->msg_, 0);
        rd.inflight = op;
        op->waker_.register_by_ref(cx.waker());
        return pending;
    }
}

io_poll poll_send_to(io_source* s, context& cx, const std::byte* buf, std::size_t len, const ::sockaddr* to,
                     ::socklen_t tolen, std::uint64_t& ticket) noexcept {
    if (!cx.poll_budget()) return pending;
    io_side& wr = s->wr_;
    io_poll mine;
    if (!settle_write(wr, cx, ticket, mine)) return pending;
    if (mine.ready) return mine;
    ticket = 0;
    reactor* r = current_reactor();
    if (!r) return ready_error(no_runtime);
    if (r->readiness()) {
        return readiness_op(s, r, cx, true, [&] { return ::sendto(s->fd_, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL, to, tolen); });
    }
    auto* ring = static_cast<uring_driver*>(r);
    uring_op* op = wr.take(uring_op::kind::sendmsg);
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
    ::io_uring_sqe* sqe = ring->start(op);
    if (!sqe) {
        op->release();
        return ready_error(EBUSY);
    }
    ::io_uring_prep_sendmsg(sqe, s->fd_, &op->msg_, MSG_NOSIGNAL);
    wr.inflight = op;
    ticket = wr.inflight_ticket = ++wr.next_ticket;
    op->waker_.register_by_ref(cx.waker());
    return pending;
}

}  // namespace corio::detail::io
