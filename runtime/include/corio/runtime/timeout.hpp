// corio/runtime/timeout.hpp — an operation with a deadline (Tokio's tokio::time::timeout).
//
//     auto r = co_await corio::timeout(100ms, rx.recv());   // result<std::optional<T>, time::elapsed<>>
//     if (!r) { ... }                                        // the deadline won
//     auto v = co_await corio::timeout(1s, fetch(key));      // a task<T>: runs inline, destroyed on expiry
//
// Operands: those of select (corio/runtime/select/source.hpp has the table): a leaf operation
//   (named, pinned temporary or movable), an awaitable whose operator co_await returns one
//   (join_handle, oneshot receiver), or a task<T>, run inline in the awaiting task.
// Result: result<R, time::elapsed<V>>, R what `co_await op` yields (a task<T>: T, its exception
//   rethrown). V is void, or for a send the value that was not sent: it comes back inside the
//   error (also for a named send: the timeout takes it out of the operation).
// When the deadline wins, the operation is cancelled before the timeout returns: it unregisters
//   and gives back what it held (a named operation or a pinned temporary too), a coroutine
//   operand's frame is destroyed, and a temporary join_handle's task is aborted and waited for.
//   The inner operation is polled before the deadline, so an operation ready at the deadline wins.
#pragma once

#include <corio/result.hpp>
#include <corio/runtime/leaf.hpp>
#include <corio/runtime/select/source.hpp>
#include <corio/runtime/time.hpp>

#include <optional>
#include <type_traits>
#include <utility>

namespace corio::time {

/// The combined leaf of timeout(): polls the inner operation, then the deadline. Pinned.
template <class Source>
class [[nodiscard]] timeout_operation : public leaf_awaiter<timeout_operation<Source>> {
    using leaf_t = typename Source::leaf_type;
    static constexpr bool gives_back = detail::has_take_value<leaf_t>;

public:
    /// What the inner operation yields.
    using value_type = typename Source::value_type;
    /// elapsed<V>: V is what the inner operation hands back when it is cancelled (a send's value),
    /// or void.
    using error_type = elapsed<typename detail::taken_value<leaf_t>::type>;
    /// What `co_await timeout(...)` yields: the inner result, or the elapsed error.
    using result_type = result<value_type, error_type>;

    /// Made by corio::timeout() and corio::timeout_at(); not called directly. Starts the inner
    /// operation.
    timeout_operation(instant deadline, Source&& src, bool check_clock = true)
        : sleep_(detail::current_time_handle(), deadline, check_clock), inner_(std::move(src)) {
        inner_.start();
    }
    timeout_operation(const timeout_operation&) = delete;
    timeout_operation& operator=(const timeout_operation&) = delete;

    /// Polls the inner operation, then the deadline; when the deadline wins, cancels the inner
    /// operation (taking back what it hands back) and is ready once it has stopped.
    bool poll(context& cx) noexcept override {
        if (state_ == state::timed_out) return inner_.poll_cancel(cx);
        if (state_ != state::pending) return true;
        if (inner_.poll(cx)) {
            state_ = state::ready;
            return true;
        }
        if (!sleep_.poll_deadline(cx)) return false;
        // The deadline won: the inner operation is cancelled now (it unregisters and gives back
        // what it reserved, also when it is the caller's), a send's value is taken back, and an
        // owned task is aborted and waited for, all before timeout returns.
        inner_.cancel();
        if constexpr (gives_back) taken_.emplace(inner_.leaf().take_value());
        state_ = state::timed_out;
        return inner_.poll_cancel(cx);
    }

    /// The timeout itself lost (an enclosing select, say): the inner operation and the deadline
    /// are cancelled. Final.
    void cancel() noexcept override {
        if (state_ == state::pending) state_ = state::cancelled;
        inner_.cancel();
        sleep_.cancel();
    }
    /// After cancel(): ready once nothing the inner operation started still runs.
    bool poll_cancel(context& cx) noexcept override { return inner_.poll_cancel(cx); }

    /// "timeout in 1.2s of: recv on …".
    void describe(std::string& out) const override {
        if (state_ == state::timed_out) {
            out += "timeout, elapsed; waiting for the cancelled operation to finish: ";
        } else {
            sleep_.describe_deadline("timeout", out);
            out += " of: ";
        }
        inner_.describe(out);
    }

    /// The inner operation's result, or elapsed (carrying what it handed back).
    result_type await_resume() {
        if (state_ == state::timed_out) {
            if constexpr (gives_back) return unexpected(error_type(std::move(*taken_)));
            else return unexpected(error_type{});
        }
        if constexpr (std::is_void_v<value_type>) {
            inner_.take();
            return {};
        } else {
            return inner_.take();
        }
    }

    /// The instant the timeout fires at.
    instant deadline() const noexcept { return sleep_.deadline(); }

private:
    enum class state : unsigned char { pending, ready, timed_out, cancelled };
    struct none {};
    using taken_t = std::conditional_t<gives_back, typename detail::taken_value<leaf_t>::type, none>;

    sleep_operation sleep_;
    detail::source_slot<Source> inner_;
    std::optional<taken_t> taken_;
    state state_ = state::pending;
};

}  // namespace corio::time

namespace corio {

namespace detail {
template <class A>
auto make_timeout(time::instant deadline, A&& op, bool check_clock) {
    using S = source_t<A&&>;
    return time::timeout_operation<S>(deadline, make_source(std::forward<A>(op)), check_clock);
}
}  // namespace detail

/// Runs `op` until `deadline`: yields result<R, time::elapsed<...>>. See the file comment.
/// Precondition: awaited in the full-expression that creates it (it may use its temporaries).
template <class A>
auto timeout_at(time::instant deadline, A&& op) {
    return detail::make_timeout(deadline, std::forward<A>(op), true);
}

/// timeout_at(now() + d, op).
template <class Rep, class Period, class A>
auto timeout(std::chrono::duration<Rep, Period> d, A&& op) {
    return detail::make_timeout(detail::deadline_after(time::now(), d), std::forward<A>(op), d < std::chrono::milliseconds(1));
}

}  // namespace corio
