/// \file
/// corio/channels/error.hpp — what channel operations report when they cannot complete.
///
/// Channel operations return corio::result<T, E>; these are the E's. They are values, not
/// exceptions: a closed or empty channel is an expected outcome. Each error has Tokio's short
/// lower-case text, through to_string() and fmt ("{}"). result<T, E>::value() on one of them
/// throws corio::bad_result_access<E>.
///
///   send_error<T>                 the receiving side is gone; `value` is the message, handed back.
///   oneshot::recv_error::closed   the sender was destroyed without sending (or the value was taken).
///   oneshot::try_recv_error       empty (nothing sent yet) or closed (as recv_error::closed).
#pragma once

#include <fmt/format.h>

#include <string_view>
#include <type_traits>
#include <utility>

namespace corio {

/// A send failed because the receiver is gone. The value comes back to the caller.
template <class T>
class send_error {
public:
    /// Wraps the value that could not be sent.
    explicit send_error(T v) noexcept(std::is_nothrow_move_constructible_v<T>) : value(std::move(v)) {}

    /// The message that was not sent, handed back to the caller.
    T value;

    /// "channel closed" (Tokio's text), the same as to_string().
    static constexpr std::string_view what() noexcept { return "channel closed"; }
    /// Takes the value back out of the error (Tokio's SendError::0 / into_inner).
    T into_inner() && noexcept(std::is_nothrow_move_constructible_v<T>) { return std::move(value); }
};

/// "channel closed": the text fmt prints for a send_error.
template <class T>
constexpr std::string_view to_string(const send_error<T>&) noexcept {
    return "channel closed";
}

namespace oneshot {

/// What oneshot::receiver::recv() reports when no value will come.
enum class recv_error { closed };
/// What oneshot::receiver::try_recv() reports when it has no value to give.
enum class try_recv_error { empty, closed };

/// "channel closed": the text fmt prints.
constexpr std::string_view to_string(recv_error) noexcept { return "channel closed"; }
/// "channel empty" or "channel closed": the text fmt prints.
constexpr std::string_view to_string(try_recv_error e) noexcept {
    return e == try_recv_error::empty ? "channel empty" : "channel closed";
}

}  // namespace oneshot
}  // namespace corio

template <class T>
struct fmt::formatter<corio::send_error<T>> : fmt::formatter<std::string_view> {
    template <class FormatContext>
    auto format(const corio::send_error<T>& e, FormatContext& ctx) const {
        return fmt::formatter<std::string_view>::format(to_string(e), ctx);
    }
};

template <>
struct fmt::formatter<corio::oneshot::recv_error> : fmt::formatter<std::string_view> {
    template <class FormatContext>
    auto format(corio::oneshot::recv_error e, FormatContext& ctx) const {
        return fmt::formatter<std::string_view>::format(to_string(e), ctx);
    }
};

template <>
struct fmt::formatter<corio::oneshot::try_recv_error> : fmt::formatter<std::string_view> {
    template <class FormatContext>
    auto format(corio::oneshot::try_recv_error e, FormatContext& ctx) const {
        return fmt::formatter<std::string_view>::format(to_string(e), ctx);
    }
};
