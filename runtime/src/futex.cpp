#include "futex.hpp"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#if defined(__SANITIZE_THREAD__)
#define CORIO_FUTEX_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CORIO_FUTEX_TSAN 1
#endif
#endif

namespace corio::detail {

void futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected,
                std::optional<std::chrono::nanoseconds> timeout) noexcept {
#ifdef CORIO_FUTEX_TSAN
    // ThreadSanitizer runs a signal handler only when the thread enters or leaves a function it
    // intercepts, and the raw futex syscall is not one: a thread parked here (block_on's thread,
    // which the kernel prefers for a signal sent by another process) would hold a SIGTERM
    // forever. Under TSan, wake every 10 ms and pass through an intercepted call. Every caller
    // re-checks its condition, so the extra returns are harmless.
    constexpr std::chrono::nanoseconds tsan_slice = std::chrono::milliseconds(10);
    if (!timeout || *timeout > tsan_slice) timeout = tsan_slice;
    struct deliver_pending_signals {
        ~deliver_pending_signals() { usleep(0); }
    } deliver;
#endif
    timespec ts{};
    timespec* tsp = nullptr;
    if (timeout) {
        auto ns = timeout->count() < 0 ? 0 : timeout->count();
        ts.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
        ts.tv_nsec = static_cast<long>(ns % 1'000'000'000);
        tsp = &ts;
    }
    // Relative timeout on CLOCK_MONOTONIC (FUTEX_WAIT's default). EINTR/EAGAIN/ETIMEDOUT are all
    // "return and let the caller re-check".
    syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT_PRIVATE, expected, tsp, nullptr, 0);
}

void futex_wake(std::atomic<std::uint32_t>& word, int count) noexcept {
    syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAKE_PRIVATE, count, nullptr, nullptr, 0);
}

}  // namespace corio::detail
