#include <corio/net/resolve.hpp>
#include <corio/runtime/spawn_blocking.hpp>

#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <memory>

namespace corio::net {

namespace {
class gai_category final : public std::error_category {
public:
    const char* name() const noexcept override { return "corio.resolve"; }
    std::string message(int v) const override { return ::gai_strerror(v); }
};
}  // namespace

const std::error_category& resolve_category() noexcept {
    static const gai_category c;
    return c;
}

namespace detail {

result<std::vector<socket_addr>, std::error_code> resolve_blocking(const std::string& host, std::uint16_t port) {
    ::addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    ::addrinfo* res = nullptr;
    const int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &res);
    if (rc == EAI_SYSTEM) return unexpected(std::error_code(errno, std::system_category()));
    if (rc != 0) return unexpected(std::error_code(rc, resolve_category()));
    std::unique_ptr<::addrinfo, void (*)(::addrinfo*)> guard(res, ::freeaddrinfo);
    std::vector<socket_addr> out;
    for (const ::addrinfo* ai = res; ai; ai = ai->ai_next) {
        if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
        socket_addr a = socket_addr::from_native(ai->ai_addr, ai->ai_addrlen);
        a.set_port(port);
        if (std::find(out.begin(), out.end(), a) == out.end()) out.push_back(a);
    }
    if (out.empty()) return unexpected(std::error_code(EAI_NONAME, resolve_category()));
    return out;
}

}  // namespace detail

corio::task<result<std::vector<socket_addr>, std::error_code>> resolve(std::string host, std::uint16_t port) {
    // A numeric address needs no lookup (and no pool thread).
    if (auto a = socket_addr::from_ip(host, port)) {
        std::vector<socket_addr> one(1, *a);
        co_return one;
    }
    auto h = corio::spawn_blocking([host = std::move(host), port] { return detail::resolve_blocking(host, port); });
    co_return (co_await h).value();
}

}  // namespace corio::net
