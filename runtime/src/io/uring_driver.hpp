// uring_driver: one io_uring per worker; the driver the worker parks in.
//
// Submission: only the thread driving the worker (its thread, or the block_on thread of a
//   current_thread runtime, or the runtime's last owner at destruction) touches the SQ, so there
//   is no lock. SQEs are batched: they reach the kernel when the worker parks (one
//   io_uring_submit_and_wait_timeout), at its maintenance tick (park(0), every event_interval
//   ticks), or when the SQ is full.
// Completion: reaped from the CQ ring without a system call when entries are there (the kernel
//   is entered only when it flagged deferred task work, IORING_SQ_TASKRUN, or an overflow).
// Unpark from any thread: the worker's eventfd (or, while it waits in the readiness set, the
//   set's holder-wake eventfd: set_wake). Before it waits in its ring, the worker arms a one-shot
//   POLL_ADD on its eventfd there (if not still armed): a write completes the poll and ends the
//   wait; the counter is drained after. The counter stays set while no poll is armed, and the
//   poll is level-triggered, so a wake is never lost (docs/design/io.md: why not IORING_OP_MSG_RING).
//   Armed only for ring waits, so a socket-only worker, which never waits in its ring, pays no
//   io_uring round trip per unpark.
// Cancel from another thread (an awaiter destroyed on another worker): the request goes to a
//   mutex-guarded remote queue and the eventfd is written; the owner submits
//   IORING_OP_ASYNC_CANCEL for it on its next park or tick.
// Setup flags: COOP_TASKRUN|TASKRUN_FLAG for multi_thread workers (no IPI per completion; the
//   owner enters the kernel at every park and tick anyway), falling back to none on -EINVAL;
//   none for current_thread (several threads may drive it over time). Not SINGLE_ISSUER: the
//   teardown runs on whichever thread destroys the runtime.
// Sockets (net_model::readiness, the default): they wait in the runtime's readiness_set. A
//   parking worker with nothing in flight on its ring parks exactly as the epoll driver does: in
//   the set (epoll_pwait2) if it takes the set's lock, else on its own eventfd (ppoll). One with
//   ring ops in flight waits in its ring (their completions are its task work); if it took the
//   set, with a one-shot POLL_ADD on the set's descriptor there, and it dispatches the set when
//   that fires. A busy worker's tick dispatches the set if it is free.
// Teardown: drain the remote queue, cancel everything (IORING_ASYNC_CANCEL_ANY), wait (bounded)
//   for the in-flight count to reach zero, then close the ring. Cells whose CQE never came are
//   leaked, never freed: the kernel might still write into their buffers.
#pragma once

#include "../single_writer_counter.hpp"
#include "reactor.hpp"
#include "readiness_set.hpp"
#include "uring_op.hpp"
#include "wake_fd.hpp"

#include <liburing.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace corio::detail::io {

class uring_driver final : public reactor {
public:
    // `group`: the runtime's slot for its readiness_set (sockets wait there unless
    // CORIO_IO_NET=ring), created by the first driver that needs it.
    uring_driver(bool current_thread, std::shared_ptr<void>& group);
    ~uring_driver() override;

    // 0 if a ring can be set up here, else the errno.
    static int probe() noexcept;

    void park(std::optional<std::chrono::nanoseconds> timeout) override;
    void unpark() noexcept override;
    // Cancels everything in flight and waits (bounded) for the completions. Idempotent.
    void shutdown() noexcept override;
    std::size_t ops_in_flight() const noexcept { return static_cast<std::size_t>(in_flight_.get()); }
    bool io_pending() const noexcept override { return in_flight_.get() > 0 || (set_ && set_->has_registrations()); }

    // Caller: the thread driving this ring. Takes a ring reference on `op`.
    // Returns the SQE to fill (user_data is set to op).
    ::io_uring_sqe* start(uring_op* op) noexcept;
    // Any thread: asks the kernel to cancel `op` (no-op once done or already asked).
    void cancel(uring_op* op) noexcept;

private:
    ::io_uring_sqe* get_sqe() noexcept;
    void drain_remote() noexcept;
    // Handles every visible CQE (waking their tasks); notes a fired readiness poll in
    // readiness_fired_ for park to dispatch (after the CQ is advanced).
    void reap() noexcept;
    void wait_in_ring(std::optional<std::chrono::nanoseconds> timeout) noexcept;
    void arm_eventfd() noexcept;
    void arm_readiness() noexcept;
    void submit_cancel(uring_op* op) noexcept;

    static constexpr std::uint64_t tag_ignore = 1;   // the shutdown's cancel-all: its CQE is dropped
    static constexpr std::uint64_t tag_eventfd = 2;  // the poll on the unpark eventfd
    static constexpr std::uint64_t tag_readiness = 3;  // the one-shot poll on the readiness set
    // A cancel SQE's user_data is its target's address with this bit set. The cancel holds a
    // reference on the target until the cancel's own CQE: were the cell freed earlier (its CQE
    // reaped first) and the address reused by a new op on this ring, a still-queued
    // ASYNC_CANCEL (matched by user_data) would cancel the new op instead.
    static constexpr std::uint64_t tag_cancel_bit = 1;

    wake_fd own_wake_;            // unpark() signals it unless we wait in the set
    ::io_uring ring_{};
    bool eventfd_armed_ = false;  // a POLL_ADD on it is in the ring (driving thread only)
    bool closing_ = false;
    // Sockets' readiness (net_model::readiness; null under ring): the runtime's shared set.
    std::shared_ptr<readiness_set> set_;
    bool readiness_armed_ = false;  // that poll is in the ring (driving thread only)
    bool readiness_fired_ = false;  // its CQE came and the set is not dispatched yet (driving thread)
    bool eventfd_fired_ = false;    // the eventfd poll's CQE came, the counter is not drained yet
    set_wake wake_;                 // unparks while this worker waits in the set (readiness only)
    // Ops and cancels submitted, not reaped. Written by the driving thread only; read by
    // runtime::metrics() from any thread.
    single_writer_counter in_flight_;

    std::mutex remote_mutex_;
    std::vector<uring_op*> remote_cancels_;  // guarded by remote_mutex_; each holds a ref
    // Relaxed hint that remote_cancels_ is non-empty (checked without the lock every park);
    // the mutex orders the vector itself.
    std::atomic<bool> has_remote_{false};
};

}  // namespace corio::detail::io
