// corio/channels/mpsc/error.hpp — what mpsc operations report when they cannot complete.
//
//   send_error<T> (corio/channels/error.hpp)  the receiver is gone or closed; the value comes back.
//   try_send_error<T>       full (no capacity now) or closed; the value comes back either way.
//   try_recv_error          empty (nothing queued now) or closed (every sender gone, queue drained;
//                           or the receiver closed and drained).
//   reserve_error::closed   the receiver is gone or closed.
//   try_reserve_error       full or closed.
// Each has Tokio's short lower-case text through to_string() and fmt ("{}").
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
    enum class kind { full, closed };

    try_send_error(kind k, T v) noexcept(std::is_nothrow_move_constructible_v<T>) : kind_(k), value(std::move(v)) {}
    static try_send_error full(T v) { return try_send_error(kind::full, std::move(v)); }
    static try_send_error closed(T v) { return try_send_error(kind::closed, std::move(v)); }

    kind what_kind() const noexcept { return kind_; }
    bool is_full() const noexcept { return kind_ == kind::full; }
    bool is_closed() const noexcept { return kind_ == kind::closed; }
    T into_inner() && noexcept(std::is_nothrow_move_constructible_v<T>) { return std::move(value); }

private:
    kind kind_;

public:
    T value;
};

template <class T>
constexpr std::string_view to_string(const try_send_error<T>& e) noexcept {
    return e.is_full() ? "no available capacity" : "channel closed";
}

/// send_timeout failed: the deadline passed before capacity was free, or the channel is closed.
/// The value comes back to the caller either way.
template <class T>
class send_timeout_error {
public:
    enum class kind { timeout, closed };

    send_timeout_error(kind k, T v) noexcept(std::is_nothrow_move_constructible_v<T>) : kind_(k), value(std::move(v)) {}

    kind what_kind() const noexcept { return kind_; }
    bool is_timeout() const noexcept { return kind_ == kind::timeout; }
    bool is_closed() const noexcept { return kind_ == kind::closed; }
    T into_inner() && noexcept(std::is_nothrow_move_constructible_v<T>) { return std::move(value); }

private:
    kind kind_;

public:
    T value;
};

template <class T>
constexpr std::string_view to_string(const send_timeout_error<T>& e) noexcept {
    return e.is_timeout() ? "timed out waiting on send operation" : "channel closed";
}

enum class try_recv_error { empty, closed };
enum class reserve_error { closed };
enum class try_reserve_error { full, closed };

constexpr std::string_view to_string(try_recv_error e) noexcept {
    return e == try_recv_error::empty ? "receiving on an empty channel" : "receiving on a closed channel";
}
constexpr std::string_view to_string(reserve_error) noexcept { return "channel closed"; }
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
