// unix_stream, unix_listener and their awaiters: the tcp pattern (socket set-up by system calls,
// every wait through the reactor seam), with AF_UNIX addresses.
#include "socket_util.hpp"

#include <corio/net/unix_listener.hpp>
#include <corio/net/unix_stream.hpp>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>

namespace corio::net {

namespace detail {

result<::socklen_t, std::error_code> make_unix_addr(std::string_view path, ::sockaddr_un& out) noexcept {
    out = {};
    out.sun_family = AF_UNIX;
    const bool abstract = !path.empty() && path.front() == '@';
    // A filesystem path needs its terminating NUL inside sun_path; an abstract name does not.
    if (path.empty() || path.size() + (abstract ? 0 : 1) > sizeof out.sun_path)
        return unexpected(std::make_error_code(path.empty() ? std::errc::invalid_argument : std::errc::filename_too_long));
    std::memcpy(out.sun_path, path.data(), path.size());
    if (abstract) {
        out.sun_path[0] = '\0';
        return static_cast<::socklen_t>(offsetof(::sockaddr_un, sun_path) + path.size());
    }
    return static_cast<::socklen_t>(offsetof(::sockaddr_un, sun_path) + path.size() + 1);
}

std::string unix_path_of(const ::sockaddr_un& a, ::socklen_t len) {
    const std::size_t base = offsetof(::sockaddr_un, sun_path);
    if (len <= base) return {};
    std::size_t n = std::min<std::size_t>(len - base, sizeof a.sun_path);
    if (a.sun_path[0] == '\0') {
        std::string s(1, '@');
        s.append(a.sun_path + 1, n - 1);
        return s;
    }
    return std::string(a.sun_path, ::strnlen(a.sun_path, n));
}

result<std::string, std::error_code> unix_local_path_of(int fd) {
    ::sockaddr_un a{};
    ::socklen_t len = sizeof a;
    if (::getsockname(fd, reinterpret_cast<::sockaddr*>(&a), &len) != 0) return unexpected(last_error());
    return unix_path_of(a, len);
}

result<std::string, std::error_code> unix_peer_path_of(int fd) {
    ::sockaddr_un a{};
    ::socklen_t len = sizeof a;
    if (::getpeername(fd, reinterpret_cast<::sockaddr*>(&a), &len) != 0) return unexpected(last_error());
    return unix_path_of(a, len);
}

}  // namespace detail

// --- unix_stream --------------------------------------------------------------------------------

result<std::pair<unix_stream, unix_stream>, std::error_code> unix_stream::pair() {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0) return unexpected(detail::last_error());
    unix_stream a(corio::detail::io::source_ptr(corio::detail::io::source_adopt(fds[0])));
    unix_stream b(corio::detail::io::source_ptr(corio::detail::io::source_adopt(fds[1])));
    return std::pair<unix_stream, unix_stream>(std::move(a), std::move(b));
}

result<unix_stream, std::error_code> unix_stream::from_fd(int fd) {
    const int fl = ::fcntl(fd, F_GETFL);
    if (fl < 0 || ::fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0) return unexpected(detail::last_error());
    return unix_stream(corio::detail::io::source_ptr(corio::detail::io::source_adopt(fd)));
}

std::pair<unix_read_half, unix_write_half> unix_stream::into_split() && {
    unix_read_half r(std::move(stream_base::src_));
    unix_write_half w(std::move(write_base::src_));
    return {std::move(r), std::move(w)};
}

unix_connect_operation::unix_connect_operation(std::string_view path) noexcept {
    auto len = detail::make_unix_addr(path, addr_);
    if (!len) {
        create_error_ = len.error();
        return;
    }
    addrlen_ = *len;
    create_error_ = detail::open_socket(AF_UNIX, SOCK_STREAM, src_);
}

bool unix_connect_operation::poll(context& cx) noexcept {
    if (!src_ && !create_error_) create_error_ = detail::open_socket(AF_UNIX, SOCK_STREAM, src_);  // after a cancel
    if (create_error_) return true;
    r_ = corio::detail::io::poll_connect(src_.get(), cx, reinterpret_cast<const ::sockaddr*>(&addr_), addrlen_, started_);
    pending_ = !r_.ready;
    return r_.ready;
}

void unix_connect_operation::cancel() noexcept {
    if (!std::exchange(pending_, false)) return;
    corio::detail::io::cancel_write(src_.get(), 0);  // the registration first (connect_operation::cancel)
    src_.reset();
    started_ = false;
}

result<unix_stream, std::error_code> unix_connect_operation::await_resume() {
    if (create_error_) return unexpected(create_error_);
    if (r_.err) return unexpected(io::detail::to_error_code(r_.err));
    return unix_stream(std::move(src_));
}

// --- unix_listener ------------------------------------------------------------------------------

unix_listener::unix_listener(unix_listener&& o) noexcept
    : src_(std::move(o.src_)),
      created_path_(std::move(o.created_path_)),
      dev_(o.dev_),
      ino_(o.ino_),
      exhaustion_reported_(o.exhaustion_reported_) {
    o.created_path_.clear();
}

unix_listener& unix_listener::operator=(unix_listener&& o) noexcept {
    if (this != &o) {
        remove_own_file();
        src_ = std::move(o.src_);
        created_path_ = std::move(o.created_path_);
        o.created_path_.clear();
        dev_ = o.dev_;
        ino_ = o.ino_;
        exhaustion_reported_ = o.exhaustion_reported_;
    }
    return *this;
}

unix_listener::~unix_listener() { remove_own_file(); }

void unix_listener::remove_own_file() noexcept {
    if (created_path_.empty()) return;
    struct ::stat st {};
    // Only the file this listener created: a path since replaced by another file stays.
    if (::lstat(created_path_.c_str(), &st) == 0 && S_ISSOCK(st.st_mode) && st.st_dev == dev_ && st.st_ino == ino_)
        ::unlink(created_path_.c_str());
    created_path_.clear();
}

result<unix_listener, std::error_code> unix_listener::bind(std::string_view path, int backlog) {
    ::sockaddr_un addr{};
    auto len = detail::make_unix_addr(path, addr);
    if (!len) return unexpected(len.error());
    unix_listener l;
    if (auto e = detail::open_socket(AF_UNIX, SOCK_STREAM, l.src_)) return unexpected(e);
    if (::bind(l.src_.fd(), reinterpret_cast<const ::sockaddr*>(&addr), *len) != 0) return unexpected(detail::last_error());
    if (path.front() != '@') {
        // bind() created the file (it fails with EADDRINUSE when one exists): ours to remove.
        std::string p(path);
        struct ::stat st {};
        if (::lstat(p.c_str(), &st) == 0) {
            l.created_path_ = std::move(p);
            l.dev_ = st.st_dev;
            l.ino_ = st.st_ino;
        }
    }
    if (::listen(l.src_.fd(), backlog) != 0) return unexpected(detail::last_error());
    return l;
}

bool unix_accept_operation::poll(context& cx) noexcept {
    return detail::poll_accept_loop(l_->src_.get(), cx, backoff_, r_, pending_, l_->exhaustion_reported_, "unix_listener",
                                    &addr_, &addrlen_);
}

result<std::pair<unix_stream, std::string>, std::error_code> unix_accept_operation::await_resume() {
    if (r_.err) return unexpected(io::detail::to_error_code(r_.err));
    const int fd = static_cast<int>(r_.value);
    std::string peer = detail::unix_path_of(reinterpret_cast<const ::sockaddr_un&>(addr_), addrlen_);
    unix_stream s(corio::detail::io::source_ptr(corio::detail::io::source_adopt(fd)));
    return std::pair<unix_stream, std::string>(std::move(s), std::move(peer));
}

}  // namespace corio::net
