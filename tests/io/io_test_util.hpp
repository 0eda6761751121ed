// io_test_util.hpp — helpers shared by the io tests: a 2-worker runtime, byte patterns, spans.
#pragma once

#include <corio/net/socket_addr.hpp>
#include <corio/net/tcp_listener.hpp>
#include <corio/net/tcp_stream.hpp>
#include <corio/runtime/runtime.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace corio::testing {

inline runtime_options two_workers() {
    runtime_options o;
    o.worker_threads = 2;
    return o;
}

// Byte i of a deterministic stream identified by `seed`.
inline std::byte pattern_byte(std::uint64_t seed, std::uint64_t i) {
    std::uint64_t x = (i + 1) * 0x9E3779B97F4A7C15ull ^ seed;
    x ^= x >> 29;
    return static_cast<std::byte>(x & 0xff);
}

inline std::vector<std::byte> pattern(std::uint64_t seed, std::size_t n, std::uint64_t offset = 0) {
    std::vector<std::byte> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = pattern_byte(seed, offset + i);
    return v;
}

inline std::span<const std::byte> bytes_of(std::string_view s) { return std::as_bytes(std::span(s.data(), s.size())); }

inline std::string to_string(std::span<const std::byte> b) {
    return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

}  // namespace corio::testing
