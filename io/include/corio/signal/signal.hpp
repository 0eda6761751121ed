/// \file
/// corio/signal/signal.hpp — Unix signals as awaitables (Tokio's tokio::signal).
///
///     // graceful shutdown: the first ctrl-c (SIGINT) or SIGTERM ends the serve loop
///     auto term = corio::signal::signal(SIGTERM).value();
///     auto r = co_await corio::select(corio::branch(corio::signal::ctrl_c(), ...),
///                                     corio::branch(term.recv(), ...), ...);
///
///     // config reload on SIGHUP
///     auto hup = corio::signal::signal(SIGHUP).value();
///     while (co_await hup.recv()) reload();
///
/// Semantics (as Tokio):
///   * A listener sees every delivery that happens after it was created; several deliveries
///     between two receives are seen as one (POSIX signals coalesce too).
///   * Listening installs a process-wide handler for that signal, once, for the rest of the
///     process: its default action (e.g. SIGINT/SIGTERM ending the process) no longer happens.
///     That is the point: the program decides how to exit.
///   * SIGKILL, SIGSTOP, SIGSEGV, SIGBUS, SIGFPE and SIGILL cannot be listened for
///     (std::errc::invalid_argument), nor can numbers outside 1..64.
///   * Works on any runtime flavor and backend, and from plain threads (blocking_recv): the
///     handler only bumps a counter and writes an eventfd; a dispatcher thread wakes listeners
///     (io/src/signal/registry.cpp).
///
/// Cancel safety: recv() and ctrl_c() are cancel safe. An abandoned recv() consumed nothing: a
/// delivery it did not report is reported by the listener's next recv(). cancel() (the leaf
/// contract) unlinks the operation from the signal's waiters and drops its waker; polled again,
/// it reports a delivery that happened meanwhile.
#pragma once

#include <corio/result.hpp>
#include <corio/runtime/leaf.hpp>
#include <corio/signal/detail/registry.hpp>

#include <csignal>
#include <cstdint>
#include <optional>
#include <system_error>
#include <utility>

namespace corio::signal {

/// Listens for one signal. Move-only; each listener keeps its own "last seen" position.
class listener {
public:
    listener(const listener&) = delete;
    listener& operator=(const listener&) = delete;
    /// Moves the listener and its last-seen position.
    listener(listener&& o) noexcept : signo_(o.signo_), seen_(o.seen_) {}
    /// Takes over `o`'s signal and last-seen position.
    listener& operator=(listener&& o) noexcept {
        signo_ = o.signo_;
        seen_ = o.seen_;
        return *this;
    }

    /// The signal number this listener is for.
    int signo() const noexcept { return signo_; }

    /// `co_await l.recv()`: completes (yielding true) once the signal is delivered after the
    /// listener's last receive (or its creation). Never yields false today; the bool keeps the
    /// `while (co_await l.recv())` loop idiom of Tokio's Option<()>.
    class [[nodiscard]] recv_operation final : public leaf_awaiter<recv_operation> {
    public:
        /// Made by recv(); not called directly.
        explicit recv_operation(listener* l) noexcept : l_(l) {}
        recv_operation(const recv_operation&) = delete;
        recv_operation& operator=(const recv_operation&) = delete;
        ~recv_operation() { recv_operation::cancel(); }
        /// Ready if a delivery happened since the last one reported; else joins the signal's
        /// waiters with the task's waker.
        bool poll(context& cx) noexcept override {
            pending_ = !detail::poll_generation(l_->signo_, l_->seen_, node_, cx.waker());
            return !pending_;
        }
        /// Leaves the signal's waiters and drops the waker; a delivery not reported stays for the
        /// next recv().
        void cancel() noexcept override {
            if (std::exchange(pending_, false)) detail::cancel_wait(l_->signo_, node_);
        }
        /// Always true (see recv_operation).
        bool await_resume() const noexcept { return true; }

    private:
        listener* l_;
        detail::waiter node_;  // linked (under the slot's mutex) while pending
        // The last poll was pending: node_ may be linked (the dispatcher unlinks it when it
        // fires). Set by poll, cleared by a ready poll and by cancel(). Task-side only: the
        // node's own fields are read under the slot's mutex.
        bool pending_ = false;
    };

    /// `co_await l.recv()`: see recv_operation.
    recv_operation recv() noexcept { return recv_operation(this); }

    /// Blocking twin of recv(), for plain threads (not on a runtime worker).
    bool blocking_recv() {
        recv_operation op(this);
        ::corio::detail::blocking_poll(op);
        return op.await_resume();
    }

    /// Stream form (docs/streams.md): each delivery is an item, the signal number.
    bool poll_next(context& cx, std::optional<int>& out) noexcept {
        if (!pending_) pending_.emplace(this);
        if (!pending_->poll(cx)) return false;
        pending_.reset();
        out.emplace(signo_);
        return true;
    }

private:
    friend result<listener, std::error_code> signal(int signo);
    listener(int signo, std::uint64_t seen) noexcept : signo_(signo), seen_(seen) {}

    // A recv kept between poll_next calls (its node stays linked while pending).
    struct pending_recv {
        explicit pending_recv(listener* l) : op(l) {}
        recv_operation op;
        bool poll(context& cx) noexcept { return op.poll(cx); }
    };

    int signo_;
    std::uint64_t seen_;
    std::optional<pending_recv> pending_;
};

/// Whether `signo` may be listened for.
inline bool is_listenable(int signo) noexcept {
    if (signo <= 0 || signo >= detail::max_signal) return false;
    switch (signo) {
        case SIGKILL:
        case SIGSTOP:
        case SIGSEGV:
        case SIGBUS:
        case SIGFPE:
        case SIGILL: return false;
        default: return true;
    }
}

/// A listener for `signo` (SIGTERM, SIGHUP, SIGUSR1, ...). Deliveries from now on are seen.
inline result<listener, std::error_code> signal(int signo) {
    if (!is_listenable(signo)) return unexpected(std::make_error_code(std::errc::invalid_argument));
    if (auto ec = detail::ensure_installed(signo)) return unexpected(ec);
    // The position is taken after the handler is installed: a delivery from here on is seen.
    return listener(signo, detail::current_generation(signo));
}

/// `co_await corio::signal::ctrl_c()`: completes on the next SIGINT after this call, or with the
/// error that prevented listening. Cancel safe.
class [[nodiscard]] ctrl_c_operation : public leaf_awaiter<ctrl_c_operation> {
public:
    ctrl_c_operation() : l_(signal(SIGINT)) {
        if (l_) op_.emplace(&*l_);
    }
    ctrl_c_operation(const ctrl_c_operation&) = delete;
    ctrl_c_operation& operator=(const ctrl_c_operation&) = delete;
    /// Ready on the next SIGINT, or at once if listening failed.
    bool poll(context& cx) noexcept override { return !op_ || op_->poll(cx); }
    /// Leaves the signal's waiters (see listener::recv_operation::cancel).
    void cancel() noexcept override {
        if (op_) op_->cancel();
    }
    /// Nothing on SIGINT; the error that prevented listening otherwise.
    result<void, std::error_code> await_resume() const {
        if (!l_) return unexpected(l_.error());
        return {};
    }

private:
    result<listener, std::error_code> l_;
    std::optional<listener::recv_operation> op_;
};

/// `co_await corio::signal::ctrl_c()`: see ctrl_c_operation.
inline ctrl_c_operation ctrl_c() { return {}; }

}  // namespace corio::signal
