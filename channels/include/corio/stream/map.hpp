/// \file
/// corio/stream/map.hpp — map, filter and filter_map: transform items as they pass.
///
///     auto lengths = corio::stream::map(std::move(s), [](std::string v) { return v.size(); });
///     auto evens   = s | corio::stream::filter([](const int& v) { return v % 2 == 0; });
///     auto parsed  = s | corio::stream::filter_map(parse);     // parse: T -> std::optional<U>
///
/// map(s, f): yields f(item) for each item (f takes the item by value or rvalue reference).
/// filter(s, pred): yields the items for which pred(const item&) is true; the others are dropped.
/// filter_map(s, f): f(item) returns `std::optional<U>`; yields the engaged ones' values.
/// Each ends when s ends. f and pred are plain functions, called inside the poll (not coroutines:
/// to await per item, write a loop). An exception from them propagates out of next() and the item
/// is lost.
/// Cancel safety: as s: a pending next() has consumed nothing. (filter and filter_map may have
///   consumed and dropped rejected items before pending: those were never to be yielded.)
/// Cooperative budget: every inner item uses one unit, so a filter that rejects an endless
///   ready stream still yields the worker to other tasks.
/// Allocation: none.
#pragma once

#include <corio/stream/stream.hpp>

#include <functional>
#include <optional>
#include <type_traits>
#include <utility>

namespace corio::stream {

/// The stream map(s, f) returns: f(item) for each item of `s`; ends when `s` ends.
template <class S, class F>
class map_stream : public stream_base<map_stream<S, F>> {
public:
    /// What f returns for an item, without cv or reference.
    using item_type = std::remove_cvref_t<std::invoke_result_t<F&, item_t<S>&&>>;

    /// Wraps `s` (S is a stream_ref when the factory got an lvalue) and `f`.
    template <class U>
    map_stream(U&& s, F f) : inner_(std::forward<U>(s)), f_(std::move(f)) {}

    /// Polls the inner stream; when it yields, yields f(item). Pending when it is.
    bool poll_next(context& cx, std::optional<item_type>& out) {
        std::optional<item_t<S>> v;
        if (!inner_.poll_next(cx, v)) return false;
        if (v) out.emplace(std::invoke(f_, std::move(*v)));
        else out.reset();
        return true;
    }

    /// Cancels the inner stream's pending poll.
    void cancel_next() noexcept { detail::cancel_next(inner_); }
    /// The inner stream.
    S& get_ref() noexcept { return inner_; }

private:
    S inner_;
    F f_;
};

/// The stream filter(s, pred) returns: the items of `s` for which pred(const item&) is true.
template <class S, class P>
class filter_stream : public stream_base<filter_stream<S, P>> {
public:
    /// The inner stream's item type.
    using item_type = item_t<S>;

    /// Wraps `s` (S is a stream_ref when the factory got an lvalue) and `pred`.
    template <class U>
    filter_stream(U&& s, P p) : inner_(std::forward<U>(s)), pred_(std::move(p)) {}

    /// Polls the inner stream until an item passes pred (dropping the others) or it is pending or
    /// ends.
    bool poll_next(context& cx, std::optional<item_type>& out) {
        for (;;) {
            std::optional<item_type> v;
            if (!inner_.poll_next(cx, v)) return false;
            if (!v) {
                out.reset();
                return true;
            }
            if (std::invoke(pred_, std::as_const(*v))) {
                out = std::move(v);
                return true;
            }
        }
    }

    /// Cancels the inner stream's pending poll.
    void cancel_next() noexcept { detail::cancel_next(inner_); }
    /// The inner stream.
    S& get_ref() noexcept { return inner_; }

private:
    S inner_;
    P pred_;
};

namespace detail {
template <class O>
struct optional_value {};
template <class U>
struct optional_value<std::optional<U>> {
    using type = U;
};
}  // namespace detail

/// The stream filter_map(s, f) returns: the values of the engaged `std::optional<U>`s that f returns
/// for the items of `s`.
template <class S, class F>
class filter_map_stream : public stream_base<filter_map_stream<S, F>> {
    using result_t = std::remove_cvref_t<std::invoke_result_t<F&, item_t<S>&&>>;

public:
    /// U, the value type of the optionals f returns.
    using item_type = typename detail::optional_value<result_t>::type;

    /// Wraps `s` (S is a stream_ref when the factory got an lvalue) and `f`.
    template <class U>
    filter_map_stream(U&& s, F f) : inner_(std::forward<U>(s)), f_(std::move(f)) {}

    /// Polls the inner stream until f returns a value for an item (dropping the others) or it is
    /// pending or ends.
    bool poll_next(context& cx, std::optional<item_type>& out) {
        for (;;) {
            std::optional<item_t<S>> v;
            if (!inner_.poll_next(cx, v)) return false;
            if (!v) {
                out.reset();
                return true;
            }
            result_t r = std::invoke(f_, std::move(*v));
            if (r) {
                out = std::move(r);
                return true;
            }
        }
    }

    /// Cancels the inner stream's pending poll.
    void cancel_next() noexcept { detail::cancel_next(inner_); }
    /// The inner stream.
    S& get_ref() noexcept { return inner_; }

private:
    S inner_;
    F f_;
};

namespace detail {

struct map_fn {
    template <class S, class F>
        requires stream_arg<S> && std::invocable<F&, item_t<S>&&>
    auto operator()(S&& s, F f) const {
        return map_stream<stored_stream_t<S>, F>(std::forward<S>(s), std::move(f));
    }
    template <class F>
        requires(!stream<std::remove_cvref_t<F>>)
    auto operator()(F f) const {
        return pipe_closure<map_fn, F>(std::move(f));
    }
};

struct filter_fn {
    template <class S, class P>
        requires stream_arg<S> && std::predicate<P&, const item_t<S>&>
    auto operator()(S&& s, P p) const {
        return filter_stream<stored_stream_t<S>, P>(std::forward<S>(s), std::move(p));
    }
    template <class P>
        requires(!stream<std::remove_cvref_t<P>>)
    auto operator()(P p) const {
        return pipe_closure<filter_fn, P>(std::move(p));
    }
};

struct filter_map_fn {
    template <class S, class F>
        requires stream_arg<S> && std::invocable<F&, item_t<S>&&>
    auto operator()(S&& s, F f) const {
        return filter_map_stream<stored_stream_t<S>, F>(std::forward<S>(s), std::move(f));
    }
    template <class F>
        requires(!stream<std::remove_cvref_t<F>>)
    auto operator()(F f) const {
        return pipe_closure<filter_map_fn, F>(std::move(f));
    }
};

}  // namespace detail

/// map(s, f) or s | map(f): yields f(item).
inline constexpr detail::map_fn map{};
/// filter(s, pred) or s | filter(pred): yields the items pred accepts.
inline constexpr detail::filter_fn filter{};
/// filter_map(s, f) or s | filter_map(f): f returns `std::optional<U>`; yields the engaged values.
inline constexpr detail::filter_map_fn filter_map{};

}  // namespace corio::stream
