/// \file
/// corio/channels/broadcast/error.hpp — what broadcast operations report when they cannot complete.
#pragma once

#include <corio/channels/error.hpp>

#include <fmt/format.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace corio::broadcast {

/// send(): every receiver is gone; the value comes back.
template <class T>
using send_error = ::corio::send_error<T>;

/// recv(): the channel is closed and drained, or this receiver lagged and `skipped()` values were
/// lost (the receiver then continues from the oldest value still held).
class recv_error {
public:
    /// Which of the two failures this is.
    enum class kind { closed, lagged };

    /// The channel is closed: every sender is gone and this receiver has read everything.
    static constexpr recv_error closed() noexcept { return recv_error(kind::closed, 0); }
    /// This receiver fell behind and `skipped` values were overwritten before it read them.
    static constexpr recv_error lagged(std::uint64_t skipped) noexcept { return recv_error(kind::lagged, skipped); }

    /// closed or lagged.
    constexpr kind what_kind() const noexcept { return kind_; }
    /// True if every sender is gone and the backlog is drained: no value will come.
    constexpr bool is_closed() const noexcept { return kind_ == kind::closed; }
    /// True if values were lost to overwriting; the next recv() continues from the oldest value held.
    constexpr bool is_lagged() const noexcept { return kind_ == kind::lagged; }
    /// How many values were lost; 0 unless lagged.
    constexpr std::uint64_t skipped() const noexcept { return skipped_; }  // 0 unless lagged
    friend constexpr bool operator==(const recv_error&, const recv_error&) noexcept = default;

private:
    constexpr recv_error(kind k, std::uint64_t n) noexcept : kind_(k), skipped_(n) {}
    kind kind_;
    std::uint64_t skipped_;
};

/// try_recv(): nothing new yet (empty), or as recv_error.
class try_recv_error {
public:
    /// Which of the three failures this is.
    enum class kind { empty, closed, lagged };

    /// Nothing new has been sent since this receiver's last value.
    static constexpr try_recv_error empty() noexcept { return try_recv_error(kind::empty, 0); }
    /// Every sender is gone and the backlog is drained.
    static constexpr try_recv_error closed() noexcept { return try_recv_error(kind::closed, 0); }
    /// This receiver fell behind and `skipped` values were overwritten before it read them.
    static constexpr try_recv_error lagged(std::uint64_t skipped) noexcept {
        return try_recv_error(kind::lagged, skipped);
    }

    /// empty, closed or lagged.
    constexpr kind what_kind() const noexcept { return kind_; }
    /// True if nothing new is queued for this receiver (senders remain: try again later).
    constexpr bool is_empty() const noexcept { return kind_ == kind::empty; }
    /// True if every sender is gone and the backlog is drained.
    constexpr bool is_closed() const noexcept { return kind_ == kind::closed; }
    /// True if values were lost to overwriting; the next try_recv() continues from the oldest value held.
    constexpr bool is_lagged() const noexcept { return kind_ == kind::lagged; }
    /// How many values were lost; 0 unless lagged.
    constexpr std::uint64_t skipped() const noexcept { return skipped_; }
    friend constexpr bool operator==(const try_recv_error&, const try_recv_error&) noexcept = default;

private:
    constexpr try_recv_error(kind k, std::uint64_t n) noexcept : kind_(k), skipped_(n) {}
    kind kind_;
    std::uint64_t skipped_;
};

/// "channel closed" or "channel lagged by n": the text fmt prints.
inline std::string to_string(const recv_error& e) {
    return e.is_closed() ? std::string("channel closed") : fmt::format("channel lagged by {}", e.skipped());
}
/// "channel empty", "channel closed" or "channel lagged by n": the text fmt prints.
inline std::string to_string(const try_recv_error& e) {
    switch (e.what_kind()) {
        case try_recv_error::kind::empty: return "channel empty";
        case try_recv_error::kind::closed: return "channel closed";
        default: return fmt::format("channel lagged by {}", e.skipped());
    }
}

}  // namespace corio::broadcast

template <>
struct fmt::formatter<corio::broadcast::recv_error> : fmt::formatter<std::string_view> {
    template <class FormatContext>
    auto format(const corio::broadcast::recv_error& e, FormatContext& ctx) const {
        return fmt::formatter<std::string_view>::format(to_string(e), ctx);
    }
};

template <>
struct fmt::formatter<corio::broadcast::try_recv_error> : fmt::formatter<std::string_view> {
    template <class FormatContext>
    auto format(const corio::broadcast::try_recv_error& e, FormatContext& ctx) const {
        return fmt::formatter<std::string_view>::format(to_string(e), ctx);
    }
};
