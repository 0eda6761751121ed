/// \file
/// corio/stream/receiver_streams.hpp — every channel receiver as a stream (tokio-stream's wrappers).
///
///     auto s = corio::stream::receiver_stream(std::move(rx));   // mpsc (bounded or unbounded): T
///     auto b = corio::stream::broadcast_stream(std::move(brx)); // result<T, stream::lagged>
///     auto w = corio::stream::watch_stream(std::move(wrx));     // T: the current value, then versions
///     while (auto v = co_await s.next()) use(*v);
///
/// Each adapter takes its receiver by value and gives it back with `std::move(s).into_inner()`.
///
/// receiver_stream<T> (mpsc::receiver<T>, of a bounded or an unbounded channel): yields every
///   value in order; ends once every sender is gone (or the receiver was closed) and the queue is
///   drained. Cancel safe: a pending next() has taken nothing (as recv()). Movable between polls.
/// Cancelling a pending next() (cancel_next, stream.hpp) withdraws the receiver's registration: for
///   mpsc its waker, for broadcast and watch the recv / changed() kept in the stream.
/// broadcast_stream<T>: yields each value as result<T, lagged>; a receiver that fell behind the
///   ring gets one error item lagged{n} with n the number of values it lost, and then continues
///   from the oldest value still held (tokio-stream's BroadcastStream). Ends when the last sender
///   is gone and the backlog is drained. Cancel safe: a pending next() has taken nothing; its recv
///   stays registered inside the stream and is reused by the next next(), unless cancelled.
/// watch_stream<T>: yields the current value first, then the value of each new version it sees;
///   versions sent faster than it reads are skipped (it always yields the latest). `from_changes`
///   skips the current value and starts with the next version. The value is copied out while the
///   read lock is held for the copy only. Ends when the sender is gone and its last version was
///   seen. Cancel safe: a pending next() has marked nothing seen.
/// Moving: every adapter is movable between polls (never while a next() on it is pending).
/// Allocation: none per item (broadcast and watch copy T, which may allocate).
/// Thread safety: as the receivers: one task at a time; senders anywhere.
#pragma once

#include <corio/channels/broadcast.hpp>
#include <corio/channels/mpsc.hpp>
#include <corio/channels/watch.hpp>
#include <corio/result.hpp>
#include <corio/runtime/time.hpp>
#include <corio/stream/detail/op_slot.hpp>
#include <corio/stream/stream.hpp>

#include <fmt/format.h>

#include <cassert>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

namespace corio::stream {

// ---- mpsc --------------------------------------------------------------------------------------

/// An mpsc receiver (bounded or unbounded channel) as a stream of T.
template <class T>
class receiver_stream : public stream_base<receiver_stream<T>> {
public:
    /// The channel's value type.
    using item_type = T;

    /// Takes ownership of the receiver.
    explicit receiver_stream(mpsc::receiver<T> rx) noexcept : rx_(std::move(rx)) {}

    // The channel's receive protocol directly (mpsc/detail/chan.hpp), not a recv_operation: the
    // receiver's waker lives in the channel's atomic_waker, so no pinned operation is needed and
    // the stream stays movable.
    /// Ready with the next value, or nullopt once every sender is gone (or the receiver closed) and
    /// the queue is drained; else registers the task's waker with the channel.
    bool poll_next(context& cx, std::optional<T>& out) noexcept {
        assert(rx_.chan_ && "receiver_stream: empty receiver");
        out.reset();
        return rx_.chan_->poll_recv(cx, out);
    }
    /// Drops the receiver's registered waker; nothing was taken.
    void cancel_next() noexcept {
        if (rx_.chan_) rx_.chan_->unregister_rx();
    }

    /// Closes the channel for the senders; queued values can still be read (mpsc::receiver::close).
    void close() noexcept { rx_.close(); }
    /// The receiver, e.g. to close() it or read its metrics.
    mpsc::receiver<T>& get_ref() noexcept { return rx_; }
    /// Gives the receiver back.
    mpsc::receiver<T> into_inner() && noexcept { return std::move(rx_); }

private:
    mpsc::receiver<T> rx_;
};

/// Deduces receiver_stream<T> from an mpsc::receiver<T>.
template <class T>
receiver_stream(mpsc::receiver<T>) -> receiver_stream<T>;

/// Tokio's name for the unbounded twin: the same adapter (corio has one receiver type).
template <class T>
using unbounded_receiver_stream = receiver_stream<T>;

// ---- broadcast ---------------------------------------------------------------------------------

/// The error item of a broadcast_stream: the receiver lagged and `skipped()` values were lost.
class lagged {
public:
    /// `skipped` values were lost.
    constexpr explicit lagged(std::uint64_t skipped) noexcept : skipped_(skipped) {}
    /// How many values this receiver lost by falling behind.
    constexpr std::uint64_t skipped() const noexcept { return skipped_; }
    friend constexpr bool operator==(const lagged&, const lagged&) noexcept = default;

private:
    std::uint64_t skipped_;
};

/// "channel lagged by n": what fmt prints.
inline std::string to_string(const lagged& e) { return fmt::format("channel lagged by {}", e.skipped()); }

/// A broadcast receiver as a stream of result<T, lagged>.
template <class T>
class broadcast_stream : public stream_base<broadcast_stream<T>> {
public:
    /// Each item is a value, or lagged(n) when n values were lost; the stream goes on after a lag.
    using item_type = result<T, lagged>;

    /// Takes ownership of the receiver.
    explicit broadcast_stream(broadcast::receiver<T> rx) noexcept : rx_(std::move(rx)) {}
    /// Between polls. A recv left registered by an abandoned next() is dropped (it has taken
    /// nothing) and the new stream registers afresh.
    broadcast_stream(broadcast_stream&& o) noexcept : done_(o.done_) {
        o.op_.reset();
        rx_ = std::move(o.rx_);
    }
    broadcast_stream& operator=(broadcast_stream&&) = delete;

    // Throws what T's copy constructor throws (that value counts as received).
    /// Ready with the next value or a lagged error, or nullopt once every sender is gone and the
    /// backlog is drained; else registers with the channel.
    bool poll_next(context& cx, std::optional<item_type>& out) {
        if (done_) {
            out.reset();
            return true;
        }
        if (!op_) op_.emplace([this] { return rx_.recv(); });
        if (!op_->poll(cx)) return false;
        detail::on_exit drop_op([this]() noexcept { op_.reset(); });
        auto r = op_->await_resume();
        if (r) {
            out.emplace(std::move(*r));
        } else if (r.error().is_lagged()) {
            out.emplace(unexpected(lagged(r.error().skipped())));
        } else {
            done_ = true;
            out.reset();
        }
        return true;
    }

    /// Drops the pending recv (its destructor cancels it; it had taken nothing).
    void cancel_next() noexcept { op_.reset(); }

    /// The receiver.
    broadcast::receiver<T>& get_ref() noexcept { return rx_; }
    /// Gives the receiver back.
    broadcast::receiver<T> into_inner() && noexcept {
        op_.reset();
        return std::move(rx_);
    }

private:
    broadcast::receiver<T> rx_;  // declared before op_: outlives the recv that points at it
    detail::op_slot<typename broadcast::receiver<T>::recv_operation> op_;
    bool done_ = false;
};

/// Deduces broadcast_stream<T> from a broadcast::receiver<T>.
template <class T>
broadcast_stream(broadcast::receiver<T>) -> broadcast_stream<T>;

// ---- watch -------------------------------------------------------------------------------------

/// A watch receiver as a stream of the values of the versions it sees.
template <class T>
class watch_stream : public stream_base<watch_stream<T>> {
public:
    /// The watched value's type (each item is a copy).
    using item_type = T;

    /// Yields the current value first, then each new version.
    explicit watch_stream(watch::receiver<T> rx) noexcept : rx_(std::move(rx)) {}
    /// Yields from the next version on (the current one counts as seen).
    static watch_stream from_changes(watch::receiver<T> rx) noexcept {
        rx.mark_unchanged();
        watch_stream s(std::move(rx));
        s.first_ = false;
        return s;
    }
    /// Between polls. A changed() left registered by an abandoned next() is dropped (it has
    /// marked nothing seen) and the new stream registers afresh.
    watch_stream(watch_stream&& o) noexcept : first_(o.first_), done_(o.done_) {
        o.op_.reset();
        rx_ = std::move(o.rx_);
    }
    watch_stream& operator=(watch_stream&&) = delete;

    // Throws what T's copy constructor throws.
    /// Ready with a copy of the value of a version not seen yet (the current one first, unless
    /// from_changes()), or nullopt once the sender is gone; else registers with the channel.
    bool poll_next(context& cx, std::optional<T>& out) {
        if (done_ || !rx_) {
            out.reset();
            return true;
        }
        if (first_) {
            if (!cx.poll_budget()) return false;
            first_ = false;
            copy_latest(out);
            return true;
        }
        if (!op_) op_.emplace([this] { return rx_.changed(); });
        if (!op_->poll(cx)) return false;
        const result<void, watch::recv_error> r = op_->await_resume();
        op_.reset();
        if (!r) {
            done_ = true;
            out.reset();
            return true;
        }
        copy_latest(out);
        return true;
    }

    /// Drops the pending changed() (its destructor cancels it; it had marked nothing seen).
    void cancel_next() noexcept { op_.reset(); }

    /// The receiver.
    watch::receiver<T>& get_ref() noexcept { return rx_; }
    /// Gives the receiver back.
    watch::receiver<T> into_inner() && noexcept {
        op_.reset();
        return std::move(rx_);
    }

private:
    void copy_latest(std::optional<T>& out) {
        // The ref (a shared lock on the value) lives for this statement only: long enough to copy.
        out.emplace(*rx_.borrow_and_update());
    }

    watch::receiver<T> rx_;  // declared before op_: outlives the changed() that points at it
    detail::op_slot<typename watch::receiver<T>::changed_operation> op_;
    bool first_ = true;
    bool done_ = false;
};

/// Deduces watch_stream<T> from a watch::receiver<T>.
template <class T>
watch_stream(watch::receiver<T>) -> watch_stream<T>;

}  // namespace corio::stream

template <>
struct fmt::formatter<corio::stream::lagged> : fmt::formatter<std::string_view> {
    template <class FormatContext>
    auto format(const corio::stream::lagged& e, FormatContext& ctx) const {
        return fmt::formatter<std::string_view>::format(to_string(e), ctx);
    }
};
