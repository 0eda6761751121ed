#include <corio/net/socket_addr.hpp>

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace corio::net {

namespace {
std::error_code invalid() { return std::make_error_code(std::errc::invalid_argument); }
}  // namespace

socket_addr::socket_addr() noexcept {
    auto* in = reinterpret_cast<::sockaddr_in*>(&storage_);
    in->sin_family = AF_INET;
    len_ = sizeof(::sockaddr_in);
}

socket_addr socket_addr::ipv4_any(std::uint16_t port) noexcept {
    socket_addr a;
    a.set_port(port);
    return a;
}

socket_addr socket_addr::ipv4_loopback(std::uint16_t port) noexcept {
    socket_addr a;
    reinterpret_cast<::sockaddr_in*>(&a.storage_)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.set_port(port);
    return a;
}

socket_addr socket_addr::ipv6_loopback(std::uint16_t port) noexcept {
    socket_addr a;
    a.storage_ = {};
    auto* in6 = reinterpret_cast<::sockaddr_in6*>(&a.storage_);
    in6->sin6_family = AF_INET6;
    in6->sin6_addr = in6addr_loopback;
    a.len_ = sizeof(::sockaddr_in6);
    a.set_port(port);
    return a;
}

socket_addr socket_addr::from_native(const ::sockaddr* sa, ::socklen_t len) noexcept {
    socket_addr a;
    a.storage_ = {};
    const ::socklen_t n = len < sizeof a.storage_ ? len : sizeof a.storage_;
    std::memcpy(&a.storage_, sa, n);
    a.len_ = n;
    return a;
}

result<socket_addr, std::error_code> socket_addr::from_ip(std::string_view ip, std::uint16_t port) {
    std::string s(ip);
    socket_addr a;
    a.storage_ = {};
    auto* in = reinterpret_cast<::sockaddr_in*>(&a.storage_);
    if (::inet_pton(AF_INET, s.c_str(), &in->sin_addr) == 1) {
        in->sin_family = AF_INET;
        a.len_ = sizeof(::sockaddr_in);
        a.set_port(port);
        return a;
    }
    a.storage_ = {};
    auto* in6 = reinterpret_cast<::sockaddr_in6*>(&a.storage_);
    if (::inet_pton(AF_INET6, s.c_str(), &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        a.len_ = sizeof(::sockaddr_in6);
        a.set_port(port);
        return a;
    }
    return unexpected(invalid());
}

result<socket_addr, std::error_code> socket_addr::parse(std::string_view hp) {
    std::string_view host, port;
    if (!hp.empty() && hp.front() == '[') {
        const auto close = hp.find(']');
        if (close == std::string_view::npos || close + 1 >= hp.size() || hp[close + 1] != ':') return unexpected(invalid());
        host = hp.substr(1, close - 1);
        port = hp.substr(close + 2);
    } else {
        const auto colon = hp.rfind(':');
        if (colon == std::string_view::npos) return unexpected(invalid());
        host = hp.substr(0, colon);
        port = hp.substr(colon + 1);
        if (host.find(':') != std::string_view::npos) return unexpected(invalid());  // IPv6 needs brackets
    }
    unsigned p = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
    if (ec != std::errc{} || end != port.data() + port.size() || port.empty() || p > 65535) return unexpected(invalid());
    return from_ip(host, static_cast<std::uint16_t>(p));
}

std::uint16_t socket_addr::port() const noexcept {
    if (is_ipv6()) return ntohs(reinterpret_cast<const ::sockaddr_in6*>(&storage_)->sin6_port);
    return ntohs(reinterpret_cast<const ::sockaddr_in*>(&storage_)->sin_port);
}

void socket_addr::set_port(std::uint16_t port) noexcept {
    if (is_ipv6()) reinterpret_cast<::sockaddr_in6*>(&storage_)->sin6_port = htons(port);
    else reinterpret_cast<::sockaddr_in*>(&storage_)->sin_port = htons(port);
}

std::string socket_addr::ip_string() const {
    char buf[INET6_ADDRSTRLEN] = {};
    if (is_ipv6()) ::inet_ntop(AF_INET6, &reinterpret_cast<const ::sockaddr_in6*>(&storage_)->sin6_addr, buf, sizeof buf);
    else ::inet_ntop(AF_INET, &reinterpret_cast<const ::sockaddr_in*>(&storage_)->sin_addr, buf, sizeof buf);
    return buf;
}

std::string socket_addr::to_string() const {
    if (is_ipv6()) return "[" + ip_string() + "]:" + std::to_string(port());
    return ip_string() + ":" + std::to_string(port());
}

bool operator==(const socket_addr& a, const socket_addr& b) noexcept {
    if (a.family() != b.family() || a.port() != b.port()) return false;
    return a.ip_string() == b.ip_string();
}

}  // namespace corio::net
