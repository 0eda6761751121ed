// epoll_driver: the readiness fallback (mio / Tokio's model), one epoll instance per worker.
//
// Registration: a descriptor is added, edge-triggered for read and write at once, to the epoll
//   of the worker that first waits on it (scheduled_io, below); that worker dispatches its
//   readiness to the reader and writer wakers wherever those tasks run.
// Operations: try the system call non-blocking; on EAGAIN register the waker, then try once more
//   (a readiness edge between the two is either seen by the retry or wakes the new waker). No
//   kernel operation is ever in flight, so cancellation is free and never loses bytes.
// Unpark: an eventfd in the epoll set (level-triggered; drained on wake-up).
// Deregistration: EPOLL_CTL_DEL from any thread, then the scheduled_io goes to the owner's
//   release list and is freed at the start of the owner's next park: an event array returned
//   before the DEL may still point at it until the owner has dispatched it.
#pragma once

#include "atomic_waker.hpp"
#include "reactor.hpp"

#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <vector>

namespace corio::detail::io {

class epoll_driver;

// The readiness state of one registered descriptor.
struct scheduled_io {
    atomic_waker reader_;
    atomic_waker writer_;
    // Readiness edges dispatched so far, per direction: bumped by the owner (release) before it
    // wakes that direction's waker. An operation that got EAGAIN registers its waker and then
    // compares with the count it read before its attempt: unchanged means no edge came in
    // between (the next one will find the waker), so it skips the retry system call. Why that
    // is enough: the bump is sequenced before wake()'s acq_rel RMW on the waker state and the
    // registration is an acq_rel RMW on the same state, so a registration ordered after the
    // wake also sees the bump; one ordered before it is woken by it.
    std::atomic<std::uint32_t> read_edges_{0};
    std::atomic<std::uint32_t> write_edges_{0};
    // Sticky (never cleared), set by the owner before it bumps the edge count: the peer closed
    // (EPOLLRDHUP/HUP) or the socket failed (ERR). A short read does not consume an EOF or an
    // error that arrived with the data, so a closed side is never assumed idle (Tokio keeps its
    // READ_CLOSED/WRITE_CLOSED bits for the same reason).
    std::atomic<bool> read_closed_{false};
    std::atomic<bool> write_closed_{false};
    epoll_driver* owner_ = nullptr;  // set once before the EPOLL_CTL_ADD
};

class epoll_driver final : public reactor {
public:
    explicit epoll_driver(const void* worker_key);
    ~epoll_driver() override;

    void park(std::optional<std::chrono::nanoseconds> timeout) override;
    void unpark() noexcept override;
    // Descriptors registered here (an idle connection still waits for the kernel).
    bool io_pending() const noexcept override { return registered_.load(std::memory_order_relaxed) > 0; }

    // Any thread. 0 or an errno.
    int add(int fd, scheduled_io* s) noexcept;
    // Any thread: removes fd and frees `s` once the owner cannot be dispatching it.
    void remove(int fd, scheduled_io* s) noexcept;

private:
    void free_released() noexcept;

    int epfd_ = -1;
    int eventfd_ = -1;
    std::mutex release_mutex_;
    std::vector<scheduled_io*> released_;  // guarded by release_mutex_
    std::atomic<bool> has_released_{false};  // relaxed hint; the mutex orders the vector
    std::atomic<std::size_t> registered_{0};  // add() minus remove(); a hint (relaxed)
};

}  // namespace corio::detail::io
