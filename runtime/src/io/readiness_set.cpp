#include "readiness_set.hpp"

#include <sys/epoll.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <system_error>

namespace corio::detail::io {

readiness_set::readiness_set() {
    epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (epfd_ < 0) throw std::system_error(errno, std::system_category(), "creating epoll");
    ::epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = nullptr;  // the holder-wake tag
    ::epoll_ctl(epfd_, EPOLL_CTL_ADD, holder_wake_.fd(), &ev);
}

readiness_set::~readiness_set() {
    {
        std::lock_guard lock(mutex_);
        free_released_locked();
    }
    ::close(epfd_);
}

int readiness_set::add(int fd, scheduled_io* s) noexcept {
    s->published_.store(true, std::memory_order_release);
    ::epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.ptr = s;
    if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) != 0) return errno;
    registered_.fetch_add(1, std::memory_order_relaxed);
    return 0;
}

void readiness_set::remove(int fd, scheduled_io* s) noexcept {
    ::epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr);
    registered_.fetch_sub(1, std::memory_order_relaxed);
    {
        std::lock_guard lock(release_mutex_);
        released_.push_back(s);
        has_released_.store(true, std::memory_order_relaxed);
    }
    // Free it now if nobody holds the set (a server closing connections while no event comes
    // would otherwise keep them until the next dispatch).
    std::unique_lock lock(mutex_, std::try_to_lock);
    if (lock.owns_lock()) free_released_locked();
}

void readiness_set::free_released_locked() noexcept {
    if (!has_released_.load(std::memory_order_relaxed)) return;
    std::vector<scheduled_io*> v;
    {
        std::lock_guard lock(release_mutex_);
        v.swap(released_);
        has_released_.store(false, std::memory_order_relaxed);
    }
    // Lifetime: each was removed from the set before it was queued, and every event array
    // fetched so far has been dispatched (both under mutex_, which we hold).
    for (scheduled_io* s : v) delete s;
}

void readiness_set::harvest() noexcept {
    pending_.store(true, std::memory_order_seq_cst);
    try_poll();  // if the set is held, its holder sees pending_ when it lets go
}

void readiness_set::try_poll() noexcept {
    std::unique_lock lock(mutex_, std::try_to_lock);
    if (!lock.owns_lock()) return;
    static constexpr ::timespec zero{0, 0};
    wait_and_dispatch(&zero);
    unlock_and_redispatch(lock);
}

bool readiness_set::try_park(set_wake& wake, const ::timespec* timeout) noexcept {
    std::unique_lock lock(mutex_, std::try_to_lock);
    if (!lock.owns_lock()) return false;
    wake.holding_.store(true, std::memory_order_seq_cst);
    // Dekker with set_wake::notify: an unpark that saw holding_ false wrote the worker's own
    // descriptor, which is not in the set; its token_ store is visible here, so do not block.
    static constexpr ::timespec zero{0, 0};
    if (wake.token_.load(std::memory_order_seq_cst) != 0) timeout = &zero;
    wait_and_dispatch(timeout);
    wake.holding_.store(false, std::memory_order_seq_cst);
    unlock_and_redispatch(lock);
    return true;
}

bool set_wake::notify(readiness_set& set) noexcept {
    token_.store(1, std::memory_order_seq_cst);
    if (!holding_.load(std::memory_order_seq_cst)) return false;
    set.holder_wake_.signal();
    return true;
}

void readiness_set::unlock_and_redispatch(std::unique_lock<std::mutex>& lock) noexcept {
    static constexpr ::timespec zero{0, 0};
    for (;;) {
        lock.unlock();
        if (!pending_.load(std::memory_order_seq_cst) || !lock.try_lock()) return;
        wait_and_dispatch(&zero);
    }
}

void readiness_set::wait_and_dispatch(const ::timespec* timeout) noexcept {
    pending_.store(false, std::memory_order_seq_cst);
    free_released_locked();
    std::array<::epoll_event, 256> evs;
    for (;;) {
        const int n = ::epoll_pwait2(epfd_, evs.data(), static_cast<int>(evs.size()), timeout, nullptr);
        for (int i = 0; i < n; ++i) {
            auto* s = static_cast<scheduled_io*>(evs[i].data.ptr);
            const std::uint32_t e = evs[i].events;
            if (!s) {
                holder_wake_.drain();
                continue;
            }
            (void)s->published_.load(std::memory_order_acquire);  // pairs with add()
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
        if (n < static_cast<int>(evs.size())) break;
        // A full array: more may be ready; take them without blocking.
        static constexpr ::timespec zero{0, 0};
        timeout = &zero;
    }
}

std::shared_ptr<readiness_set> readiness_set::of_group(std::shared_ptr<void>& group) {
    if (group) return std::static_pointer_cast<readiness_set>(group);
    auto set = std::make_shared<readiness_set>();
    group = set;
    return set;
}

}  // namespace corio::detail::io
