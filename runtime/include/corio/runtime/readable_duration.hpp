// corio/runtime/readable_duration.hpp — a duration formatted for people: "1.5ms", "10s", "250us".
//
//     fmt::print("drained in {}\n", corio::readable(elapsed));   // "drained in 1.5ms"
//
// fmt's own chrono formatter (<fmt/chrono.h>) prints a duration in the unit of its type, so
// std::chrono::milliseconds{10'000} reads "10000ms" and a nanosecond count from a steady_clock
// difference reads "1500000ns". Reports (runtime_options, the samples' summaries) want the unit
// to follow the magnitude instead, as Rust's Debug for Duration does: the largest of s, ms, us,
// ns in which the value is at least 1, with the shortest decimal fraction that is exact. ASCII
// "us", not "µs", so that log lines stay plain ASCII.
#pragma once

#include <fmt/format.h>

#include <chrono>
#include <cstdint>

namespace corio {

/// A duration to format with fmt ("{}"); made by corio::readable(d).
struct readable_duration {
    /// The duration to print.
    std::chrono::nanoseconds value;
};

/// Wraps `d` (rounded to whole nanoseconds) for fmt: fmt::format("{}", corio::readable(1500us)) == "1.5ms".
template <class Rep, class Period>
constexpr readable_duration readable(std::chrono::duration<Rep, Period> d) noexcept {
    return {std::chrono::round<std::chrono::nanoseconds>(d)};
}

}  // namespace corio

template <>
struct fmt::formatter<corio::readable_duration> {
    constexpr auto parse(fmt::format_parse_context& ctx) { return ctx.begin(); }

    template <class FormatContext>
    auto format(const corio::readable_duration& d, FormatContext& ctx) const {
        const std::int64_t ns = d.value.count();
        // The magnitude picks the unit; a negative duration keeps its sign in front.
        const std::uint64_t mag = ns < 0 ? 0 - static_cast<std::uint64_t>(ns) : static_cast<std::uint64_t>(ns);
        const char* sign = ns < 0 ? "-" : "";
        if (mag >= 1'000'000'000) return fmt::format_to(ctx.out(), "{}{}s", sign, static_cast<double>(mag) / 1e9);
        if (mag >= 1'000'000) return fmt::format_to(ctx.out(), "{}{}ms", sign, static_cast<double>(mag) / 1e6);
        if (mag >= 1'000) return fmt::format_to(ctx.out(), "{}{}us", sign, static_cast<double>(mag) / 1e3);
        return fmt::format_to(ctx.out(), "{}{}ns", sign, mag);
    }
};
