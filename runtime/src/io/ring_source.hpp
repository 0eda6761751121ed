// ring_source: a descriptor whose every operation is an SQE on the ring of the worker that polls
// it (io_uring with CORIO_IO_NET=ring; completion-based, cancelled in the kernel).
//
// Sides (ring_side):
//   inflight   the operation this side waits for. It may have been started by an awaiter that
//              was destroyed since (cancel requested): the next operation on the side first
//              waits for its CQE, so results are consumed in submission order and never lost.
//   carry      read side: a completed recv's buffer whose bytes were not all delivered yet
//              (the caller asked for fewer, or its awaiter was destroyed before it saw them).
//              Every read is served from here first. Reads therefore go through the cell's
//              own buffer and are copied out: the kernel never writes into caller memory.
//   ticket     write side: which awaiter owns inflight's result (unique per side; only the leaf
//              holding it ever asks for that result). A write whose awaiter was destroyed never
//              collects it: the next write waits it out and drops it. A cancelled write keeps its
//              ticket while its leaf lives: polled again, the leaf collects the result first (an
//              -ECANCELED one, nothing sent, is sent afresh); a write of another leaf in between
//              drops it, as an abandoned one's.
//              Writes copy the caller's bytes into the cell first (the kernel never reads caller
//              memory after the awaiter is gone).
//   waker      cancel_read / cancel_write take the in-flight cell's waker_ out, so a cancelled
//              leaf holds no wake anywhere. A side has one user at a time, so the registration
//              taken is that leaf's (or a stale one of its task's). A wake already under way when
//              it is taken still completes (a spurious poll of the task, never a lost one: the
//              next operation re-registers and re-checks done_).
// Threading: a side is touched only by the task using it (one at a time); the cell's done_ flag
//   is the hand-off with the ring's thread. The destructor runs after the last reference drops
//   (acq_rel refcount), so it sees both sides' final state.
#pragma once

#include "io_source.hpp"
#include "uring_op.hpp"

#include <cstddef>
#include <cstdint>

namespace corio::detail::io {

struct ring_side {
    uring_op* inflight = nullptr;  // a reference
    std::uint64_t inflight_ticket = 0;
    std::uint64_t next_ticket = 0;
    uring_op* carry = nullptr;  // a reference (read side)
    std::size_t carry_off = 0;
    std::size_t carry_len = 0;
    uring_op* spare = nullptr;  // a consumed cell kept for reuse

    void recycle(uring_op* op) noexcept;
    uring_op* take(uring_op::kind k);
    // The source goes away: cancels what is in flight, drops every cell.
    void teardown() noexcept;
};

class ring_source final : public io_source {
public:
    explicit ring_source(int fd) noexcept : io_source(fd) {}
    ~ring_source() override;

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
    // Waits out the write side's in-flight op. True with `mine` set to its result if it was
    // `ticket`'s; true with mine unset if the side is free; false if pending.
    bool settle_write(context& cx, std::uint64_t& ticket, io_poll& mine) noexcept;

    ring_side rd_;
    ring_side wr_;
};

}  // namespace corio::detail::io
