// socket_util.hpp — small pieces shared by the socket types (tcp, unix) in io/src/net.
#pragma once

#include <corio/io/detail/io_source.hpp>
#include <corio/runtime/time.hpp>
#include <corio/runtime/waker.hpp>

#include <sys/socket.h>

#include <optional>
#include <system_error>

namespace corio::net::detail {

inline std::error_code last_error() { return {errno, std::system_category()}; }

// A non-blocking, close-on-exec socket adopted by a fresh io_source (in `out`).
std::error_code open_socket(int family, int type, corio::detail::io::source_ptr& out) noexcept;

// The accept loop of every listener: poll_accept, and on descriptor exhaustion (EMFILE, ENFILE,
// ENOBUFS, ENOMEM) report once per listener on stderr (`who` names it), back off 100 ms on the
// runtime's clock and retry, never returning those errors; ECONNABORTED/EINTR retry at once.
// `pending` tells the awaiter's cancel() (and destructor) that the last poll was pending: on
// the back-off sleep if `backoff` is engaged, else on the kernel accept.
// `r` gets the final outcome.
bool poll_accept_loop(corio::detail::io::io_source* s, context& cx, std::optional<time::sleep_operation>& backoff,
                      corio::detail::io::io_poll& r, bool& pending, bool& reported, const char* who,
                      ::sockaddr_storage* addr, ::socklen_t* addrlen) noexcept;

}  // namespace corio::net::detail
