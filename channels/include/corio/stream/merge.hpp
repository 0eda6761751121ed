/// \file
/// corio/stream/merge.hpp — merge(s1, s2, ...): the items of several streams as they come.
///
///     auto all = corio::stream::merge(std::move(a), std::move(b), std::move(c));
///     while (auto v = co_await all.next()) ...      // from whichever stream had one
///
/// Yields items from every stream, each in its own order; ends when all of them have ended (a
/// stream that ends is not polled again). The streams must have the same item type (map them
/// first if not).
/// Fairness: each next() starts polling at the stream after the one that yielded last, so a
/// stream that is always ready cannot starve the others: with both ready, they alternate.
/// Cancel safety: cancel safe when every stream's next() is: a pending next() has consumed nothing
///   from any of them.
/// Allocation: none (the streams live inside the merge).
#pragma once

#include <corio/stream/stream.hpp>

#include <array>
#include <cstddef>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>

namespace corio::stream {

/// The stream merge(s...) returns: the items of every stream as they come, each stream's in its own
/// order; ends when all have ended. Fair: each poll starts after the stream that yielded last.
template <class... S>
class merge_stream : public stream_base<merge_stream<S...>> {
    static_assert(sizeof...(S) >= 1, "merge needs at least one stream");
    using first_t = std::tuple_element_t<0, std::tuple<S...>>;

public:
    /// The streams' common item type.
    using item_type = item_t<first_t>;
    static_assert((std::is_same_v<item_t<S>, item_type> && ...), "merge: every stream must have the same item type");
    /// How many streams are merged.
    static constexpr std::size_t size = sizeof...(S);

    /// Takes the streams (each a stream_ref if the factory got an lvalue).
    template <class... U>
        requires(sizeof...(U) == size && !(std::is_same_v<std::remove_cvref_t<U>, merge_stream> || ...))
    explicit merge_stream(U&&... s) : streams_(std::forward<U>(s)...) {}

    /// Polls each unfinished stream once, starting after the one that yielded last; ready with the
    /// first item found, or nullopt when all have ended.
    bool poll_next(context& cx, std::optional<item_type>& out) noexcept((detail::nothrow_poll_v<S> && ...)) {
        bool any_pending = false;
        for (std::size_t k = 0; k < size; ++k) {
            const std::size_t i = (start_ + k) % size;
            if (done_[i]) continue;
            if (!poll_at(i, cx, out, std::make_index_sequence<size>{})) {
                any_pending = true;
                continue;
            }
            if (out) {
                start_ = (i + 1) % size;  // the next call starts after the one that yielded
                return true;
            }
            done_[i] = true;
        }
        if (any_pending) return false;
        out.reset();  // every stream has ended
        return true;
    }

    /// Cancels every inner stream's pending poll.
    void cancel_next() noexcept {
        std::apply([](auto&... s) { (detail::cancel_next(s), ...); }, streams_);
    }

    /// The i-th stream.
    template <std::size_t I>
    auto& get() noexcept {
        return std::get<I>(streams_);
    }

private:
    template <std::size_t... I>
    bool poll_at(std::size_t i, context& cx, std::optional<item_type>& out, std::index_sequence<I...>) {
        bool ready = false;
        (void)((I == i ? (ready = std::get<I>(streams_).poll_next(cx, out), true) : false) || ...);
        return ready;
    }

    std::tuple<S...> streams_;
    std::array<bool, size> done_{};
    std::size_t start_ = 0;
};

namespace detail {
struct merge_fn {
    template <class... S>
        requires(sizeof...(S) >= 1 && (stream_arg<S> && ...))
    auto operator()(S&&... s) const {
        return merge_stream<stored_stream_t<S>...>(std::forward<S>(s)...);
    }
};
}  // namespace detail

/// merge(s1, s2, ...): every item of every stream; ends when all have ended.
inline constexpr detail::merge_fn merge{};

}  // namespace corio::stream
