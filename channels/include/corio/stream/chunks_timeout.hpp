/// \file
/// corio/stream/chunks_timeout.hpp — batch items: a chunk when it is full or old enough.
///
///     auto batches = corio::stream::chunks_timeout(std::move(s), 64, 10ms);
///     while (auto batch = co_await batches.next()) write_all(*batch);   // std::vector<Item>
///
/// Yields std::vector<Item> chunks of 1..max items (tokio-stream's chunks_timeout): a chunk is
/// yielded as soon as it holds `max` items, or when `d` has passed since its first item arrived,
/// whichever comes first. No empty chunk is ever yielded: the timer starts with a chunk's first
/// item. When s ends, the partial chunk (if any) is yielded, then the stream ends.
/// Items that are ready at once are gathered without waiting, so under load chunks fill up to max.
/// Cancel safety: cancel safe: items already gathered stay in the partial chunk inside the stream
///   and the deadline keeps running; the next next() continues the same chunk.
/// Allocation: one std::vector per chunk (capacity `max`, reserved when its first item arrives);
///   the chunk is the caller's.
/// Moving: movable between polls, an open chunk and its deadline included.
/// Precondition: max > 0; polled on a runtime worker (timers).
#pragma once

#include <corio/runtime/time.hpp>
#include <corio/stream/detail/timer_slot.hpp>
#include <corio/stream/stream.hpp>

#include <cassert>
#include <chrono>
#include <cstddef>
#include <optional>
#include <utility>
#include <vector>

namespace corio::stream {

/// The stream chunks_timeout(s, max, d) returns: std::vector chunks of 1 to `max` items, each
/// yielded when full or `d` after its first item arrived; the partial chunk is yielded when `s`
/// ends. Cancel safe: gathered items stay in the open chunk.
template <class S>
class chunks_timeout_stream : public stream_base<chunks_timeout_stream<S>> {
public:
    /// A chunk: 1 to max items, in order.
    using item_type = std::vector<item_t<S>>;

    /// Wraps `s` (S is a stream_ref when the factory got an lvalue). Precondition: max > 0.
    template <class U>
    chunks_timeout_stream(U&& s, std::size_t max, std::chrono::nanoseconds d)
        : inner_(std::forward<U>(s)), max_(max), period_(d) {
        assert(max > 0 && "chunks_timeout: max must be positive");
    }
    /// Movable between polls, an open chunk and its deadline included.
    chunks_timeout_stream(chunks_timeout_stream&&) = default;  // between polls (detail/timer_slot.hpp)
    chunks_timeout_stream& operator=(chunks_timeout_stream&&) = delete;

    /// Gathers ready items; ready with a full chunk, with the open chunk once its deadline passed,
    /// or with the last chunk and then nullopt when `s` ends; else registers with `s` and the
    /// timer.
    bool poll_next(context& cx, std::optional<item_type>& out) {
        while (!ended_) {
            std::optional<item_t<S>> v;
            if (!inner_.poll_next(cx, v)) break;
            if (!v) {
                ended_ = true;
                break;
            }
            if (buf_.empty()) open_chunk();
            buf_.push_back(std::move(*v));
            if (buf_.size() >= max_) return emit(out);
        }
        if (ended_) {
            if (!buf_.empty()) return emit(out);
            out.reset();
            return true;
        }
        // s is pending (its waker registered): the chunk goes out when its deadline passes.
        if (deadline_ && deadline_.poll(cx)) return emit(out);
        return false;
    }

    /// The open chunk stays; its deadline's sleep leaves the wheel but keeps its instant.
    void cancel_next() noexcept {
        deadline_.cancel();
        detail::cancel_next(inner_);
    }
    /// The inner stream.
    S& get_ref() noexcept { return inner_; }

private:
    void open_chunk() {
        buf_.reserve(max_);
        deadline_.set(::corio::detail::deadline_after(time::now(), period_));
    }
    bool emit(std::optional<item_type>& out) noexcept {
        deadline_.reset();  // unregisters it from the wheel if it has not fired
        out.emplace(std::move(buf_));
        buf_ = item_type();
        return true;
    }

    S inner_;
    std::size_t max_;
    std::chrono::nanoseconds period_;
    item_type buf_;  // the open chunk
    detail::timer_slot deadline_;  // armed while a chunk is open
    bool ended_ = false;
};

namespace detail {
struct chunks_timeout_fn {
    template <class S, class Rep, class Period>
        requires stream_arg<S>
    auto operator()(S&& s, std::size_t max, std::chrono::duration<Rep, Period> d) const {
        return chunks_timeout_stream<stored_stream_t<S>>(std::forward<S>(s), max,
                                                         std::chrono::duration_cast<std::chrono::nanoseconds>(d));
    }
    template <class Rep, class Period>
    auto operator()(std::size_t max, std::chrono::duration<Rep, Period> d) const {
        return pipe_closure<chunks_timeout_fn, std::size_t, std::chrono::nanoseconds>(
            max, std::chrono::duration_cast<std::chrono::nanoseconds>(d));
    }
};
}  // namespace detail

/// chunks_timeout(s, max, d) or s | chunks_timeout(max, d): vectors of up to max items, each
/// yielded when full or d after its first item.
inline constexpr detail::chunks_timeout_fn chunks_timeout{};

}  // namespace corio::stream
