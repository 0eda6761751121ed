#include "wake_fd.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <system_error>

namespace corio::detail::io {

namespace {
int make_eventfd() {
    const int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd < 0) throw std::system_error(errno, std::system_category(), "creating a wake eventfd");
    return fd;
}
}  // namespace

wake_fd::wake_fd() : fd_(make_eventfd()) {}

wake_fd::~wake_fd() { ::close(fd_); }

void wake_fd::signal() noexcept {
    const std::uint64_t one = 1;
    [[maybe_unused]] auto r = ::write(fd_, &one, sizeof one);  // EAGAIN: already readable
}

void wake_fd::drain() noexcept {
    // Not EFD_SEMAPHORE: one read takes the whole counter.
    std::uint64_t v;
    [[maybe_unused]] auto r = ::read(fd_, &v, sizeof v);
}

void wake_fd::wait(std::optional<std::chrono::nanoseconds> timeout) noexcept {
    ::pollfd p{fd_, POLLIN, 0};
    ::timespec ts{};
    ::ppoll(&p, 1, timeout ? (ts = to_timespec(*timeout), &ts) : nullptr, nullptr);
    drain();
}

::timespec to_timespec(std::chrono::nanoseconds d) noexcept {
    const auto ns = d.count() > 0 ? d.count() : 0;
    return {static_cast<::time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
}

}  // namespace corio::detail::io
