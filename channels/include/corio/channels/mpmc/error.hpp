// corio/channels/mpmc/error.hpp — what mpmc operations report: the same errors as mpsc's, under
// corio::mpmc (the channels fail in the same ways, so a caller handles both alike).
//
//   send_error<T> (corio/channels/error.hpp)  every receiver is gone, or the channel was closed;
//                           the value comes back.
//   try_send_error<T>       full (no free slot now; always on a rendezvous channel) or closed;
//                           the value comes back either way.
//   send_timeout_error<T>   timeout or closed; the value comes back.
//   try_recv_error          empty (nothing now) or closed (every sender gone or the channel
//                           closed, and drained).
//   recv_timeout_error      timeout (nothing arrived in time; nothing was taken) or closed (as
//                           try_recv_error::closed).
#pragma once

#include <corio/channels/error.hpp>
#include <corio/channels/mpsc/error.hpp>

#include <fmt/format.h>

#include <string_view>

namespace corio::mpmc {

using ::corio::send_error;
template <class T>
using try_send_error = ::corio::mpsc::try_send_error<T>;
template <class T>
using send_timeout_error = ::corio::mpsc::send_timeout_error<T>;
using try_recv_error = ::corio::mpsc::try_recv_error;

enum class recv_timeout_error { timeout, closed };

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
