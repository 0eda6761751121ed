// The process-wide signal registry behind corio::signal (the seam the listeners call is
// corio/signal/detail/registry.hpp).
//
// Delivery path (Tokio's signal driver, with a dispatcher thread in place of the io driver, so
// signals work the same on the io_uring and epoll backends and on plain threads):
//
//   signal handler (any thread)            dispatcher thread (one per process, lazy)
//   ---------------------------            ------------------------------------------
//   slot.raised += 1  (relaxed)            read(eventfd)            <- blocks here
//   write(eventfd, 1) (async-signal-safe)  for each slot with raised != seen_raised:
//                                              lock; ++generation; take the waiters; unlock
//                                              wake each waiter
//
// The handler only does an atomic increment and a write(2), the two things a handler may do.
// Listeners compare the slot's generation with the last one they saw: several deliveries between
// two receives coalesce into one (as with Tokio and with POSIX signals themselves).
//
// Invariants:
//   * slot::raised_   written by the handler only (fetch_add, relaxed: the eventfd write/read pair
//                      orders it before the dispatcher's load); read by the dispatcher.
//   * slot::generation_, waiters_  guarded by slot::mutex_. generation_ only grows.
//   * A listener registers its waker under the mutex after checking generation_ under the same
//     mutex, and the dispatcher bumps generation_ and takes the waiters under it: no lost wake.
//   * waiter::hook and waiter::w are guarded by slot::mutex_ (the dispatcher unlinks and takes
//     the waker from its thread); a node is linked iff waiters_.contains() it. A node holds a
//     waker clone only while linked: poll() drops it when it reports ready, cancel() when it
//     unlinks the node, fire() takes it to wake it.
//   * Handlers are installed once per signal and never removed (as Tokio: once a program listens
//     for SIGINT, ctrl-c no longer ends it by default).
#include <corio/signal/detail/registry.hpp>

#include <array>
#include <cerrno>
#include <csignal>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

namespace corio::signal::detail {

namespace {

class slot {
public:
    std::atomic<std::uint64_t> raised_{0};  // handler-side count
    std::uint64_t seen_raised_ = 0;         // dispatcher thread only
    std::once_flag installed_;
    std::error_code install_error_;          // set once, under installed_

    std::uint64_t generation() {
        std::lock_guard lock(mutex_);
        return generation_;
    }

    // True if a generation newer than `seen` exists (and `seen` is advanced to it); otherwise
    // `n` is linked with a clone of `w`.
    bool poll(std::uint64_t& seen, waiter& n, waker_ref w) {
        waker old;  // dropped after the unlock
        std::lock_guard lock(mutex_);
        if (generation_ != seen) {
            seen = generation_;
            if (waiters_.contains(&n)) waiters_.remove(&n);
            old = std::move(n.w);
            return true;
        }
        if (!n.w.will_wake(w)) old = std::exchange(n.w, w.clone());
        if (!waiters_.contains(&n)) waiters_.push_front(&n);
        return false;
    }

    // Unlinks `n` (if the dispatcher did not already take it) and drops its waker: nothing of the
    // node is left in the slot. Consumes no generation.
    void cancel(waiter& n) noexcept {
        waker old;  // dropped after the unlock
        std::lock_guard lock(mutex_);
        if (waiters_.contains(&n)) waiters_.remove(&n);
        old = std::move(n.w);
    }

    // Dispatcher: a new generation; wakes everyone waiting.
    void fire() {
        std::vector<waker> wake;
        {
            std::lock_guard lock(mutex_);
            ++generation_;
            while (waiter* n = waiters_.pop_front()) wake.push_back(std::move(n->w));
        }
        for (auto& w : wake) std::move(w).wake();
    }

private:
    std::mutex mutex_;
    std::uint64_t generation_ = 0;                                   // guarded by mutex_
    ::corio::detail::intrusive_list<waiter, &waiter::hook> waiters_;  // guarded by mutex_
};

class registry {
public:
    static registry& get() {
        // Never destroyed: a signal may arrive during static destruction.
        static registry* r = new registry();
        return *r;
    }

    slot& at(int signo) { return slots_[static_cast<std::size_t>(signo)]; }

    // Installs the handler for `signo` (once) and starts the dispatcher (once).
    std::error_code ensure_installed(int signo) {
        std::call_once(start_, [this] { start_dispatcher(); });
        if (start_error_) return start_error_;
        slot& s = at(signo);
        std::call_once(s.installed_, [&s, signo] {
            struct sigaction sa {};
            sa.sa_handler = &handle;
            sigemptyset(&sa.sa_mask);
            sa.sa_flags = SA_RESTART;
            if (::sigaction(signo, &sa, nullptr) != 0) s.install_error_ = std::error_code(errno, std::system_category());
        });
        return s.install_error_;
    }

private:
    registry() = default;

    static void handle(int signo) {
        const int saved = errno;
        registry& r = *instance_for_handler();
        r.slots_[static_cast<std::size_t>(signo)].raised_.fetch_add(1, std::memory_order_relaxed);
        const std::uint64_t one = 1;
        [[maybe_unused]] ssize_t n = ::write(r.event_fd_, &one, sizeof one);
        errno = saved;
    }

    // The handler must not run a function-local static's guard: it reads this plain pointer,
    // published before any handler is installed.
    static registry*& instance_for_handler() {
        static registry* p = nullptr;
        return p;
    }

    void start_dispatcher() {
        event_fd_ = ::eventfd(0, EFD_CLOEXEC);
        if (event_fd_ < 0) {
            start_error_ = std::error_code(errno, std::system_category());
            return;
        }
        instance_for_handler() = this;
        std::thread([this] { dispatch(); }).detach();
    }

    void dispatch() {
        // Signals are handled on whichever thread the kernel picks; this thread only fans out.
        sigset_t all;
        sigfillset(&all);
        pthread_sigmask(SIG_BLOCK, &all, nullptr);
        // Its own name (it would inherit the creating worker's): a thread list or a dump shows
        // which thread never takes a signal.
        pthread_setname_np(pthread_self(), "corio-signals");
        for (;;) {
            std::uint64_t v;
            const ssize_t n = ::read(event_fd_, &v, sizeof v);
            if (n < 0 && errno == EINTR) continue;
            for (auto& s : slots_) {
                const std::uint64_t raised = s.raised_.load(std::memory_order_relaxed);
                if (raised != s.seen_raised_) {
                    s.seen_raised_ = raised;
                    s.fire();
                }
            }
        }
    }

    std::array<slot, max_signal> slots_;
    std::once_flag start_;
    std::error_code start_error_;
    int event_fd_ = -1;
};

}  // namespace

std::error_code ensure_installed(int signo) { return registry::get().ensure_installed(signo); }

std::uint64_t current_generation(int signo) { return registry::get().at(signo).generation(); }

bool poll_generation(int signo, std::uint64_t& seen, waiter& n, waker_ref w) {
    return registry::get().at(signo).poll(seen, n, w);
}

void cancel_wait(int signo, waiter& n) noexcept { registry::get().at(signo).cancel(n); }

}  // namespace corio::signal::detail
