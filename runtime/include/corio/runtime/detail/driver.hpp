// corio/runtime/detail/driver.hpp — what a parked worker blocks in.
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
};

}  // namespace corio::detail
