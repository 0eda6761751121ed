/// \file
/// corio/stream/throttle.hpp — throttle(s, d): at most one item per d.
///
///     auto calm = corio::stream::throttle(std::move(events), 100ms);
///
/// Yields the items of s, in order and without dropping any, but never two within `d` of each
/// other: after yielding an item, the stream waits until d has passed before it polls s again
/// (tokio-stream's throttle). The first item is not delayed. Items that arrive meanwhile wait in s.
/// Ends when s ends (the end is reported once the current wait is over).
/// Cancel safety: cancel safe: a pending next() has taken nothing from s; the wait keeps running
///   (a cancelled next() takes its sleep out of the wheel; the deadline stays).
/// Allocation: none.
/// Moving: movable between polls (a running wait is carried over).
/// Precondition: polled on a runtime worker (timers).
#pragma once

#include <corio/runtime/time.hpp>
#include <corio/stream/detail/timer_slot.hpp>
#include <corio/stream/stream.hpp>

#include <cassert>
#include <chrono>
#include <optional>
#include <utility>

namespace corio::stream {

/// The stream throttle(s, d) returns: the items of `s`, in order and none dropped, never two within
/// `d` of each other; the first is not delayed.
template <class S>
class throttle_stream : public stream_base<throttle_stream<S>> {
public:
    /// The inner stream's item type.
    using item_type = item_t<S>;

    /// Wraps `s` (S is a stream_ref when the factory got an lvalue), spacing items by `d`.
    template <class U>
    throttle_stream(U&& s, std::chrono::nanoseconds d) : inner_(std::forward<U>(s)), period_(d) {}
    /// Movable between polls, a running wait included.
    throttle_stream(throttle_stream&&) = default;  // between polls (detail/timer_slot.hpp)
    throttle_stream& operator=(throttle_stream&&) = delete;

    /// Waits out the period since the last item, then polls the inner stream.
    bool poll_next(context& cx, std::optional<item_type>& out) noexcept(detail::nothrow_poll_v<S>) {
        if (waiting_) {
            if (!wait_.poll(cx)) return false;
            waiting_ = false;  // the fired sleep stays in its slot, out of the wheel, for reuse
        }
        if (!inner_.poll_next(cx, out)) return false;
        if (out) {
            wait_.set(::corio::detail::deadline_after(time::now(), period_));
            waiting_ = true;
        }
        return true;
    }

    /// The wait's sleep leaves the wheel but keeps its deadline (detail/timer_slot.hpp).
    void cancel_next() noexcept {
        if (waiting_) wait_.cancel();
        detail::cancel_next(inner_);
    }
    /// The inner stream.
    S& get_ref() noexcept { return inner_; }

private:
    S inner_;
    std::chrono::nanoseconds period_;
    detail::timer_slot wait_;
    bool waiting_ = false;  // an item was yielded less than d ago
};

namespace detail {
struct throttle_fn {
    template <class S, class Rep, class Period>
        requires stream_arg<S>
    auto operator()(S&& s, std::chrono::duration<Rep, Period> d) const {
        return throttle_stream<stored_stream_t<S>>(std::forward<S>(s), std::chrono::duration_cast<std::chrono::nanoseconds>(d));
    }
    template <class Rep, class Period>
    auto operator()(std::chrono::duration<Rep, Period> d) const {
        return pipe_closure<throttle_fn, std::chrono::nanoseconds>(std::chrono::duration_cast<std::chrono::nanoseconds>(d));
    }
};
}  // namespace detail

/// throttle(s, d) or s | throttle(d): the items of s, at most one per d.
inline constexpr detail::throttle_fn throttle{};

}  // namespace corio::stream
