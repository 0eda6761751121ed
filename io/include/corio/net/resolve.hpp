/// \file
/// corio/net/resolve.hpp — name resolution (Tokio's tokio::net::lookup_host).
///
///     auto addrs = co_await corio::net::resolve("localhost", 8080);  // result<vector<socket_addr>, error_code>
///     for (auto& a : *addrs) { auto s = co_await tcp_stream::connect(a); if (s) break; }
///
/// A TASK (corio::task<...>): getaddrinfo blocks, so it runs on the runtime's blocking pool
///   (corio::spawn_blocking) while the task waits. Call it on a runtime worker.
/// Result: the addresses in getaddrinfo's order (AF_INET and AF_INET6, SOCK_STREAM, duplicates
///   removed), each with `port`. A numeric host ("127.0.0.1", "::1") resolves without a lookup.
/// Errors: resolve_category() — getaddrinfo's EAI_* codes (EAI_NONAME: the name does not exist,
///   EAI_AGAIN: temporary failure...); EAI_SYSTEM is reported as the errno (system_category).
/// Cancellation: cancelling the task stops the wait, not the lookup: getaddrinfo runs to its end on
///   the pool thread, which owns every argument it uses (copies).
#pragma once

#include <corio/net/socket_addr.hpp>
#include <corio/result.hpp>
#include <corio/runtime/task.hpp>

#include <cstdint>
#include <string>
#include <system_error>
#include <vector>

namespace corio::net {

/// getaddrinfo's error codes (EAI_NONAME, ...), message from gai_strerror.
const std::error_category& resolve_category() noexcept;

/// Resolves `host` (a name or a numeric address) with getaddrinfo on the blocking pool, giving
/// every address with `port`; errors are in resolve_category().
corio::task<result<std::vector<socket_addr>, std::error_code>> resolve(std::string host, std::uint16_t port);

namespace detail {
// The blocking part (runs on a pool thread).
result<std::vector<socket_addr>, std::error_code> resolve_blocking(const std::string& host, std::uint16_t port);
}  // namespace detail

}  // namespace corio::net
