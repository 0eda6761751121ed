// describe_source: an io leaf's description for dumps (corio/io/stream_ops.hpp). The addresses
// come from the kernel (getsockname, getpeername) when the dump is taken: nothing is stored per
// socket for it.
#include <corio/io/stream_ops.hpp>
#include <corio/net/socket_addr.hpp>

#include <fmt/format.h>

#include <sys/socket.h>

#include <iterator>

namespace corio::io::detail {

void describe_source(std::string& out, std::string_view what, const corio::detail::io::io_source* s) {
    auto o = std::back_inserter(out);
    const int fd = s ? corio::detail::io::source_fd(s) : -1;
    ::sockaddr_storage local{};
    ::socklen_t len = sizeof local;
    if (fd < 0 || ::getsockname(fd, reinterpret_cast<::sockaddr*>(&local), &len) != 0) {
        fmt::format_to(o, "{} on fd {}", what, fd);
        return;
    }
    if (local.ss_family == AF_UNIX) {
        fmt::format_to(o, "{} on unix socket (fd {})", what, fd);
        return;
    }
    if (local.ss_family != AF_INET && local.ss_family != AF_INET6) {
        fmt::format_to(o, "{} on fd {}", what, fd);
        return;
    }
    int type = 0;
    ::socklen_t type_len = sizeof type;
    ::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &type_len);
    fmt::format_to(o, "{} on {} {}", what, type == SOCK_DGRAM ? "udp" : "tcp",
                   net::socket_addr::from_native(reinterpret_cast<const ::sockaddr*>(&local), len));
    ::sockaddr_storage peer{};
    ::socklen_t peer_len = sizeof peer;
    if (::getpeername(fd, reinterpret_cast<::sockaddr*>(&peer), &peer_len) == 0)
        fmt::format_to(o, " (peer {})", net::socket_addr::from_native(reinterpret_cast<const ::sockaddr*>(&peer), peer_len));
}

}  // namespace corio::io::detail
