// driver: what a parked worker blocks in.
//
// A worker with nothing to run parks in its driver. The default driver blocks on a futex; the
// timer wheel and the io reactor (io_uring / epoll) are drivers too, so that an idle worker
// sleeps exactly until its next timer, io completion or unpark, and never busy-polls.
#pragma once

#include <chrono>
#include <optional>

namespace corio::detail {

class driver {
public:
    virtual ~driver() = default;
    // Blocks the calling worker until unpark(), the timeout, or an event; processes the events
    // (fires timers, completes io, which wakes tasks) before returning. A timeout of zero polls.
    // Spurious returns are allowed.
    virtual void park(std::optional<std::chrono::nanoseconds> timeout) = 0;
    // From any thread: the current or next park() returns promptly. Never lost.
    virtual void unpark() noexcept = 0;
    // Runtime shutdown, after the workers have stopped and every task was cancelled: finish what
    // is still in flight (an io_uring op whose cancellation has not completed holds its task's
    // waker, and through it the runtime: waiting for it here breaks that cycle). Called by the
    // shutting-down thread; park() is not called again afterwards.
    virtual void shutdown() noexcept {}
    // Whether io is in flight in this driver (the worker's own thread asks). Such a worker's next
    // work mostly comes from the kernel, which a spin does not see: it parks without spinning
    // (worker::spin_for_work, parker::park). Spinning there cost an http server ~15 % more CPU
    // per request, taken from the load generator on the same 2 vCPUs.
    virtual bool io_pending() const noexcept { return false; }
};

}  // namespace corio::detail
