/// \file
/// corio/channels/watch/error.hpp — what watch operations report when they cannot complete.
#pragma once

#include <corio/channels/error.hpp>

#include <fmt/format.h>

#include <string_view>

namespace corio::watch {

/// changed() / wait_for() / has_changed(): the sender is gone (and, for changed(), the receiver
/// has seen the last version).
enum class recv_error { closed };

/// "channel closed": what fmt prints.
constexpr std::string_view to_string(recv_error) noexcept { return "channel closed"; }

/// send(): every receiver is gone; the value comes back.
template <class T>
using send_error = ::corio::send_error<T>;

}  // namespace corio::watch

template <>
struct fmt::formatter<corio::watch::recv_error> : fmt::formatter<std::string_view> {
    template <class FormatContext>
    auto format(corio::watch::recv_error e, FormatContext& ctx) const {
        return fmt::formatter<std::string_view>::format(to_string(e), ctx);
    }
};
