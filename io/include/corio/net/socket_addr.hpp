/// \file
/// corio/net/socket_addr.hpp — an IPv4 or IPv6 socket address (Tokio's std::net::SocketAddr).
///
///     auto a = corio::net::socket_addr::parse("127.0.0.1:8080");   // result<socket_addr, error_code>
///     auto b = corio::net::socket_addr::parse("[::1]:0");          // IPv6 in brackets
///     auto c = corio::net::socket_addr::ipv4_loopback(0);
///     fmt::format("{}", *a) == a->to_string() == "127.0.0.1:8080"; "[::1]:0" for IPv6
///
/// Parsing takes numeric addresses only ("host:port" with a literal IP); names go through
/// corio::net::resolve() (corio/net/resolve.hpp). Errors: std::errc::invalid_argument.
#pragma once

#include <corio/result.hpp>

#include <fmt/format.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

namespace corio::net {

/// An IPv4 or IPv6 socket address (std::net::SocketAddr). Parsing takes numeric addresses only;
/// names go through resolve(). Formats as "1.2.3.4:80" or "[::1]:80".
class socket_addr {
public:
    socket_addr() noexcept;  // 0.0.0.0:0

    /// Parses "ip:port" ("[ipv6]:port" for IPv6); std::errc::invalid_argument if it is not one.
    static result<socket_addr, std::error_code> parse(std::string_view host_port);
    /// A literal IP and a port.
    static result<socket_addr, std::error_code> from_ip(std::string_view ip, std::uint16_t port);
    /// The IPv4 loopback address, 127.0.0.1, with `port`.
    static socket_addr ipv4_loopback(std::uint16_t port) noexcept;
    /// The IPv6 loopback address, [::1], with `port`.
    static socket_addr ipv6_loopback(std::uint16_t port) noexcept;
    /// 0.0.0.0:port (every IPv4 interface).
    static socket_addr ipv4_any(std::uint16_t port) noexcept;
    /// From what accept/getsockname filled in (AF_INET or AF_INET6; anything else: invalid).
    static socket_addr from_native(const ::sockaddr* sa, ::socklen_t len) noexcept;

    /// True for an IPv4 address.
    bool is_ipv4() const noexcept { return storage_.ss_family == AF_INET; }
    /// True for an IPv6 address.
    bool is_ipv6() const noexcept { return storage_.ss_family == AF_INET6; }
    /// The port, in host byte order.
    std::uint16_t port() const noexcept;
    /// Sets the port (host byte order).
    void set_port(std::uint16_t port) noexcept;
    /// The address without the port: "1.2.3.4" or "::1".
    std::string ip_string() const;
    /// "1.2.3.4:80" or "[::1]:80".
    std::string to_string() const;

    /// The address for a system call (sockaddr_in or sockaddr_in6).
    const ::sockaddr* native() const noexcept { return reinterpret_cast<const ::sockaddr*>(&storage_); }
    /// The length of native().
    ::socklen_t native_len() const noexcept { return len_; }
    /// AF_INET or AF_INET6.
    int family() const noexcept { return storage_.ss_family; }

    friend bool operator==(const socket_addr& a, const socket_addr& b) noexcept;

private:
    ::sockaddr_storage storage_{};
    ::socklen_t len_ = 0;
};

}  // namespace corio::net

template <>
struct fmt::formatter<corio::net::socket_addr> : fmt::formatter<std::string_view> {
    template <class FormatContext>
    auto format(const corio::net::socket_addr& a, FormatContext& ctx) const {
        return fmt::formatter<std::string_view>::format(a.to_string(), ctx);
    }
};
