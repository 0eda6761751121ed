/// \file
/// corio/channels/mpsc/error.hpp — what mpsc operations report when they cannot complete.
///
///   send_error<T> (corio/channels/error.hpp)  the receiver is gone or closed; the value comes back.
///   try_send_error<T>       full (no capacity now) or closed; the value comes back either way.
///   try_recv_error          empty (nothing queued now) or closed (every sender gone, queue drained;
///                           or the receiver closed and drained).
///   reserve_error::closed   the receiver is gone or closed.
///   try_reserve_error       full or closed.
/// Each has Tokio's short lower-case text through to_string() and fmt ("{}").
#pragma once

#include <corio/channels/error.hpp>

#include <fmt/format.h>

#include <string_view>
#include <type_traits>
#include <utility>

namespace corio::mpsc {

/// try_send failed: the channel is full or closed. The value comes back to the caller.
template <class T>
class try_send_error {
public:
    /// Which failure: no capacity now, or the receiver is gone or closed.
    enum class kind { full, closed };

    /// An error of kind `k` carrying the value back.
    try_send_error(kind k, T v) noexcept(std::is_nothrow_move_constructible_v<T>) : kind_(k), value(std::move(v)) {}
    /// The channel had no free capacity; the value comes back.
    static try_send_error full(T v) { return try_send_error(kind::full, std::move(v)); }
    /// The receiver is gone or closed; the value comes back.
    static try_send_error closed(T v) { return try_send_error(kind::closed, std::move(v)); }

    /// full or closed.
    kind what_kind() const noexcept { return kind_; }
    /// True if the channel was full: the value may be sent again later.
    bool is_full() const noexcept { return kind_ == kind::full; }
    /// True if the receiver is gone or closed: no send will succeed.
    bool is_closed() const noexcept { return kind_ == kind::closed; }
    /// Takes the value back out of the error.
    T into_inner() && noexcept(std::is_nothrow_move_constructible_v<T>) { return std::move(value); }

private:
    kind kind_;

public:
    /// The message that was not sent, handed back to the caller.
    T value;
};

/// "no available capacity" or "channel closed" (Tokio's texts): what fmt prints.
template <class T>
constexpr std::string_view to_string(const try_send_error<T>& e) noexcept {
    return e.is_full() ? "no available capacity" : "channel closed";
}

/// send_timeout failed: the deadline passed before capacity was free, or the channel is closed.
/// The value comes back to the caller either way.
template <class T>
class send_timeout_error {
public:
    /// Which failure: the deadline passed, or the receiver is gone or closed.
    enum class kind { timeout, closed };

    /// An error of kind `k` carrying the value back.
    send_timeout_error(kind k, T v) noexcept(std::is_nothrow_move_constructible_v<T>) : kind_(k), value(std::move(v)) {}

    /// timeout or closed.
    kind what_kind() const noexcept { return kind_; }
    /// True if the deadline passed before capacity was free.
    bool is_timeout() const noexcept { return kind_ == kind::timeout; }
    /// True if the receiver is gone or closed.
    bool is_closed() const noexcept { return kind_ == kind::closed; }
    /// Takes the value back out of the error.
    T into_inner() && noexcept(std::is_nothrow_move_constructible_v<T>) { return std::move(value); }

private:
    kind kind_;

public:
    /// The message that was not sent, handed back to the caller.
    T value;
};

/// "timed out waiting on send operation" or "channel closed": what fmt prints.
template <class T>
constexpr std::string_view to_string(const send_timeout_error<T>& e) noexcept {
    return e.is_timeout() ? "timed out waiting on send operation" : "channel closed";
}

/// try_recv(): empty (nothing queued now, senders remain) or closed (every sender gone or the
/// receiver closed, and the queue drained).
enum class try_recv_error { empty, closed };
/// reserve(): the receiver is gone or closed.
enum class reserve_error { closed };
/// try_reserve(): full (no free slot now) or closed.
enum class try_reserve_error { full, closed };

/// "receiving on an empty channel" or "receiving on a closed channel": what fmt prints.
constexpr std::string_view to_string(try_recv_error e) noexcept {
    return e == try_recv_error::empty ? "receiving on an empty channel" : "receiving on a closed channel";
}
/// "channel closed": what fmt prints.
constexpr std::string_view to_string(reserve_error) noexcept { return "channel closed"; }
/// "no available capacity" or "channel closed": what fmt prints.
constexpr std::string_view to_string(try_reserve_error e) noexcept {
    return e == try_reserve_error::full ? "no available capacity" : "channel closed";
}

}  // namespace corio::mpsc

template <class T>
struct fmt::formatter<corio::mpsc::try_send_error<T>> : fmt::formatter<std::string_view> {
    template <class FormatContext>
    auto format(const corio::mpsc::try_send_error<T>& e, FormatContext& ctx) const {
        return fmt::formatter<std::string_view>::format(to_string(e), ctx);
    }
};

template <class T>
struct fmt::formatter<corio::mpsc::send_timeout_error<T>> : fmt::formatter<std::string_view> {
    template <class FormatContext>
    auto format(const corio::mpsc::send_timeout_error<T>& e, FormatContext& ctx) const {
        return fmt::formatter<std::string_view>::format(to_string(e), ctx);
    }
};

template <>
struct fmt::formatter<corio::mpsc::try_recv_error> : fmt::formatter<std::string_view> {
    template <class FormatContext>
    auto format(corio::mpsc::try_recv_error e, FormatContext& ctx) const {
        return fmt::formatter<std::string_view>::format(to_string(e), ctx);
    }
};

template <>
struct fmt::formatter<corio::mpsc::reserve_error> : fmt::formatter<std::string_view> {
    template <class FormatContext>
    auto format(corio::mpsc::reserve_error e, FormatContext& ctx) const {
        return fmt::formatter<std::string_view>::format(to_string(e), ctx);
    }
};

template <>
struct fmt::formatter<corio::mpsc::try_reserve_error> : fmt::formatter<std::string_view> {
    template <class FormatContext>
    auto format(corio::mpsc::try_reserve_error e, FormatContext& ctx) const {
        return fmt::formatter<std::string_view>::format(to_string(e), ctx);
    }
};
