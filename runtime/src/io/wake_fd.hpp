// wake_fd: an eventfd used as a wake-up signal, the one way an unpark reaches a thread blocked
// outside its ring (a worker sleeping on its own descriptor, or the holder of the readiness set).
//
// Non-blocking and close-on-exec. The counter is the whole state: signal() adds to it, drain()
// takes all of it in one read. A signal that lands after a drain leaves the descriptor readable,
// which is a wake still owed, never one lost; a signal on a counter at its maximum (EAGAIN) still
// leaves it readable.
#pragma once

#include <time.h>

#include <chrono>
#include <optional>

namespace corio::detail::io {

class wake_fd {
public:
    wake_fd();  // throws std::system_error
    ~wake_fd();
    wake_fd(const wake_fd&) = delete;
    wake_fd& operator=(const wake_fd&) = delete;

    int fd() const noexcept { return fd_; }
    void signal() noexcept;  // any thread: an unpark
    void drain() noexcept;   // takes the counter (a no-op if it is zero)
    // Sleeps until the descriptor is readable or `timeout` (nullopt: forever) passes, then drains.
    void wait(std::optional<std::chrono::nanoseconds> timeout) noexcept;

private:
    const int fd_;
};

// A relative timeout for the kernel's waits (ppoll, epoll_pwait2); negative means zero.
::timespec to_timespec(std::chrono::nanoseconds d) noexcept;

}  // namespace corio::detail::io
