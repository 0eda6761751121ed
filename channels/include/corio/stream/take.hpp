/// \file
/// corio/stream/take.hpp — take(n) and take_until(stop): end a stream early.
///
///     auto first3 = corio::stream::take(std::move(s), 3);
///     auto until  = corio::stream::take_until(std::move(s), token);            // a cancellation_token
///     auto until2 = corio::stream::take_until(std::move(s), corio::sleep(1s)); // any movable leaf
///
/// take(s, n): yields at most n items of s, then ends without polling s again (the rest stays in s
///   when s was passed as an lvalue).
/// take_until(s, stop): yields the items of s until `stop` completes, then ends. `stop` is checked
///   before each item (Tokio's TakeUntil), so an item that is ready at the same time as the stop is
///   not yielded and stays in s. Accepted stops:
///   - a movable leaf (a sleep, a join_handle's awaiter, ...): moved into the stream;
///   - an object with a cancelled() leaf (sync::cancellation_token): copied, waits on cancelled();
///   - an awaitable whose operator co_await yields a leaf (join_handle, oneshot::receiver): moved
///     in (or borrowed, as an lvalue), its awaiter built at the first poll;
///   - a callable returning a leaf (`[&n] { return n.notified(); }`): the leaf is built in place
///     at the first poll, for leaves that cannot move;
///   - an lvalue leaf: borrowed; it must outlive the stream.
///   Whatever the stop yields is discarded; a stop that consumes (an mpsc recv) consumes one value.
/// Cancel safety: as s. A cancelled next() withdraws the stop's registration too (cancel_next); the
///   stop is polled again by the next next().
/// Moving: movable between polls, except with an owned leaf other than a sleep (leaves are pinned
///   once polled); a stop built from a source is dropped by the move and rebuilt at the next poll.
/// Allocation: none.
#pragma once

#include <corio/runtime/time.hpp>
#include <corio/stream/detail/op_slot.hpp>
#include <corio/stream/detail/timer_slot.hpp>
#include <corio/stream/stream.hpp>

#include <cassert>
#include <cstddef>
#include <functional>
#include <optional>
#include <type_traits>
#include <utility>

namespace corio::stream {

/// The stream take(s, n) returns: the first `n` items of `s`, then the end (or the end of `s`, if
/// sooner).
template <class S>
class take_stream : public stream_base<take_stream<S>> {
public:
    /// The inner stream's item type.
    using item_type = item_t<S>;

    /// Wraps `s` (S is a stream_ref when the factory got an lvalue), to yield at most `n` items.
    template <class U>
    take_stream(U&& s, std::size_t n) : inner_(std::forward<U>(s)), remaining_(n) {}

    /// Ends at once once `n` items were yielded; else polls the inner stream.
    bool poll_next(context& cx, std::optional<item_type>& out) noexcept(detail::nothrow_poll_v<S>) {
        if (remaining_ == 0) {
            out.reset();
            return true;
        }
        if (!inner_.poll_next(cx, out)) return false;
        if (out) --remaining_;
        else remaining_ = 0;
        return true;
    }

    /// Cancels the inner stream's pending poll.
    void cancel_next() noexcept { detail::cancel_next(inner_); }
    /// How many items may still be yielded.
    std::size_t remaining() const noexcept { return remaining_; }
    /// The inner stream (with the items after the first n, if it is borrowed).
    S& get_ref() noexcept { return inner_; }

private:
    S inner_;
    std::size_t remaining_;
};

namespace detail {

// The stops of take_until. Each has `bool poll(context&) noexcept`, `void reset() noexcept`
// (give up the registration once the stream has ended) and `void cancel() noexcept` (withdraw a
// pending poll's registration, as a leaf's cancel(); the stop is polled again later).

template <class L>
class owned_stop {
public:
    explicit owned_stop(L&& l) noexcept(std::is_nothrow_move_constructible_v<L>) : l_(std::move(l)) {}
    bool poll(context& cx) noexcept { return l_.poll(cx); }
    void reset() noexcept {}  // a stop we own unregisters when the stream is destroyed
    void cancel() noexcept { l_.cancel(); }

private:
    L l_;
};

// A sleep: kept in a timer_slot, so the stream stays movable after its first poll.
class sleep_stop {
public:
    explicit sleep_stop(time::instant at) noexcept { t_.set(at); }
    bool poll(context& cx) noexcept { return t_.poll(cx); }
    void reset() noexcept { t_.reset(); }
    void cancel() noexcept { t_.cancel(); }

private:
    timer_slot t_;
};

// Builds Leaf from Source (owned, or a pointer for a borrowed one) at the first poll, in place.
template <class Source, class Make>
class lazy_stop {
    using leaf_t = std::remove_cvref_t<std::invoke_result_t<const Make&, Source&>>;
    static constexpr bool borrowed =
        std::is_pointer_v<Source> && std::is_same_v<leaf_t, ::corio::detail::leaf_ref<std::remove_pointer_t<Source>>>;

public:
    explicit lazy_stop(Source src) noexcept(std::is_nothrow_move_constructible_v<Source>) : src_(std::move(src)) {}
    // Between polls: the source's leaf is dropped (cancel safe: it has had no effect) before its
    // source moves, and the new stream builds its own at its next poll.
    lazy_stop(lazy_stop&& o) noexcept(std::is_nothrow_move_constructible_v<Source>)
        : src_((o.reset(), std::move(o.src_))) {}
    bool poll(context& cx) noexcept {
        if (!leaf_) leaf_.emplace([this] { return Make{}(src_); });
        return leaf_->poll(cx);
    }
    // The leaf exists only while pending (a stop that completed ends the stream), so dropping it
    // is its cancel (the leaf contract), and the next poll builds it again. A leaf_ref's borrowed
    // leaf outlives it: that one is cancelled explicitly.
    void reset() noexcept {
        if constexpr (borrowed) {
            if (leaf_) leaf_->cancel();
        }
        leaf_.reset();
    }
    void cancel() noexcept { reset(); }

private:
    Source src_;  // declared before leaf_: outlives the leaf that may point into it
    detail::op_slot<leaf_t> leaf_;
};

struct make_cancelled {
    template <class D>
    auto operator()(D& d) const noexcept {
        return d.cancelled();
    }
};
struct make_co_await {
    template <class D>
    auto operator()(D& d) const noexcept {
        return d.operator co_await();
    }
    template <class D>
    auto operator()(D* d) const noexcept {
        return d->operator co_await();
    }
};
struct make_invoke {
    template <class F>
    auto operator()(F& f) const {
        return f();
    }
};
struct make_ref {
    template <class D>
    auto operator()(D* d) const noexcept {
        return ::corio::detail::leaf_ref<D>(*d);
    }
};

template <class D>
concept has_cancelled_leaf = requires(D& d) {
    { d.cancelled() } -> ::corio::detail::leaf_type;
};
template <class D>
concept leaf_factory = std::invocable<D&> && ::corio::detail::leaf_type<std::invoke_result_t<D&>>;

template <class U>
auto make_stop(U&& u) {
    using D = std::remove_cvref_t<U>;
    if constexpr (::corio::detail::leaf_type<D>) {
        if constexpr (std::is_lvalue_reference_v<U>) {
            return lazy_stop<D*, make_ref>(&u);
        } else if constexpr (std::is_same_v<D, time::sleep_operation>) {
            return sleep_stop(u.deadline());
        } else {
            static_assert(std::is_move_constructible_v<D>,
                          "take_until: this leaf cannot move; pass a callable that returns it, or an lvalue");
            return owned_stop<D>(std::move(u));
        }
    } else if constexpr (has_cancelled_leaf<D>) {
        return lazy_stop<D, make_cancelled>(D(u));
    } else if constexpr (::corio::detail::leaf_co_awaitable<D>) {
        if constexpr (std::is_lvalue_reference_v<U>) return lazy_stop<D*, make_co_await>(&u);
        else return lazy_stop<D, make_co_await>(std::move(u));
    } else {
        static_assert(leaf_factory<D>,
                      "take_until: stop must be a leaf, a cancellation_token, a leaf awaitable, or a callable "
                      "returning a leaf");
        return lazy_stop<D, make_invoke>(D(std::forward<U>(u)));
    }
}

}  // namespace detail

/// The stream take_until(s, stop) returns: the items of `s` until the awaitable `stop` completes
/// (checked first on each poll), then the end.
template <class S, class Stop>
class take_until_stream : public stream_base<take_until_stream<S, Stop>> {
public:
    /// The inner stream's item type.
    using item_type = item_t<S>;

    /// Wraps `s` (S is a stream_ref when the factory got an lvalue) and the stop operation.
    template <class U>
    take_until_stream(U&& s, Stop stop) : inner_(std::forward<U>(s)), stop_(std::move(stop)) {}

    /// Ends if `stop` has completed; else polls the inner stream, registering with both.
    bool poll_next(context& cx, std::optional<item_type>& out) noexcept(detail::nothrow_poll_v<S>) {
        if (!done_ && stop_.poll(cx)) finish(true);
        if (done_) {
            out.reset();
            return true;
        }
        if (!inner_.poll_next(cx, out)) return false;
        if (!out) finish(false);
        return true;
    }

    /// Cancels the stop's and the inner stream's pending polls.
    void cancel_next() noexcept {
        if (done_) return;  // the stop was reset by finish(); s is not polled any more
        stop_.cancel();
        detail::cancel_next(inner_);
    }

    /// True once the stop completed (as opposed to s ending).
    bool is_stopped() const noexcept { return stopped_; }
    /// The inner stream.
    S& get_ref() noexcept { return inner_; }

private:
    void finish(bool stopped) noexcept {
        stopped_ = stopped;
        done_ = true;
        stop_.reset();  // unregister the stop at once (a lazily built one; an owned one at destruction)
    }

    S inner_;
    Stop stop_;
    bool done_ = false;
    bool stopped_ = false;
};

namespace detail {

struct take_fn {
    template <class S>
        requires stream_arg<S>
    auto operator()(S&& s, std::size_t n) const {
        return take_stream<stored_stream_t<S>>(std::forward<S>(s), n);
    }
    auto operator()(std::size_t n) const { return pipe_closure<take_fn, std::size_t>(n); }
};

struct take_until_fn {
    template <class S, class U>
        requires stream_arg<S>
    auto operator()(S&& s, U&& stop) const {
        auto st = make_stop(std::forward<U>(stop));
        return take_until_stream<stored_stream_t<S>, decltype(st)>(std::forward<S>(s), std::move(st));
    }
};

}  // namespace detail

/// take(s, n) or s | take(n): at most n items.
inline constexpr detail::take_fn take{};
/// take_until(s, stop): the items of s until stop completes.
inline constexpr detail::take_until_fn take_until{};

}  // namespace corio::stream
