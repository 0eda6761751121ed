// readiness_set: the runtime's shared epoll set, where sockets wait for readiness (mio / Tokio's
// model) under both backends: the epoll driver always, the io_uring driver unless
// CORIO_IO_NET=ring (reactor.hpp, net_model).
//
// Why shared: with a set per worker (the first design), a descriptor's readiness was dispatched
// only by the worker whose set held it. On a loaded machine the kernel preempts workers, and a
// preempted worker held its connections' readiness for a whole CFS slice (3-4 ms) while the
// other worker idled: `http_hello` p99 ~4 ms against Tokio's ~1 ms (docs/performance.md).
//
// Holder:   one epoll instance per runtime holding every registered descriptor (edge-triggered,
//           read and write at once) and a holder-wake eventfd. A parking worker that gets the
//           set's lock (try_lock; Tokio's driver TryLock) waits in it and dispatches what is
//           ready; the others wait on their own eventfd. A busy worker's maintenance poll
//           (park(0)) dispatches too, if it gets the lock. While a worker runs, nobody may be in
//           the set: its events wait for the next park or maintenance poll (as in Tokio), never
//           for one particular worker. The io_uring driver may also take the holder role without
//           waiting in the set (try_hold): it waits in its ring, watching fd() from there.
// Unpark:   set_wake (below): the set's holder-wake eventfd if the worker waits in the set, else
//           its own eventfd.
// Operations (readiness_source.cpp): try the system call non-blocking; on EAGAIN register the
//   waker, then try once more (a readiness edge between the two is either seen by the retry or
//   wakes the new waker). No kernel operation is ever in flight, so cancellation is free and
//   never loses bytes.
// Deregistration: EPOLL_CTL_DEL from any thread, then the scheduled_io goes to the release list
//   and is freed under the set's lock: an event array returned before the DEL may point at it
//   until it is dispatched, and arrays are only fetched and dispatched under that lock.
#pragma once

#include "wake_fd.hpp"

#include <corio/runtime/detail/atomic_waker.hpp>

#include <time.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

namespace corio::detail::io {

class readiness_set;

// How an unpark reaches a worker that may be waiting in the shared set: one per worker, used by
// both drivers.
//   token_    an unpark not yet consumed by park: stored (seq_cst) by unpark, exchanged to 0 by park.
//   holding_  the worker waits in the set (only its own thread stores it, seq_cst).
// notify() is "store token_, load holding_"; readiness_set::try_park is "store holding_, load
// token_": a Dekker pair, so either the unpark sees holding_ and writes the set's holder-wake
// eventfd, or the worker sees the token and does not block. An unpark is never sent only to a
// descriptor the worker is not waiting on.
struct set_wake {
    std::atomic<std::uint32_t> token_{0};
    std::atomic<bool> holding_{false};

    // True if the worker holds the set and the set's holder was woken; false: wake it your way.
    bool notify(readiness_set& set) noexcept;
};

// The readiness state of one registered descriptor.
struct scheduled_io {
    atomic_waker reader_;
    atomic_waker writer_;
    // Readiness edges dispatched so far, per direction: bumped by the harvester (release) before
    // it wakes that direction's waker. An operation that got EAGAIN registers its waker and then
    // compares with the count it read before its attempt: unchanged means no edge came in
    // between (the next one will find the waker), so it skips the retry system call. Why that
    // is enough: the bump is sequenced before wake()'s acq_rel RMW on the waker state and the
    // registration is an acq_rel RMW on the same state, so a registration ordered after the
    // wake also sees the bump; one ordered before it is woken by it.
    std::atomic<std::uint32_t> read_edges_{0};
    std::atomic<std::uint32_t> write_edges_{0};
    // Sticky (never cleared), set by the harvester before it bumps the edge count: the peer
    // closed (EPOLLRDHUP/HUP) or the socket failed (ERR). A short read does not consume an EOF or
    // an error that arrived with the data, so a closed side is never assumed idle (Tokio keeps
    // its READ_CLOSED/WRITE_CLOSED bits for the same reason).
    std::atomic<bool> read_closed_{false};
    std::atomic<bool> write_closed_{false};
    readiness_set* owner_ = nullptr;  // set once before the EPOLL_CTL_ADD
    // Stored true (release) after construction, before the EPOLL_CTL_ADD; loaded (acquire) by a
    // dispatcher before it touches the rest. The kernel already orders the ADD before any event
    // it reports, but ThreadSanitizer cannot see that, and the dispatcher is usually another
    // thread than the registering one now that the set is shared.
    std::atomic<bool> published_{false};
};

class readiness_set {
public:
    readiness_set();
    ~readiness_set();
    // The runtime's set, kept in its drivers' shared slot: created by the first caller.
    static std::shared_ptr<readiness_set> of_group(std::shared_ptr<void>& group);
    readiness_set(const readiness_set&) = delete;
    readiness_set& operator=(const readiness_set&) = delete;

    // Any thread. 0 or an errno.
    int add(int fd, scheduled_io* s) noexcept;
    // Any thread: removes fd and frees `s` once no dispatch can be using it.
    void remove(int fd, scheduled_io* s) noexcept;
    bool has_registrations() const noexcept { return registered_.load(std::memory_order_relaxed) > 0; }
    std::size_t registration_count() const noexcept { return registered_.load(std::memory_order_relaxed); }
    // Any thread: dispatches what is ready now, without blocking. If another thread holds the
    // set, it leaves pending_ set and that thread dispatches again after it lets go (so an event
    // that came in after the holder's epoll_wait is not left behind). The io_uring driver calls
    // it when its poll on fd() fires.
    void harvest() noexcept;
    // Dispatches what is ready now if nobody holds the set (a busy worker's maintenance tick).
    void try_poll() noexcept;
    // A worker's park in the set: if the set is free, takes it, waits in it up to `timeout`
    // (nullptr: forever; zero: just poll; zero anyway if `wake` has a token), dispatches, lets
    // go. False, at once, if another thread holds it.
    bool try_park(set_wake& wake, const ::timespec* timeout) noexcept;
    // The holder role without a wait in the set (the io_uring driver, while it waits in its ring
    // with a poll on fd() there): the returned lock owns the set if it was free. Give it back with
    // release_hold, which dispatches again if a harvest() came in meanwhile (as try_park does).
    std::unique_lock<std::mutex> try_hold() noexcept { return std::unique_lock(mutex_, std::try_to_lock); }
    void release_hold(std::unique_lock<std::mutex>& hold) noexcept { unlock_and_redispatch(hold); }
    int fd() const noexcept { return epfd_; }

private:
    friend struct set_wake;  // notify() wakes the holder
    // The holder's unlock: dispatches again (polling) while a harvest() asked for it meanwhile.
    void unlock_and_redispatch(std::unique_lock<std::mutex>& lock) noexcept;
    // Caller holds mutex_: waits up to `timeout` (nullptr: forever) and dispatches.
    void wait_and_dispatch(const ::timespec* timeout) noexcept;
    void free_released_locked() noexcept;

    wake_fd holder_wake_;       // in the set, level-triggered; signalled to wake the holder
    int epfd_ = -1;
    std::mutex mutex_;          // held by the worker waiting in / dispatching the set
    std::mutex release_mutex_;
    std::vector<scheduled_io*> released_;      // guarded by release_mutex_
    std::atomic<bool> has_released_{false};    // relaxed hint; the mutex orders the vector
    std::atomic<std::size_t> registered_{0};   // add() minus remove(); a hint (relaxed)
    // A harvest() found the set held. Set (seq_cst) before its try_lock; cleared by the holder
    // before each epoll_wait and re-read (seq_cst) after unlocking: either the holder sees it
    // and dispatches again, or the harvester's try_lock comes after the unlock and succeeds.
    std::atomic<bool> pending_{false};
};

}  // namespace corio::detail::io
