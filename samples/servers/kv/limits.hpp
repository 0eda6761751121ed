// samples/servers/kv/limits.hpp — what a client may make the kv server hold, and the config file
// they load from.
//
// The file is `key = value` lines; `#` starts a comment; blank lines are ignored:
//
//     # kv.conf
//     max_value_size = 1024      # bytes in one value
//     max_keys = 10000           # keys in the store
//     subscriber_buffer = 256    # events a subscriber may fall behind before it is told LAGGED
//
// Keys left out keep their defaults. An unknown key or a value that is not a positive integer
// makes the whole file invalid (the server then refuses to start, or a SIGHUP reload keeps the
// limits it had): a typo must not silently reset a limit.
#pragma once

#include <corio/result.hpp>

#include <charconv>
#include <cstddef>
#include <fstream>
#include <string>
#include <string_view>
#include <system_error>

namespace corio_samples::kv {

struct limits {
    std::size_t max_value_size = 1024;
    std::size_t max_keys = 10000;
    std::size_t subscriber_buffer = 256;  // at most event_capacity (main.cpp): the ring's size
};

namespace detail {
inline std::string_view trim(std::string_view s) {
    const auto first = s.find_first_not_of(" \t\r");
    if (first == std::string_view::npos) return {};
    const auto last = s.find_last_not_of(" \t\r");
    return s.substr(first, last - first + 1);
}
}  // namespace detail

/// Parses the text of a config file on top of `base`. Errors name the line.
inline corio::result<limits, std::string> parse_limits(std::string_view text, limits base = {}) {
    std::size_t line_no = 0;
    while (!text.empty()) {
        ++line_no;
        const auto nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
        if (const auto hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
        line = detail::trim(line);
        if (line.empty()) continue;
        const auto eq = line.find('=');
        if (eq == std::string_view::npos)
            return corio::unexpected("line " + std::to_string(line_no) + ": expected `key = value`");
        const std::string_view key = detail::trim(line.substr(0, eq));
        const std::string_view value = detail::trim(line.substr(eq + 1));
        std::size_t n = 0;
        const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
        if (ec != std::errc() || end != value.data() + value.size() || n == 0)
            return corio::unexpected("line " + std::to_string(line_no) + ": `" + std::string(value) +
                                     "` is not a positive integer");
        if (key == "max_value_size") base.max_value_size = n;
        else if (key == "max_keys") base.max_keys = n;
        else if (key == "subscriber_buffer") base.subscriber_buffer = n;
        else return corio::unexpected("line " + std::to_string(line_no) + ": unknown key `" + std::string(key) + "`");
    }
    return base;
}

/// Reads and parses the file at `path` (defaults for the keys it leaves out).
inline corio::result<limits, std::string> load_limits(const std::string& path) {
    std::ifstream in(path);
    if (!in) return corio::unexpected("cannot open " + path);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return parse_limits(text);
}

}  // namespace corio_samples::kv
