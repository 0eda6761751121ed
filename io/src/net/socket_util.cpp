#include "socket_util.hpp"

#include <corio/net/tcp_listener.hpp>

#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace corio::net::detail {

std::error_code open_socket(int family, int type, corio::detail::io::source_ptr& out) noexcept {
    const int fd = ::socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return last_error();
    try {
        out = corio::detail::io::source_ptr(corio::detail::io::source_adopt(fd));
    } catch (...) {
        ::close(fd);
        return std::make_error_code(std::errc::not_enough_memory);
    }
    return {};
}

bool poll_accept_loop(corio::detail::io::io_source* s, context& cx, std::optional<time::sleep_operation>& backoff,
                      corio::detail::io::io_poll& r, bool& pending, bool& reported, const char* who,
                      ::sockaddr_storage* addr, ::socklen_t* addrlen) noexcept {
    for (;;) {
        if (backoff) {
            if (!backoff->poll_deadline(cx)) return false;
            backoff.reset();
        }
        *addrlen = sizeof(::sockaddr_storage);
        r = corio::detail::io::poll_accept(s, cx, addr, addrlen);
        pending = !r.ready;
        if (!r.ready) return false;
        switch (r.err) {
            case EMFILE:
            case ENFILE:
            case ENOBUFS:
            case ENOMEM:
                // Out of descriptors (or socket memory): retrying at once would spin on the same
                // error. Report once per listener, back off, retry.
                if (!reported) {
                    reported = true;
                    fmt::print(stderr, "corio: {}::accept: {}; backing off {} ms and retrying (reported once)\n", who,
                               std::strerror(r.err), accept_operation::exhaustion_backoff.count());
                }
                backoff.emplace(time::now() + accept_operation::exhaustion_backoff);
                pending = true;
                continue;
            case ECONNABORTED:
            case EINTR:
                continue;  // that client gave up; take the next one
            default:
                return true;
        }
    }
}

}  // namespace corio::net::detail
