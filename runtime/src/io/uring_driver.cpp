#include "uring_driver.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>

namespace corio::detail::io {

namespace {
constexpr unsigned sq_entries = 256;
constexpr unsigned cq_entries = 4096;

int setup_ring(::io_uring& ring, unsigned flags) noexcept {
    ::io_uring_params p{};
    p.flags = flags | IORING_SETUP_CQSIZE;
    p.cq_entries = cq_entries;
    return ::io_uring_queue_init_params(sq_entries, &ring, &p);
}
}  // namespace

int uring_driver::probe() noexcept {
    ::io_uring ring{};
    const int r = ::io_uring_queue_init(2, &ring, 0);
    if (r < 0) return -r;
    const bool ext_arg = ring.features & IORING_FEAT_EXT_ARG;  // needed for the timed wait
    ::io_uring_queue_exit(&ring);
    return ext_arg ? 0 : ENOSYS;
}

uring_driver::uring_driver(bool current_thread, std::shared_ptr<void>& group)
    : reactor(backend_kind::io_uring) {
    uring_ = this;
    if (net() == net_model::readiness) {
        set_ = readiness_set::of_group(group);
        readiness_ = set_.get();
    }
    int r = -EINVAL;
    if (!current_thread) r = setup_ring(ring_, IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG);
    if (r == -EINVAL) r = setup_ring(ring_, 0);
    if (r < 0) throw std::system_error(-r, std::system_category(), "creating io_uring");
}

uring_driver::~uring_driver() {
    shutdown();
    ::io_uring_queue_exit(&ring_);
}

void uring_driver::shutdown() noexcept {
    if (closing_) return;
    closing_ = true;
    drain_remote();
    if (::io_uring_sqe* sqe = get_sqe()) {
        ::io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ANY);
        ::io_uring_sqe_set_data64(sqe, tag_ignore);
    }
    // Wait (bounded) for every CQE, so cells and their buffers are freed only after the kernel
    // is done with them, and for the eventfd poll and the readiness poll (the cancel-all ends
    // them too), whose targets live in this object.
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while ((in_flight_.get() > 0 || eventfd_armed_ || readiness_armed_) && std::chrono::steady_clock::now() < give_up) {
        ::__kernel_timespec ts{0, 10'000'000};
        ::io_uring_cqe* cqe = nullptr;
        ::io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, &ts, nullptr);
        reap();
    }
}

::io_uring_sqe* uring_driver::get_sqe() noexcept {
    ::io_uring_sqe* sqe = ::io_uring_get_sqe(&ring_);
    while (!sqe) {
        // SQ full: hand the batch to the kernel now.
        const int r = ::io_uring_submit(&ring_);
        if (r < 0 && r != -EINTR && r != -EAGAIN && r != -EBUSY) return nullptr;
        sqe = ::io_uring_get_sqe(&ring_);
        if (!sqe && r <= 0) reap();  // CQ pressure (EBUSY): make room, then retry
    }
    return sqe;
}

::io_uring_sqe* uring_driver::start(uring_op* op) noexcept {
    ::io_uring_sqe* sqe = get_sqe();
    if (!sqe) return nullptr;
    op->ring_ = this;
    op->retain();  // the ring's reference, dropped in reap()
    in_flight_.add();
    ::io_uring_sqe_set_data(sqe, op);
    return sqe;
}

static_assert(alignof(uring_op) > 1, "the cancel tag needs a free low bit");

void uring_driver::submit_cancel(uring_op* op) noexcept {
    if (op->is_done()) return;
    if (::io_uring_sqe* sqe = get_sqe()) {
        ::io_uring_prep_cancel(sqe, op, 0);
        op->retain();  // released at the cancel's CQE (tag_cancel_bit)
        in_flight_.add();
        ::io_uring_sqe_set_data64(sqe, reinterpret_cast<std::uintptr_t>(op) | tag_cancel_bit);
    }
}

void uring_driver::cancel(uring_op* op) noexcept {
    if (op->is_done()) return;
    if (op->cancel_.exchange(true, std::memory_order_acq_rel)) return;
    if (current_reactor() == this) {
        submit_cancel(op);
        return;
    }
    // Another thread: the owner submits it. The queued entry holds a reference, so the cell
    // survives even if its CQE is reaped before the owner gets to the queue.
    op->retain();
    {
        std::lock_guard lock(remote_mutex_);
        remote_cancels_.push_back(op);
        has_remote_.store(true, std::memory_order_relaxed);
    }
    unpark();
}

void uring_driver::drain_remote() noexcept {
    if (!has_remote_.load(std::memory_order_relaxed)) return;
    std::vector<uring_op*> v;
    {
        std::lock_guard lock(remote_mutex_);
        v.swap(remote_cancels_);
        has_remote_.store(false, std::memory_order_relaxed);
    }
    for (uring_op* op : v) {
        if (!closing_) submit_cancel(op);
        op->release();
    }
}

void uring_driver::arm_eventfd() noexcept {
    if (eventfd_armed_ || closing_) return;
    ::io_uring_sqe* sqe = get_sqe();
    if (!sqe) return;
    // Level-triggered: a counter already set completes it at once.
    ::io_uring_prep_poll_add(sqe, own_wake_.fd(), POLLIN);
    ::io_uring_sqe_set_data64(sqe, tag_eventfd);
    eventfd_armed_ = true;
}

void uring_driver::arm_readiness() noexcept {
    if (!set_ || readiness_armed_ || closing_) return;
    ::io_uring_sqe* sqe = get_sqe();
    if (!sqe) return;
    // One-shot, armed only by a worker that holds the set while it waits in its ring (park): a
    // poll in every ring woke every parked worker for each readiness edge (a thundering herd:
    // 0.6 context switches and 1.5 waits per request in http_hello). Not EPOLLEXCLUSIVE either
    // way: the one poll woken could be that of a busy worker while an idle one slept.
    ::io_uring_prep_poll_add(sqe, set_->fd(), POLLIN);
    ::io_uring_sqe_set_data64(sqe, tag_readiness);
    readiness_armed_ = true;
}

void uring_driver::reap() noexcept {
    for (;;) {
        unsigned head;
        unsigned n = 0;
        ::io_uring_cqe* cqe;
        io_uring_for_each_cqe(&ring_, head, cqe) {
            ++n;
            const std::uint64_t tag = cqe->user_data;
            if (tag == tag_ignore) continue;
            if (tag == tag_eventfd) {
                eventfd_armed_ = false;
                eventfd_fired_ = eventfd_fired_ || cqe->res > 0;
                continue;
            }
            if (tag == tag_readiness) {
                readiness_armed_ = false;
                readiness_fired_ = readiness_fired_ || cqe->res > 0;
                continue;
            }
            in_flight_.sub();
            if (tag & tag_cancel_bit) {
                reinterpret_cast<uring_op*>(static_cast<std::uintptr_t>(tag & ~tag_cancel_bit))->release();
                continue;
            }
            auto* op = reinterpret_cast<uring_op*>(static_cast<std::uintptr_t>(tag));
            op->res_ = cqe->res;
            // Release: publishes res_ (and what the kernel wrote into buf_/addr_, ordered by the
            // CQE read above) to the task's acquire load of done_.
            op->done_.store(true, std::memory_order_release);
            op->waker_.wake();
            op->release();
        }
        if (n) {
            ::io_uring_cq_advance(&ring_, n);
            continue;
        }
        // Nothing visible: deferred task work or an overflow needs one trip into the kernel.
        const unsigned flags = IO_URING_READ_ONCE(*ring_.sq.kflags);
        if (flags & (IORING_SQ_TASKRUN | IORING_SQ_CQ_OVERFLOW)) {
            ::io_uring_get_events(&ring_);
            if (::io_uring_cq_ready(&ring_)) continue;
        }
        break;
    }
    if (std::exchange(eventfd_fired_, false)) own_wake_.drain();
}

void uring_driver::wait_in_ring(std::optional<std::chrono::nanoseconds> timeout) noexcept {
    ::io_uring_cqe* cqe = nullptr;
    if (timeout) {
        ::__kernel_timespec ts{};
        ts.tv_sec = timeout->count() / 1'000'000'000;
        ts.tv_nsec = timeout->count() % 1'000'000'000;
        ::io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, &ts, nullptr);
    } else {
        ::io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, nullptr, nullptr);
    }
}

void uring_driver::park(std::optional<std::chrono::nanoseconds> timeout) {
    drain_remote();
    // Acquire: pairs with unpark's store (an unpark before this park makes it return at once).
    const bool notified = wake_.token_.exchange(0, std::memory_order_seq_cst) != 0;
    if (notified || (timeout && timeout->count() <= 0) || ::io_uring_cq_ready(&ring_) > 0) {
        // Poll: hand over the batch, reap what is there, dispatch the set if it is free.
        if (::io_uring_sq_ready(&ring_) > 0) ::io_uring_submit(&ring_);
        reap();
        // After the CQ is advanced: the dispatch wakes tasks, and waking never re-enters the ring.
        if (set_) std::exchange(readiness_fired_, false) ? set_->harvest() : set_->try_poll();
        return;
    }
    if (set_ && in_flight_.get() == 0) {
        // Sockets only: nothing of ours is in the ring (in_flight_ counts every op from start(),
        // submitted or not), so park exactly as the epoll driver does: in the set if we can take
        // it (unparks then go to its holder-wake eventfd: set_wake), else on our own eventfd.
        // One wait and one wake per readiness batch, no ring round trip.
        ::timespec ts{};
        if (timeout) ts = to_timespec(*timeout);
        if (!set_->try_park(wake_, timeout ? &ts : nullptr)) own_wake_.wait(timeout);
        wake_.token_.store(0, std::memory_order_relaxed);
        reap();  // a poll armed by an earlier ring wait may have completed
        if (std::exchange(readiness_fired_, false)) set_->harvest();
        return;
    }
    // Ring operations in flight (files, a cancel; or every socket op under CORIO_IO_NET=ring)
    // must be waited for in the ring: their completions are this thread's task work. If we take
    // the set, watch it from the ring with a one-shot poll, so its readiness is not left waiting
    // while we sleep.
    std::unique_lock<std::mutex> hold;
    if (set_) {
        hold = set_->try_hold();
        if (hold.owns_lock()) arm_readiness();
    }
    arm_eventfd();
    wait_in_ring(timeout);
    wake_.token_.store(0, std::memory_order_relaxed);
    reap();
    if (!set_) return;
    if (hold.owns_lock()) set_->release_hold(hold);
    // Our poll fired (armed now, or while we held the set before): dispatch, or leave it pending
    // for whoever holds the set meanwhile.
    if (std::exchange(readiness_fired_, false)) set_->harvest();
}

void uring_driver::unpark() noexcept {
    if (set_ && wake_.notify(*set_)) return;
    own_wake_.signal();
}

}  // namespace corio::detail::io
