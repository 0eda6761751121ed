#include <corio/net/tcp_stream.hpp>
#include <corio/net/udp_socket.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace corio::net {

result<udp_socket, std::error_code> udp_socket::bind(const socket_addr& addr) {
    const int fd = ::socket(addr.family(), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return unexpected(std::error_code(errno, std::system_category()));
    corio::detail::io::source_ptr src(corio::detail::io::source_adopt(fd));
    if (::bind(fd, addr.native(), addr.native_len()) != 0) return unexpected(std::error_code(errno, std::system_category()));
    return udp_socket(std::move(src));
}

result<void, std::error_code> udp_socket::connect(const socket_addr& peer) const {
    if (::connect(native_handle(), peer.native(), peer.native_len()) != 0)
        return unexpected(std::error_code(errno, std::system_category()));
    return {};
}

result<socket_addr, std::error_code> udp_socket::local_addr() const { return detail::local_addr_of(native_handle()); }
result<socket_addr, std::error_code> udp_socket::peer_addr() const { return detail::peer_addr_of(native_handle()); }

}  // namespace corio::net
