// tcp_stream, tcp_listener and their awaiters: socket set-up is plain system calls; every wait
// goes through the reactor seam (corio/io/detail/io_source.hpp).
#include "socket_util.hpp"

#include <corio/net/tcp_listener.hpp>
#include <corio/net/tcp_stream.hpp>

#include <fcntl.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace corio::net {

namespace {
std::error_code last_error() { return {errno, std::system_category()}; }
}  // namespace

namespace detail {

result<socket_addr, std::error_code> local_addr_of(int fd) {
    ::sockaddr_storage ss{};
    ::socklen_t len = sizeof ss;
    if (::getsockname(fd, reinterpret_cast<::sockaddr*>(&ss), &len) != 0) return unexpected(last_error());
    return socket_addr::from_native(reinterpret_cast<::sockaddr*>(&ss), len);
}

result<socket_addr, std::error_code> peer_addr_of(int fd) {
    ::sockaddr_storage ss{};
    ::socklen_t len = sizeof ss;
    if (::getpeername(fd, reinterpret_cast<::sockaddr*>(&ss), &len) != 0) return unexpected(last_error());
    return socket_addr::from_native(reinterpret_cast<::sockaddr*>(&ss), len);
}

result<void, std::error_code> shutdown_fd(int fd, shutdown_how how) {
    if (::shutdown(fd, static_cast<int>(how)) != 0) return unexpected(last_error());
    return {};
}

}  // namespace detail

// --- tcp_stream -------------------------------------------------------------------------------

result<tcp_stream, std::error_code> tcp_stream::from_fd(int fd) {
    const int fl = ::fcntl(fd, F_GETFL);
    if (fl < 0 || ::fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0) return unexpected(last_error());
    return tcp_stream(corio::detail::io::source_ptr(corio::detail::io::source_adopt(fd)));
}

result<void, std::error_code> tcp_stream::set_nodelay(bool on) const {
    const int v = on ? 1 : 0;
    if (::setsockopt(native_handle(), IPPROTO_TCP, TCP_NODELAY, &v, sizeof v) != 0) return unexpected(last_error());
    return {};
}

result<bool, std::error_code> tcp_stream::nodelay() const {
    int v = 0;
    ::socklen_t len = sizeof v;
    if (::getsockopt(native_handle(), IPPROTO_TCP, TCP_NODELAY, &v, &len) != 0) return unexpected(last_error());
    return v != 0;
}

result<void, std::error_code> tcp_stream::set_linger(std::optional<std::chrono::seconds> d) const {
    ::linger l{};
    l.l_onoff = d ? 1 : 0;
    l.l_linger = d ? static_cast<int>(d->count()) : 0;
    if (::setsockopt(native_handle(), SOL_SOCKET, SO_LINGER, &l, sizeof l) != 0) return unexpected(last_error());
    return {};
}

std::pair<tcp_read_half, tcp_write_half> tcp_stream::into_split() && {
    tcp_read_half r(std::move(stream_base::src_));
    tcp_write_half w(std::move(write_base::src_));
    return {std::move(r), std::move(w)};
}

// --- connect ----------------------------------------------------------------------------------

connect_operation::connect_operation(const socket_addr& addr) noexcept : addr_(addr) { open_socket(); }

void connect_operation::open_socket() noexcept { create_error_ = detail::open_socket(addr_.family(), SOCK_STREAM, src_); }

bool connect_operation::poll(context& cx) noexcept {
    if (!src_ && !create_error_) open_socket();  // the first poll after a cancel
    if (create_error_) return true;
    r_ = corio::detail::io::poll_connect(src_.get(), cx, addr_.native(), addr_.native_len(), started_);
    pending_ = !r_.ready;
    return r_.ready;
}

void connect_operation::cancel() noexcept {
    if (!std::exchange(pending_, false)) return;
    // The registration first: the socket's io_source may outlive this (a ring op's cell keeps
    // the descriptor open until its CQE), and its completion must wake nobody.
    corio::detail::io::cancel_write(src_.get(), 0);
    src_.reset();
    started_ = false;
}

result<tcp_stream, std::error_code> connect_operation::await_resume() {
    if (create_error_) return unexpected(create_error_);
    if (r_.err) return unexpected(io::detail::to_error_code(r_.err));
    return tcp_stream(std::move(src_));
}

// --- tcp_listener -----------------------------------------------------------------------------

result<tcp_listener, std::error_code> tcp_listener::bind(const socket_addr& addr, const tcp_listen_options& opts) {
    const int fd = ::socket(addr.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return unexpected(last_error());
    corio::detail::io::source_ptr src(corio::detail::io::source_adopt(fd));
    const int one = 1;
    if (opts.reuse_address && ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0)
        return unexpected(last_error());
    if (opts.reuse_port && ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0)
        return unexpected(last_error());
    if (addr.is_ipv6()) {
        const int v6only = opts.ipv6_only ? 1 : 0;
        ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only);
    }
    if (::bind(fd, addr.native(), addr.native_len()) != 0) return unexpected(last_error());
    if (::listen(fd, opts.backlog) != 0) return unexpected(last_error());
    return tcp_listener(std::move(src));
}

result<tcp_listener, std::error_code> tcp_listener::bind(std::string_view host_port, const tcp_listen_options& opts) {
    auto a = socket_addr::parse(host_port);
    if (!a) return unexpected(a.error());
    return bind(*a, opts);
}

bool accept_operation::poll(context& cx) noexcept {
    return detail::poll_accept_loop(l_->src_.get(), cx, backoff_, r_, pending_, l_->exhaustion_reported_, "tcp_listener",
                                    &addr_, &addrlen_);
}

result<std::pair<tcp_stream, socket_addr>, std::error_code> accept_operation::await_resume() {
    if (r_.err) return unexpected(io::detail::to_error_code(r_.err));
    const int fd = static_cast<int>(r_.value);
    socket_addr peer = socket_addr::from_native(reinterpret_cast<::sockaddr*>(&addr_), addrlen_);
    tcp_stream s(corio::detail::io::source_ptr(corio::detail::io::source_adopt(fd)));
    return std::pair<tcp_stream, socket_addr>(std::move(s), peer);
}

}  // namespace corio::net
