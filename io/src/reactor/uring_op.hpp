// uring_op: the heap cell of one io_uring operation. It, not the awaiter, owns everything the
// kernel touches (the data buffer, the socket address), so an awaiter can be destroyed while the
// operation is in flight (task aborted, timeout, select lost) without the kernel ever writing
// into, or reading from, memory that went back to the caller.
//
// Lifecycle:  created by an io_source side (1 ref: the side) -> submitted (+1 ref: the ring,
//             dropped when the CQE is handled) -> done (result stored) -> consumed by the side,
//             or released by the side when the source goes away.
// Refs:       refs_ counts the side and the ring (and a queued remote cancel). acq_rel on the
//             decrement, so whoever frees the cell sees every write made under the other refs.
// done_:      written once by the ring's thread after res_/flags_ (release); read by the task
//             (acquire) before it reads res_ — the only cross-thread hand-off of the result.
// waker_:     the task registers, the ring's CQE handler wakes (detail/atomic_waker.hpp).
// cancel_:    set by whoever asks for IORING_OP_ASYNC_CANCEL first; later requests are no-ops.
//             The cancel SQE holds a ref until its own CQE (uring_driver::tag_cancel_bit). The
//             write side reads it with the result: an -ECANCELED write whose cancel_ is set was
//             stopped by its leaf's cancel(), and is sent again if that leaf polls again.
#pragma once

#include <corio/runtime/detail/atomic_waker.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace corio::detail::io {

class uring_driver;

struct uring_op {
    enum class kind : std::uint8_t { recv, send, accept, connect, recvmsg, sendmsg, file, openat };

    explicit uring_op(kind k) noexcept : kind_(k) {}
    uring_op(const uring_op&) = delete;
    uring_op& operator=(const uring_op&) = delete;
    ~uring_op() {
        // Lifetime: an accepted (or opened) descriptor nobody took (the listener went away
        // first, the open's awaiter was dropped) is closed here, so late completions never leak
        // descriptors.
        if ((kind_ == kind::accept || kind_ == kind::openat) && done_.load(std::memory_order_acquire) && res_ >= 0 &&
            !consumed_)
            ::close(res_);
    }

    void retain() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
    void release() noexcept {
        if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
    }
    bool is_done() const noexcept { return done_.load(std::memory_order_acquire); }
    // Reuse a consumed cell for the next operation of the same side (only the side holds it).
    bool reusable() const noexcept { return refs_.load(std::memory_order_acquire) == 1; }
    void reset_for_reuse() noexcept {
        done_.store(false, std::memory_order_relaxed);
        cancel_.store(false, std::memory_order_relaxed);
        res_ = 0;
        consumed_ = false;
        ring_ = nullptr;
    }
    void ensure_capacity(std::size_t n) {
        if (cap_ < n) {
            buf_ = std::make_unique<std::byte[]>(n);
            cap_ = n;
        }
    }

    kind kind_;
    std::atomic<std::uint32_t> refs_{1};
    std::atomic<bool> done_{false};
    std::atomic<bool> cancel_{false};
    atomic_waker waker_;
    std::int32_t res_ = 0;      // written by the ring before done_ (release)
    bool consumed_ = false;     // accept: the descriptor was handed out (side's thread only)
    uring_driver* ring_ = nullptr;  // the ring it was submitted to (set at submission)
    std::unique_ptr<std::byte[]> buf_;  // recv target / send source, owned until the CQE
    std::size_t cap_ = 0;
    ::sockaddr_storage addr_{};  // accept: peer; connect: target; msg: name
    ::socklen_t addrlen_ = 0;
    ::msghdr msg_{};             // recvmsg / sendmsg
    ::iovec iov_{};
    // Keeps the op's descriptor open until the CQE (the kernel resolves the fd only when the
    // ring submits the op, maybe after the awaiter and even the file or socket are gone): set at
    // creation for file ops, and by ~io_source for a socket op still in flight.
    std::shared_ptr<void> keep_;
};

}  // namespace corio::detail::io
