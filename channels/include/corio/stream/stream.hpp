/// \file
/// corio/stream/stream.hpp — async iteration: the stream concept and `co_await s.next()`.
///
///     auto s = corio::stream::receiver_stream(std::move(rx));      // any corio::stream::stream
///     while (auto v = co_await s.next()) use(*v);                   // nullopt: the stream ended
///
/// A stream yields items one at a time, waiting in between (tokio-stream's Stream). A type S is a
/// stream when it has `using item_type = Item;` and
///
///     bool poll_next(corio::context& cx, std::optional<Item>& out);
///
/// with the leaf protocol's meaning (docs/architecture.md, "Wakers and leaves"):
///   true  — ready: `out` holds the next item, or is empty because the stream has ended;
///   false — pending: nothing was consumed, and cx.waker() is registered with whatever the stream
///           waits on (a channel, a timer), replacing any older registration.
/// poll_next is only called by the task that owns the stream, never concurrently. It may throw
/// only what user code throws (a map function, a filter predicate, a broadcast value's copy);
/// next() then rethrows it from the co_await and the item is lost.
///
/// A stream that registers anything may also have
///
///     void cancel_next() noexcept;
///
/// which withdraws every registration its polls left behind (a waker in a channel, a sleep in the
/// timer wheel, an inner leaf, by cancelling that leaf: corio/runtime/leaf.hpp) and gives back
/// what inner leaves were assigned, but keeps what was consumed (an open chunk, a deadline's
/// instant); the next poll_next registers afresh. It may be called between any two polls, and
/// twice. next_operation::cancel() calls it; every adapter forwards it to its inner streams. A
/// stream that registers nothing (iter, once, pending) needs none; interval_stream lacks one for
/// now (its header says what that leaves behind).
///
/// next() returns `next_operation<S>`, a leaf: awaiting it allocates nothing, a ready item never
/// suspends the task, and it can be a branch of corio::select or the operand of corio::timeout.
/// Combinators (map.hpp, take.hpp, merge.hpp, ...) are streams that poll their inner streams'
/// poll_next directly, so a chain of them is one leaf, not a chain of coroutines.
///
/// Ending: the streams in corio::stream are fused: once a stream has yielded nullopt, next()
/// yields nullopt again at once (stream_map, which yields nullopt while it is empty, is the
/// exception). Tokio's pattern `while let Some(v) = s.next().await` reads in C++ as
/// `while (auto v = co_await s.next())`.
/// Cancel safety: next() is cancel safe whenever the stream's poll_next is (each adapter and
///   combinator says so in its header; all of corio's are): a next() cancelled or destroyed while
///   pending — select lost, timeout elapsed, task aborted — has consumed nothing and, through
///   cancel_next(), left no registration; polled again (or the next next()) it yields the item it
///   would have yielded.
/// Lifetime: a next_operation points at its stream: the stream must outlive it, and must not be
///   moved while a next() on it is pending.
/// Thread safety: a stream is used by one task at a time; it may move between workers with it.
/// Passing streams to combinators: an rvalue stream is moved into the combinator; an lvalue stream
///   is borrowed (stream_ref), as std::views do: it must outlive the combinator, and can be used
///   again afterwards (`take(s, 3)` on an lvalue leaves the rest of s to read).
#pragma once

#include <corio/runtime/leaf.hpp>
#include <corio/runtime/waker.hpp>

#include <concepts>
#include <cstddef>
#include <exception>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>

namespace corio::stream {

/// A type that yields items asynchronously through poll_next (see the file comment).
template <class S>
concept stream = requires { typename S::item_type; } &&
                 requires(S& s, context& cx, std::optional<typename S::item_type>& out) {
                     { s.poll_next(cx, out) } -> std::same_as<bool>;
                 };

/// The item type of stream S.
template <class S>
using item_t = typename std::remove_cvref_t<S>::item_type;

namespace detail {

template <class S>
concept has_cancel_next = requires(S& s) {
    { s.cancel_next() } noexcept;
};

/// s.cancel_next() if S has it (see the file comment); nothing otherwise.
template <class S>
void cancel_next(S& s) noexcept {
    if constexpr (has_cancel_next<S>) s.cancel_next();
}

}  // namespace detail

/// `co_await s.next()`: the leaf that waits for the next item. Yields std::optional<Item>
/// (nullopt once the stream has ended). Movable while not pending (its state lives in the stream).
template <class S>
class [[nodiscard]] next_operation final : public leaf_awaiter<next_operation<S>> {
public:
    /// The stream's item type: the co_await yields std::optional<item_type>.
    using item_type = typename S::item_type;

    /// Made by stream_base::next(); not called directly.
    explicit next_operation(S* s) noexcept : s_(s) {}
    /// Movable while not pending: its state lives in the stream.
    next_operation(next_operation&& o) noexcept
        : s_(o.s_), out_(std::move(o.out_)), error_(std::move(o.error_)), pending_(std::exchange(o.pending_, false)) {}
    next_operation& operator=(next_operation&&) = delete;
    ~next_operation() { cancel(); }

    /// Polls the stream's poll_next.
    bool poll(context& cx) noexcept override {
        pending_ = !poll_stream(cx);
        return !pending_;
    }

    /// The stream's cancel_next() (file comment), if the last poll was pending.
    void cancel() noexcept override {
        if (std::exchange(pending_, false)) detail::cancel_next(*s_);
    }

    /// The next item, or nullopt once the stream has ended; rethrows what poll_next threw.
    std::optional<item_type> await_resume() {
        if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
        return std::move(out_);
    }

private:
    bool poll_stream(context& cx) noexcept {
        if constexpr (noexcept(s_->poll_next(cx, out_))) {
            return s_->poll_next(cx, out_);
        } else {
            try {
                return s_->poll_next(cx, out_);
            } catch (...) {
                // User code threw (see the file comment): report ready, rethrow on resumption.
                error_ = std::current_exception();
                return true;
            }
        }
    }

    S* s_;
    std::optional<item_type> out_;
    std::exception_ptr error_;
    bool pending_ = false;  // the last poll returned false: the stream may hold registrations
};

/// `co_await stream::next(s)`: next() for any stream, including those without a next() member.
template <class S>
    requires stream<S>
next_operation<S> next(S& s) noexcept {
    return next_operation<S>(&s);
}

/// Gives a stream type its `next()` and `blocking_next()` members (CRTP).
template <class Derived>
class stream_base {
public:
    /// `co_await s.next()`: the next item, or nullopt at the end. Owner side; see the file comment.
    [[nodiscard]] next_operation<Derived> next() noexcept { return next_operation<Derived>(static_cast<Derived*>(this)); }

    /// Blocking twin of next(), for plain threads (never on a runtime worker). A stream that
    /// waits on timers needs a runtime: use next() there.
    auto blocking_next() {
        next_operation<Derived> op(static_cast<Derived*>(this));
        ::corio::detail::blocking_poll(op);
        return op.await_resume();
    }

protected:
    stream_base() noexcept = default;
    ~stream_base() = default;
};

/// A borrowed stream: what a combinator stores when it is given an lvalue.
template <class S>
class stream_ref : public stream_base<stream_ref<S>> {
public:
    /// The borrowed stream's item type.
    using item_type = typename S::item_type;

    /// Borrows `s`, which must outlive this.
    explicit stream_ref(S& s) noexcept : s_(&s) {}

    /// Polls the borrowed stream.
    bool poll_next(context& cx, std::optional<item_type>& out) noexcept(noexcept(std::declval<S&>().poll_next(cx, out))) {
        return s_->poll_next(cx, out);
    }
    /// Cancels the borrowed stream's pending poll.
    void cancel_next() noexcept { detail::cancel_next(*s_); }
    /// The borrowed stream.
    S& get() const noexcept { return *s_; }

private:
    S* s_;
};

namespace detail {

// What a combinator stores for an argument of type S&& (forwarding reference): the stream
// itself for an rvalue, a stream_ref for an lvalue.
template <class S>
using stored_stream_t =
    std::conditional_t<std::is_lvalue_reference_v<S>, stream_ref<std::remove_reference_t<S>>, std::remove_cvref_t<S>>;

template <class S>
concept stream_arg = stream<std::remove_cvref_t<S>> && !std::is_const_v<std::remove_reference_t<S>>;

// poll_next's noexcept-ness, for combinators that forward it.
template <class S>
inline constexpr bool nothrow_poll_v =
    noexcept(std::declval<S&>().poll_next(std::declval<context&>(), std::declval<std::optional<item_t<S>>&>()));

// `s | stream::map(f)`: the partial application a one-stream combinator returns when it is
// called without its stream.
template <class Fn, class... Args>
class pipe_closure {
public:
    explicit pipe_closure(Args... args) : args_(std::move(args)...) {}

    template <class S>
        requires stream_arg<S>
    friend auto operator|(S&& s, pipe_closure c) {
        return std::apply([&s](Args&... a) { return Fn{}(std::forward<S>(s), std::move(a)...); }, c.args_);
    }

private:
    std::tuple<Args...> args_;
};

// Restores a scope's state on every exit (an exception from user code included).
template <class F>
class on_exit {
public:
    explicit on_exit(F f) noexcept : f_(std::move(f)) {}
    on_exit(const on_exit&) = delete;
    on_exit& operator=(const on_exit&) = delete;
    ~on_exit() { f_(); }

private:
    F f_;
};

}  // namespace detail
}  // namespace corio::stream
