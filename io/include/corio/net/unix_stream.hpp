/// \file
/// corio/net/unix_stream.hpp — a Unix domain stream socket (Tokio's tokio::net::UnixStream).
///
///     auto s = co_await corio::net::unix_stream::connect("/run/app.sock");   // result<unix_stream, error_code>
///     auto [a, b] = *corio::net::unix_stream::pair();                          // connected pair (socketpair)
///     auto n = co_await s->read(buf);                                           // 0 = EOF
///     auto [rd, wr] = std::move(*s).into_split();
///
/// The same byte-stream API, reactor seam and rules as tcp_stream (corio/io/stream_ops.hpp):
///   read is cancel safe (bytes a cancelled read received are returned by the next read), writes
///   are not; one read and one write may be pending at a time (two tasks via the halves).
/// connect: a leaf. A listener whose backlog is full fails it with errc::resource_unavailable_try_again
///   on the epoll backend (Unix sockets do not queue connects as TCP does); io_uring waits.
/// Paths: a filesystem path (at most 107 bytes), or "@name" for the Linux abstract namespace.
/// Lifetime: must not outlive the runtime its operations ran on.
#pragma once

#include <corio/runtime/detail/io_source.hpp>
#include <corio/io/stream_ops.hpp>
#include <corio/net/tcp_stream.hpp>  // stream_base, write_base, shutdown_how
#include <corio/result.hpp>
#include <corio/runtime/leaf.hpp>

#include <sys/un.h>

#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace corio::net {

class unix_stream;
class unix_listener;
class unix_accept_operation;
class unix_connect_operation;

namespace detail {
// Fills a sockaddr_un from a path ("@name": abstract). Errors: errc::filename_too_long.
result<::socklen_t, std::error_code> make_unix_addr(std::string_view path, ::sockaddr_un& out) noexcept;
// The path of a sockaddr_un ("@name" for abstract, "" for unnamed).
std::string unix_path_of(const ::sockaddr_un& a, ::socklen_t len);
result<std::string, std::error_code> unix_local_path_of(int fd);
result<std::string, std::error_code> unix_peer_path_of(int fd);
}  // namespace detail

/// The reading half of a split unix_stream.
class unix_read_half : public detail::stream_base {
public:
    unix_read_half() noexcept = default;

private:
    friend class unix_stream;
    explicit unix_read_half(corio::detail::io::source_ptr s) noexcept : stream_base(std::move(s)) {}
};

/// The writing half of a split unix_stream. Dropping it does not shut down; call shutdown().
class unix_write_half : public detail::write_base {
public:
    unix_write_half() noexcept = default;
    /// shutdown(2) on the shared socket: `write` sends EOF after the data written so far.
    result<void, std::error_code> shutdown(shutdown_how how = shutdown_how::write) const {
        return detail::shutdown_fd(src_.fd(), how);
    }

private:
    friend class unix_stream;
    explicit unix_write_half(corio::detail::io::source_ptr s) noexcept : write_base(std::move(s)) {}
};

/// A Unix-domain stream connection (Tokio's UnixStream): the same reads and writes as tcp_stream
/// (corio/io/stream_ops.hpp), shutdown, and into_split(). Move-only.
class unix_stream : public detail::stream_base, public detail::write_base {
public:
    unix_stream() noexcept = default;
    /// Moves the connection; `o` is left empty.
    unix_stream(unix_stream&&) noexcept = default;
    /// Closes this connection, then takes over `o`'s.
    unix_stream& operator=(unix_stream&&) noexcept = default;

    /// Connects to a listening socket at `path`. co_await yields result<unix_stream, error_code>.
    [[nodiscard]] static unix_connect_operation connect(std::string_view path) noexcept;
    /// Two connected streams (socketpair(AF_UNIX, SOCK_STREAM)).
    static result<std::pair<unix_stream, unix_stream>, std::error_code> pair();
    /// Adopts a connected AF_UNIX stream socket (made non-blocking here).
    static result<unix_stream, std::error_code> from_fd(int fd);

    /// True if the stream holds a connection.
    explicit operator bool() const noexcept { return static_cast<bool>(stream_base::src_); }
    /// The socket's descriptor, still owned by the stream.
    int native_handle() const noexcept { return stream_base::src_.fd(); }

    /// shutdown(2): `write` sends EOF after the data written so far (the peer's read returns 0).
    result<void, std::error_code> shutdown(shutdown_how how = shutdown_how::write) const {
        return detail::shutdown_fd(native_handle(), how);
    }
    /// The bound path of this end ("" when unnamed, as a connecting socket usually is).
    result<std::string, std::error_code> local_path() const { return detail::unix_local_path_of(native_handle()); }
    /// The peer's path (empty for an unnamed socket).
    result<std::string, std::error_code> peer_path() const { return detail::unix_peer_path_of(native_handle()); }

    /// Halves for two tasks (one reads, one writes); the socket closes when both are gone.
    std::pair<unix_read_half, unix_write_half> into_split() &&;

private:
    friend class unix_connect_operation;
    friend class unix_accept_operation;
    explicit unix_stream(corio::detail::io::source_ptr s) noexcept : stream_base(s), write_base(std::move(s)) {}
};

/// The awaiter of unix_stream::connect. Dropping it, or cancel(), closes its socket (cancelling
/// the connect); polled again after a cancel, it connects afresh on a new socket.
class [[nodiscard]] unix_connect_operation : public leaf_awaiter<unix_connect_operation> {
public:
    /// Made by unix_stream::connect(); not called directly.
    explicit unix_connect_operation(std::string_view path) noexcept;
    unix_connect_operation(const unix_connect_operation&) = delete;
    unix_connect_operation& operator=(const unix_connect_operation&) = delete;
    ~unix_connect_operation() { unix_connect_operation::cancel(); }

    /// Starts the connect, or reports its outcome once the socket is writable.
    bool poll(context& cx) noexcept override;
    /// Drops the registration and the socket.
    /// As connect_operation::cancel (tcp_stream.hpp).
    void cancel() noexcept override;
    /// The connected stream, or the error.
    result<unix_stream, std::error_code> await_resume();

private:
    ::sockaddr_un addr_{};
    ::socklen_t addrlen_ = 0;
    // As connect_operation's: opened by the constructor and by a poll after a cancel.
    corio::detail::io::source_ptr src_;
    corio::detail::io::io_poll r_;
    std::error_code create_error_;
    bool started_ = false;  // poll_connect issued the connect on src_ (reset with src_)
    bool pending_ = false;  // the last poll was pending; cleared by a ready poll and by cancel()
};

inline unix_connect_operation unix_stream::connect(std::string_view path) noexcept { return unix_connect_operation(path); }

}  // namespace corio::net
