#include "epoll_driver.hpp"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <system_error>

namespace corio::detail::io {

epoll_driver::epoll_driver(const void* worker_key) : reactor(backend_kind::epoll) {
    epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (epfd_ < 0) throw std::system_error(errno, std::system_category(), "creating epoll");
    eventfd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (eventfd_ < 0) {
        const int e = errno;
        ::close(epfd_);
        throw std::system_error(e, std::system_category(), "creating the epoll wake eventfd");
    }
    ::epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = nullptr;  // the wake tag
    ::epoll_ctl(epfd_, EPOLL_CTL_ADD, eventfd_, &ev);
    register_for(worker_key);
}

epoll_driver::~epoll_driver() {
    unregister();
    free_released();
    ::close(eventfd_);
    ::close(epfd_);
}

int epoll_driver::add(int fd, scheduled_io* s) noexcept {
    ::epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.ptr = s;
    if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) != 0) return errno;
    registered_.fetch_add(1, std::memory_order_relaxed);
    return 0;
}

void epoll_driver::remove(int fd, scheduled_io* s) noexcept {
    ::epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr);
    registered_.fetch_sub(1, std::memory_order_relaxed);
    std::lock_guard lock(release_mutex_);
    released_.push_back(s);
    has_released_.store(true, std::memory_order_relaxed);
}

void epoll_driver::free_released() noexcept {
    if (!has_released_.load(std::memory_order_relaxed)) return;
    std::vector<scheduled_io*> v;
    {
        std::lock_guard lock(release_mutex_);
        v.swap(released_);
        has_released_.store(false, std::memory_order_relaxed);
    }
    // Lifetime: each was removed from the epoll set before it was queued, and this thread has
    // finished dispatching every event array returned so far, so nothing points at them.
    for (scheduled_io* s : v) delete s;
}

void epoll_driver::park(std::optional<std::chrono::nanoseconds> timeout) {
    free_released();
    std::array<::epoll_event, 256> evs;
    ::timespec ts{};
    const ::timespec* tsp = nullptr;
    if (timeout) {
        const auto ns = timeout->count() > 0 ? timeout->count() : 0;
        ts.tv_sec = ns / 1'000'000'000;
        ts.tv_nsec = ns % 1'000'000'000;
        tsp = &ts;
    }
    const int n = ::epoll_pwait2(epfd_, evs.data(), static_cast<int>(evs.size()), tsp, nullptr);
    for (int i = 0; i < n; ++i) {
        auto* s = static_cast<scheduled_io*>(evs[i].data.ptr);
        const std::uint32_t e = evs[i].events;
        if (!s) {
            std::uint64_t v;
            while (::read(eventfd_, &v, sizeof v) > 0) {
            }
            continue;
        }
        if (e & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) s->read_closed_.store(true, std::memory_order_relaxed);
        if (e & (EPOLLHUP | EPOLLERR)) s->write_closed_.store(true, std::memory_order_relaxed);
        // Release: publishes the closed flags with the count (readiness_op loads it acquire).
        if (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR | EPOLLPRI)) {
            s->read_edges_.fetch_add(1, std::memory_order_release);
            s->reader_.wake();
        }
        if (e & (EPOLLOUT | EPOLLHUP | EPOLLERR)) {
            s->write_edges_.fetch_add(1, std::memory_order_release);
            s->writer_.wake();
        }
    }
}

void epoll_driver::unpark() noexcept {
    const std::uint64_t one = 1;
    [[maybe_unused]] auto r = ::write(eventfd_, &one, sizeof one);
}

}  // namespace corio::detail::io
