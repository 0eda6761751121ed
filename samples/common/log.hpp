// samples/common/log.hpp — the samples' logger: four levels, chosen by CORIO_LOG, lines on stderr.
//
//     namespace slog = corio_samples::log;
//     slog::info("{}: runtime {}", name, opts);       // "[info] echo: runtime flavor=multi_thread ..."
//     slog::warn("{}: accept: {}", name, ec.message());
//
//     CORIO_LOG=debug ./echo 7000                      # error, warn, info (the default) or debug
//
// A line is "[<level>] <message>\n" on stderr, written by one fmt::print call: stdio locks the
// stream for the call, so lines from different threads (workers, the signal dispatcher) never
// interleave. The level is read once, on first use; an unknown CORIO_LOG value falls back to info
// with one warning line. A message below the level is not formatted at all.
//
// Logging only: what a program produces (the servers' `listening on ...` line, the patterns'
// reports that their tests check) stays on stdout with fmt::print.
#pragma once

#include <fmt/core.h>

#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

namespace corio_samples::log {

enum class level { error, warn, info, debug };  // each includes the ones before it

constexpr std::string_view name(level l) noexcept {
    switch (l) {
        case level::error: return "error";
        case level::warn: return "warn";
        case level::info: return "info";
        case level::debug: return "debug";
    }
    return "?";
}

/// The level called `text` (any case), or nullopt.
inline std::optional<level> parse_level(std::string_view text) noexcept {
    std::string lower(text);
    for (char& c : lower) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    for (level l : {level::error, level::warn, level::info, level::debug}) {
        if (lower == name(l)) return l;
    }
    return std::nullopt;
}

namespace detail {
inline level read_threshold() {
    const char* env = std::getenv("CORIO_LOG");
    if (env == nullptr || *env == '\0') return level::info;
    if (auto l = parse_level(env)) return *l;
    fmt::print(stderr, "[warn] CORIO_LOG={} is not a level (error, warn, info, debug): logging at info\n", env);
    return level::info;
}
}  // namespace detail

/// The most verbose level written: CORIO_LOG, read on the first call (thread-safe).
inline level threshold() {
    static const level t = detail::read_threshold();
    return t;
}

inline bool enabled(level l) { return l <= threshold(); }

/// Formats and writes one line if `l` is enabled.
inline void write(level l, fmt::string_view format, fmt::format_args args) {
    if (!enabled(l)) return;
    const std::string message = fmt::vformat(format, args);
    fmt::print(stderr, "[{}] {}\n", name(l), message);
}

template <class... Args>
void error(fmt::format_string<Args...> format, Args&&... args) {
    write(level::error, format, fmt::make_format_args(args...));
}
template <class... Args>
void warn(fmt::format_string<Args...> format, Args&&... args) {
    write(level::warn, format, fmt::make_format_args(args...));
}
template <class... Args>
void info(fmt::format_string<Args...> format, Args&&... args) {
    write(level::info, format, fmt::make_format_args(args...));
}
template <class... Args>
void debug(fmt::format_string<Args...> format, Args&&... args) {
    write(level::debug, format, fmt::make_format_args(args...));
}

}  // namespace corio_samples::log
