// The io_uring half of corio::fs (corio/io/detail/file_io.hpp): one SQE per file operation, its
// buffers owned by the uring_op cell until the CQE.
#include "reactor.hpp"
#include "uring_driver.hpp"

#include <corio/io/detail/file_io.hpp>

#include <fcntl.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <new>

namespace corio::detail::io {

bool file_ring_available() noexcept {
    reactor* r = current_reactor();
    return r && r->kind() == backend_kind::io_uring;
}

uring_op* file_submit(const file_request& req, context& cx, int& err) noexcept {
    reactor* r = current_reactor();
    if (!r || r->kind() != backend_kind::io_uring) {
        err = -1;
        return nullptr;
    }
    auto* ring = static_cast<uring_driver*>(r);
    auto* op = new (std::nothrow) uring_op(req.op == file_opcode::openat ? uring_op::kind::openat : uring_op::kind::file);
    if (!op) {
        err = ENOMEM;
        return nullptr;
    }
    try {
        op->keep_ = req.keep;
        if (req.op == file_opcode::read || req.op == file_opcode::write) op->ensure_capacity(std::max<std::size_t>(req.len, 1));
        if (req.op == file_opcode::openat) op->ensure_capacity(std::strlen(req.path) + 1);
    } catch (...) {
        op->release();
        err = ENOMEM;
        return nullptr;
    }
    if (req.op == file_opcode::write && req.len) std::memcpy(op->buf_.get(), req.data, req.len);
    if (req.op == file_opcode::openat) std::memcpy(op->buf_.get(), req.path, std::strlen(req.path) + 1);
    ::io_uring_sqe* sqe = ring->start(op);
    if (!sqe) {
        op->release();
        err = EBUSY;
        return nullptr;
    }
    const auto len = static_cast<unsigned>(std::min<std::size_t>(req.len, 0x7ffff000));  // the kernel's rw cap
    switch (req.op) {
        case file_opcode::read: ::io_uring_prep_read(sqe, req.fd, op->buf_.get(), len, req.offset); break;
        case file_opcode::write: ::io_uring_prep_write(sqe, req.fd, op->buf_.get(), len, req.offset); break;
        case file_opcode::fsync: ::io_uring_prep_fsync(sqe, req.fd, 0); break;
        case file_opcode::openat:
            ::io_uring_prep_openat(sqe, AT_FDCWD, reinterpret_cast<const char*>(op->buf_.get()), req.flags | O_CLOEXEC, req.mode);
            break;
    }
    op->waker_.register_by_ref(cx.waker());
    return op;
}

io_poll file_poll(uring_op* op, context& cx, std::byte* out, std::size_t out_len) noexcept {
    if (!op->is_done()) {
        op->waker_.register_by_ref(cx.waker());
        if (!op->is_done()) return {};
    }
    if (!cx.poll_budget()) return {};
    const int res = op->res_;
    if (res < 0) return {true, 0, -res};
    if (op->kind_ == uring_op::kind::openat) op->consumed_ = true;
    else if (out) std::memcpy(out, op->buf_.get(), std::min<std::size_t>(static_cast<std::size_t>(res), out_len));
    return {true, res, 0};
}

void file_release(uring_op* op) noexcept {
    // The awaiter's registration goes first: the cell may outlive it until the CQE, which must
    // wake nobody (a cancelled leaf holds no waker anywhere).
    static_cast<void>(op->waker_.take_waker());
    if (!op->is_done() && op->ring_) op->ring_->cancel(op);
    op->release();
}

}  // namespace corio::detail::io
