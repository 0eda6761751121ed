/// \file
/// corio/stream/timeout.hpp — a deadline per item: timeout(s, d) and timeout_repeating(s, d).
///
///     auto s = corio::stream::timeout(std::move(rx_stream), 1s);
///     while (auto r = co_await s.next()) {
///         if (*r) handle(**r);                    // result<Item, time::elapsed<>>
///         else log("nothing for a second");       // the stream goes on
///     }
///
/// timeout(s, d): yields result<Item, time::elapsed<>>. The deadline is d after the previous item
///   was yielded (or after the first poll, for the first item). If s has nothing by then, the
///   stream yields one elapsed error and goes on waiting for s, with no deadline, until its next
///   item (tokio-stream's timeout: one error per gap).
/// timeout_repeating(s, d): the same, but after an elapsed error the next deadline is d later, so
///   a silent stream yields an error every d (tokio-stream's timeout_repeating).
/// Both end when s ends; the item wins when it is ready together with the deadline.
/// Cancel safety: cancel safe: a pending next() has taken nothing from s; the deadline keeps
///   running (dropping a next() does not restart it; its sleep leaves the wheel until the next poll).
/// Allocation: none.
/// Moving: movable between polls (a running deadline is carried over).
/// Precondition: polled on a runtime worker (timers).
#pragma once

#include <corio/result.hpp>
#include <corio/runtime/time.hpp>
#include <corio/stream/detail/timer_slot.hpp>
#include <corio/stream/stream.hpp>

#include <cassert>
#include <chrono>
#include <optional>
#include <utility>

namespace corio::stream {

/// The stream timeout(s, d) or timeout_repeating(s, d) returns: each item as a result, or
/// time::elapsed<> when `s` had nothing for `d` (once per gap, or every `d` if repeating); ends
/// when `s` ends.
template <class S>
class timeout_stream : public stream_base<timeout_stream<S>> {
public:
    /// An item of `s`, or elapsed when the deadline passed first.
    using item_type = result<item_t<S>, time::elapsed<>>;

    /// Wraps `s` (S is a stream_ref when the factory got an lvalue) with a deadline of `d` per
    /// item.
    template <class U>
    timeout_stream(U&& s, std::chrono::nanoseconds d, bool repeating)
        : inner_(std::forward<U>(s)), period_(d), repeating_(repeating) {}
    /// Movable between polls, a running deadline included.
    timeout_stream(timeout_stream&&) = default;  // between polls (detail/timer_slot.hpp)
    timeout_stream& operator=(timeout_stream&&) = delete;

    /// Ready with the next item of `s` (which wins a tie with the deadline), an elapsed error once
    /// the deadline passes, or nullopt when `s` ends.
    bool poll_next(context& cx, std::optional<item_type>& out) noexcept(detail::nothrow_poll_v<S>) {
        if (ended_) {
            out.reset();
            return true;
        }
        if (armed_ && !deadline_) rearm();  // the first poll starts the first deadline
        std::optional<item_t<S>> v;
        if (inner_.poll_next(cx, v)) {
            if (!v) {
                ended_ = true;
                deadline_.reset();
                out.reset();
                return true;
            }
            armed_ = true;
            rearm();
            out.emplace(std::move(*v));
            return true;
        }
        if (!armed_ || !deadline_.poll(cx)) return false;
        if (repeating_) rearm();
        else armed_ = false;
        out.emplace(unexpected(time::elapsed<>{}));
        return true;
    }

    /// The deadline's sleep leaves the wheel but keeps its instant (detail/timer_slot.hpp).
    void cancel_next() noexcept {
        deadline_.cancel();
        detail::cancel_next(inner_);
    }
    /// The inner stream.
    S& get_ref() noexcept { return inner_; }

private:
    void rearm() noexcept { deadline_.set(::corio::detail::deadline_after(time::now(), period_)); }

    S inner_;
    std::chrono::nanoseconds period_;
    bool repeating_;
    bool armed_ = true;  // a deadline applies to the current wait
    bool ended_ = false;
    detail::timer_slot deadline_;  // armed at the first poll
};

namespace detail {
template <bool Repeating>
struct timeout_fn {
    template <class S, class Rep, class Period>
        requires stream_arg<S>
    auto operator()(S&& s, std::chrono::duration<Rep, Period> d) const {
        return timeout_stream<stored_stream_t<S>>(std::forward<S>(s), std::chrono::duration_cast<std::chrono::nanoseconds>(d),
                                                  Repeating);
    }
    template <class Rep, class Period>
    auto operator()(std::chrono::duration<Rep, Period> d) const {
        return pipe_closure<timeout_fn, std::chrono::nanoseconds>(std::chrono::duration_cast<std::chrono::nanoseconds>(d));
    }
};
}  // namespace detail

/// timeout(s, d) or s | timeout(d): result<Item, time::elapsed<>>, one error per silent gap.
inline constexpr detail::timeout_fn<false> timeout{};
/// timeout_repeating(s, d) or s | timeout_repeating(d): an error every d of silence.
inline constexpr detail::timeout_fn<true> timeout_repeating{};

}  // namespace corio::stream
