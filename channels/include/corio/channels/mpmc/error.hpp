/// \file
/// corio/channels/mpmc/error.hpp — what mpmc operations report: the same errors as mpsc's, under
/// corio::mpmc (the channels fail in the same ways, so a caller handles both alike).
///
///   send_error<T> (corio/channels/error.hpp)  every receiver is gone, or the channel was closed;
///                           the value comes back.
///   try_send_error<T>       full (no free slot now; always on a rendezvous channel) or closed;
///                           the value comes back either way.
///   send_timeout_error<T>   timeout or closed; the value comes back.
///   try_recv_error          empty (nothing now) or closed (every sender gone or the channel
///                           closed, and drained).
///   recv_timeout_error      timeout (nothing arrived in time; nothing was taken) or closed (as
///                           try_recv_error::closed).
#pragma once

#include <corio/channels/error.hpp>
#include <corio/channels/mpsc/error.hpp>

#include <fmt/format.h>

#include <string_view>

namespace corio::mpmc {

using ::corio::send_error;
/// try_send(): full or closed, with the value handed back (the same type as mpsc's).
template <class T>
using try_send_error = ::corio::mpsc::try_send_error<T>;
/// send_timeout(): timeout or closed, with the value handed back (the same type as mpsc's).
template <class T>
using send_timeout_error = ::corio::mpsc::send_timeout_error<T>;
/// try_recv(): empty or closed (the same type as mpsc's).
using try_recv_error = ::corio::mpsc::try_recv_error;

/// recv_timeout(): the deadline passed with nothing received, or the channel is closed and drained.
enum class recv_timeout_error { timeout, closed };

/// "timed out waiting on receive operation" or "channel closed": what fmt prints.
constexpr std::string_view to_string(recv_timeout_error e) noexcept {
    return e == recv_timeout_error::timeout ? "timed out waiting on receive operation" : "channel closed";
}

}  // namespace corio::mpmc

template <>
struct fmt::formatter<corio::mpmc::recv_timeout_error> : fmt::formatter<std::string_view> {
    template <class FormatContext>
    auto format(corio::mpmc::recv_timeout_error e, FormatContext& ctx) const {
        return fmt::formatter<std::string_view>::format(to_string(e), ctx);
    }
};
