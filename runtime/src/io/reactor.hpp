// reactor: the io driver a worker parks in (io_uring or epoll). Each worker owns one, created with
// the worker (make_reactor) and reached through it (worker::reactor(), current_reactor()); the
// worker's parker owns time_driver(wheel, reactor), the reactor being the inner driver that
// actually blocks (docs/design/io.md has the diagram).
//   - uring_driver: one ring per worker. Operations are submitted to the ring of the worker that
//     polls them (no lock: only that worker's thread touches its submission queue); completions
//     wake the task through its waker wherever it runs now. Sockets, by default, wait in the
//     runtime's shared readiness set instead (net_model below).
//   - epoll_driver: the runtime's shared readiness set alone (readiness_set.hpp): a descriptor is
//     registered (edge-triggered) once, and whichever worker parks holding the set, or polls it
//     between tasks, dispatches its readiness.
// The backend is chosen once per process (backend()): CORIO_IO_BACKEND=epoll|io_uring forces
// one; otherwise io_uring, unless a probe ring cannot be set up (EPERM under Docker's seccomp
// profile, ENOSYS, io_uring_disabled...), in which case epoll, said once on stderr.
#pragma once

#include "../driver.hpp"

#include <memory>

namespace corio::detail::io {

enum class backend_kind { io_uring, epoll };

// The process-wide backend (decided on first call, thread-safe).
backend_kind backend() noexcept;

class readiness_set;
class uring_driver;

// How sockets wait under io_uring (CORIO_IO_NET=readiness|ring, decided once per process):
// `readiness` (the default) registers them in the runtime's shared epoll set, which a parked
// worker waits in (or watches from its ring) and any free worker dispatches, and makes the
// non-blocking system call itself: a preempted worker then holds nobody's connections (p99 ~1 ms
// instead of ~4 ms under wrk on 2 vCPUs; docs/design/io.md). `ring` submits socket operations to
// the ring of the worker that polls them (completion-based, cancelled in the kernel). The epoll
// backend always uses the shared set. Files always go through the ring under io_uring.
enum class net_model { readiness, ring };
net_model net() noexcept;

class reactor : public driver {
public:
    explicit reactor(backend_kind k) noexcept : kind_(k) {}
    backend_kind kind() const noexcept { return kind_; }
    // The shared readiness set sockets wait in, or null (io_uring with CORIO_IO_NET=ring).
    readiness_set* readiness() const noexcept { return readiness_; }
    // This reactor's ring (the io_uring backend), or null (epoll).
    uring_driver* ring() const noexcept { return uring_; }

protected:
    readiness_set* readiness_ = nullptr;  // set once by the derived constructor
    uring_driver* uring_ = nullptr;       // set once by uring_driver's constructor

private:
    const backend_kind kind_;
};

// A worker's reactor, of the process's backend. `current_thread`: the runtime is the
// current_thread flavour (its worker is driven by whichever thread calls block_on). `group`: the
// runtime's slot for state its workers' reactors share (the readiness set), empty at the first
// call.
std::unique_ptr<reactor> make_reactor(bool current_thread, std::shared_ptr<void>& group);

// The reactor of the worker whose thread is calling (a multi_thread worker, or the thread driving
// a current_thread runtime in block_on), or null elsewhere.
reactor* current_reactor() noexcept;

}  // namespace corio::detail::io
