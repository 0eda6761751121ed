/// \file
/// corio/stream/iter.hpp — streams from values at hand: iter, once, empty, pending.
///
///     auto s = corio::stream::iter(std::vector<int>{1, 2, 3});   // 1, 2, 3, end
///
/// iter(container) owns the container and yields its elements in order, moved out; once(v) yields
/// v; empty<T>() ends at once; pending<T>() never yields (a branch that is never ready).
/// They never wait, but each ready item uses one unit of the task's cooperative budget, so a long
/// iter in a loop still lets other tasks on the worker run.
/// Cancel safety: trivially cancel safe (they hold nothing registered).
/// Allocation: none beyond the container the caller passed.
#pragma once

#include <corio/stream/stream.hpp>

#include <iterator>
#include <optional>
#include <ranges>
#include <utility>

namespace corio::stream {

/// The stream iter(c) returns: the elements of an owned container, in order, moved out. Never
/// waits; each item uses a unit of the task's cooperative budget.
template <std::ranges::input_range C>
class iter_stream : public stream_base<iter_stream<C>> {
public:
    /// The container's element type.
    using item_type = std::ranges::range_value_t<C>;

    /// A stream over `c` (taken by value: the stream owns it).
    explicit iter_stream(C c) : c_(std::move(c)) {}
    /// Moves the container and the position reached (the iterator is re-derived from the count
    /// consumed).
    iter_stream(iter_stream&& o) : c_(std::move(o.c_)) {
        // An iterator into the source would dangle: restart from the same position.
        if (o.started_) {
            started_ = true;
            it_ = std::ranges::next(std::ranges::begin(c_), o.consumed_);
            consumed_ = o.consumed_;
        }
    }
    iter_stream& operator=(iter_stream&&) = delete;

    /// Ready at once with the next element moved out, or nullopt after the last; pending only when
    /// the task's budget is spent.
    bool poll_next(context& cx, std::optional<item_type>& out) {
        if (!started_) {
            started_ = true;
            it_ = std::ranges::begin(c_);
        }
        if (it_ == std::ranges::end(c_)) {
            out.reset();
            return true;
        }
        if (!cx.poll_budget()) return false;
        out.emplace(std::move(*it_));
        ++it_;
        ++consumed_;
        return true;
    }

private:
    C c_;
    std::ranges::iterator_t<C> it_{};
    std::ranges::range_difference_t<C> consumed_ = 0;
    bool started_ = false;
};

/// The elements of `c`, in order (the stream owns the container).
template <std::ranges::input_range C>
iter_stream<C> iter(C c) {
    return iter_stream<C>(std::move(c));
}

/// The stream once(v) returns: yields `v`, then ends.
template <class T>
class once_stream : public stream_base<once_stream<T>> {
public:
    /// The value's type.
    using item_type = T;
    /// A stream that will yield `v`.
    explicit once_stream(T v) : v_(std::move(v)) {}
    /// Ready at once with the value the first time, nullopt after; pending only when the task's
    /// budget is spent.
    bool poll_next(context& cx, std::optional<T>& out) noexcept(std::is_nothrow_move_constructible_v<T>) {
        if (v_ && !cx.poll_budget()) return false;
        out = std::exchange(v_, std::nullopt);
        return true;
    }

private:
    std::optional<T> v_;
};

/// Yields `v`, then ends.
template <class T>
once_stream<T> once(T v) {
    return once_stream<T>(std::move(v));
}

/// The stream empty<T>() returns: ends at once.
template <class T>
class empty_stream : public stream_base<empty_stream<T>> {
public:
    /// The item type it would yield.
    using item_type = T;
    /// Ready at once with nullopt.
    bool poll_next(context&, std::optional<T>& out) noexcept {
        out.reset();
        return true;
    }
};

/// Ends at once.
template <class T>
empty_stream<T> empty() noexcept {
    return {};
}

/// The stream pending<T>() returns: never yields, never ends (a select branch that is never ready).
template <class T>
class pending_stream : public stream_base<pending_stream<T>> {
public:
    /// The item type it would yield.
    using item_type = T;
    /// Always pending, and registers nothing (nothing will ever wake it).
    bool poll_next(context&, std::optional<T>&) noexcept { return false; }
};

/// Never yields and never ends (registers no waker: nothing will ever wake it).
template <class T>
pending_stream<T> pending() noexcept {
    return {};
}

}  // namespace corio::stream
