/// \file
/// corio/net/tcp_stream.hpp — a TCP connection (Tokio's tokio::net::TcpStream).
///
///     auto s = co_await corio::net::tcp_stream::connect(addr);           // result<tcp_stream, error_code>
///     auto t = co_await corio::timeout(2s, corio::net::tcp_stream::connect(addr));  // with a deadline
///     std::array<std::byte, 4096> buf;
///     auto n = co_await s->read(buf);                 // 0 = the peer closed (EOF)
///     auto w = co_await s->write_all(std::as_bytes(std::span(msg)));
///     auto [rd, wr] = std::move(*s).into_split();     // two tasks: one reads, one writes
///
/// Errors: std::error_code — system errors (errc::connection_refused, connection_reset,
///   broken_pipe, timed_out...) and corio::io::error (unexpected_eof, write_zero, no_runtime).
///   A reset peer fails that connection's operations only. Nothing throws on the io path.
/// Cancel safety: corio/io/stream_ops.hpp (read: cancel safe, no byte lost; writes: not).
///   connect: dropping it, or cancel(), closes its socket (a connect in the kernel is
///   cancelled first); polled again after a cancel, it connects afresh on a new socket.
/// Thread safety: the stream may move between tasks and workers. One read and one write may be
///   pending at a time, from two tasks, through into_split()'s halves; two concurrent reads (or
///   writes) on one stream are not allowed.
/// Lifetime: a stream must not outlive the runtime its operations ran on. Operations reference the
///   stream: keep it alive while one is pending.
#pragma once

#include <corio/runtime/detail/io_source.hpp>
#include <corio/io/stream_ops.hpp>
#include <corio/net/socket_addr.hpp>
#include <corio/result.hpp>
#include <corio/runtime/leaf.hpp>

#include <sys/socket.h>
#include <sys/uio.h>

#include <chrono>
#include <cstddef>
#include <optional>
#include <span>
#include <string_view>
#include <system_error>
#include <utility>

namespace corio::net {

/// Which direction(s) shutdown() closes: read, write (send FIN after the data written) or both.
enum class shutdown_how { read = SHUT_RD, write = SHUT_WR, both = SHUT_RDWR };

class tcp_stream;
class tcp_read_half;
class tcp_write_half;
class connect_operation;

namespace detail {
// The byte-stream API over a shared source, used by tcp_stream, its halves and unix_stream.
class stream_base {
public:
    /// Reads at least 1 byte (up to buf.size()), or 0 at EOF.
    [[nodiscard]] io::read_operation read(std::span<std::byte> buf) noexcept { return io::read_operation(src_.get(), buf); }
    [[nodiscard]] io::read_operation read(std::span<char> buf) noexcept { return read(std::as_writable_bytes(buf)); }
    /// Fills buf completely (error::unexpected_eof if the stream ends first).
    [[nodiscard]] io::read_exact_operation read_exact(std::span<std::byte> buf) noexcept {
        return io::read_exact_operation(src_.get(), buf);
    }
    [[nodiscard]] io::read_exact_operation read_exact(std::span<char> buf) noexcept { return read_exact(std::as_writable_bytes(buf)); }

protected:
    stream_base() noexcept = default;
    explicit stream_base(corio::detail::io::source_ptr s) noexcept : src_(std::move(s)) {}
    corio::detail::io::source_ptr src_;
};

class write_base {
public:
    /// Writes some of buf (at least 1 byte unless buf is empty).
    [[nodiscard]] io::write_operation write(std::span<const std::byte> buf) noexcept { return io::write_operation(src_.get(), buf); }
    [[nodiscard]] io::write_operation write(std::string_view s) noexcept { return write(std::as_bytes(std::span(s.data(), s.size()))); }
    /// Writes from several buffers in order (one system call / one SQE); may be partial.
    [[nodiscard]] io::write_operation write_vectored(std::span<const ::iovec> bufs) noexcept {
        return io::write_operation(src_.get(), bufs);
    }
    /// Writes all of buf.
    [[nodiscard]] io::write_all_operation write_all(std::span<const std::byte> buf) noexcept {
        return io::write_all_operation(src_.get(), buf);
    }
    [[nodiscard]] io::write_all_operation write_all(std::string_view s) noexcept {
        return write_all(std::as_bytes(std::span(s.data(), s.size())));
    }

protected:
    write_base() noexcept = default;
    explicit write_base(corio::detail::io::source_ptr s) noexcept : src_(std::move(s)) {}
    corio::detail::io::source_ptr src_;
};

result<socket_addr, std::error_code> local_addr_of(int fd);
result<socket_addr, std::error_code> peer_addr_of(int fd);
result<void, std::error_code> shutdown_fd(int fd, shutdown_how how);
}  // namespace detail

/// The reading half of a split tcp_stream (Tokio's OwnedReadHalf). Usable from its own task.
class tcp_read_half : public detail::stream_base {
public:
    tcp_read_half() noexcept = default;
    /// The peer's address.
    result<socket_addr, std::error_code> peer_addr() const { return detail::peer_addr_of(src_.fd()); }
    /// The local address.
    result<socket_addr, std::error_code> local_addr() const { return detail::local_addr_of(src_.fd()); }

private:
    friend class tcp_stream;
    explicit tcp_read_half(corio::detail::io::source_ptr s) noexcept : stream_base(std::move(s)) {}
};

/// The writing half of a split tcp_stream (Tokio's OwnedWriteHalf). Usable from its own task.
/// Dropping it does not shut the connection down; call shutdown() to send FIN.
class tcp_write_half : public detail::write_base {
public:
    tcp_write_half() noexcept = default;
    /// shutdown(2) on the shared socket: `write` sends FIN after the data written so far.
    result<void, std::error_code> shutdown(shutdown_how how = shutdown_how::write) const {
        return detail::shutdown_fd(src_.fd(), how);
    }
    /// The peer's address.
    result<socket_addr, std::error_code> peer_addr() const { return detail::peer_addr_of(src_.fd()); }
    /// The local address.
    result<socket_addr, std::error_code> local_addr() const { return detail::local_addr_of(src_.fd()); }

private:
    friend class tcp_stream;
    explicit tcp_write_half(corio::detail::io::source_ptr s) noexcept : write_base(std::move(s)) {}
};

/// A TCP connection (Tokio's TcpStream): read / read_exact / write / write_all / write_vectored
/// (corio/io/stream_ops.hpp: reads are cancel safe, writes are not), shutdown, and into_split() for
/// a reader task and a writer task. Move-only; destroying it closes the connection.
class tcp_stream : public detail::stream_base, public detail::write_base {
public:
    /// Not connected (a moved-from stream is in this state too).
    tcp_stream() noexcept = default;
    /// Moves the connection; `o` is left empty.
    tcp_stream(tcp_stream&&) noexcept = default;
    /// Closes this connection, then takes over `o`'s.
    tcp_stream& operator=(tcp_stream&&) noexcept = default;

    /// Opens a connection. co_await yields result<tcp_stream, std::error_code>. For a deadline,
    /// wrap it: co_await corio::timeout(d, tcp_stream::connect(addr)).
    [[nodiscard]] static connect_operation connect(const socket_addr& addr) noexcept;
    /// Adopts a connected socket (made non-blocking here).
    static result<tcp_stream, std::error_code> from_fd(int fd);

    /// True if the stream holds a connection.
    explicit operator bool() const noexcept { return static_cast<bool>(stream_base::src_); }
    /// The socket's descriptor, still owned by the stream.
    int native_handle() const noexcept { return stream_base::src_.fd(); }

    /// shutdown(2): `write` sends FIN after the data written so far (the peer's read returns 0).
    result<void, std::error_code> shutdown(shutdown_how how = shutdown_how::write) const {
        return detail::shutdown_fd(native_handle(), how);
    }
    /// TCP_NODELAY: send small writes at once (no Nagle delay).
    result<void, std::error_code> set_nodelay(bool on) const;
    /// Whether TCP_NODELAY is set.
    result<bool, std::error_code> nodelay() const;
    /// SO_LINGER with a zero timeout makes close() send RST (tests of peer resets use it).
    result<void, std::error_code> set_linger(std::optional<std::chrono::seconds> d) const;
    /// The peer's address.
    result<socket_addr, std::error_code> peer_addr() const { return detail::peer_addr_of(native_handle()); }
    /// The local address.
    result<socket_addr, std::error_code> local_addr() const { return detail::local_addr_of(native_handle()); }

    /// Splits into halves that two tasks may use at once (one reads, one writes). The connection
    /// closes when both halves are gone.
    std::pair<tcp_read_half, tcp_write_half> into_split() &&;

private:
    friend class connect_operation;
    friend class tcp_listener;
    friend class accept_operation;
    explicit tcp_stream(corio::detail::io::source_ptr s) noexcept : stream_base(s), write_base(std::move(s)) {}
};

/// The awaiter of tcp_stream::connect. co_await yields result<tcp_stream, std::error_code>.
class [[nodiscard]] connect_operation : public leaf_awaiter<connect_operation> {
public:
    /// Made by tcp_stream::connect(); not called directly.
    explicit connect_operation(const socket_addr& addr) noexcept;
    connect_operation(const connect_operation&) = delete;
    connect_operation& operator=(const connect_operation&) = delete;
    ~connect_operation() { connect_operation::cancel(); }

    /// Starts the non-blocking connect, or reports its outcome once the socket is writable.
    bool poll(context& cx) noexcept override;
    /// Drops the registration and the socket (which cancels an in-flight kernel connect); the
    /// next poll opens a new socket and starts over.
    void cancel() noexcept override;
    /// The connected stream, or the error (errc::connection_refused, ...).
    result<tcp_stream, std::error_code> await_resume();

private:
    void open_socket() noexcept;

    socket_addr addr_;
    // The socket being connected: opened by the constructor, and by a poll after a cancel
    // (which drops it). Moved out by await_resume.
    corio::detail::io::source_ptr src_;
    corio::detail::io::io_poll r_;
    std::error_code create_error_;
    bool started_ = false;  // poll_connect issued the connect on src_ (reset with src_)
    bool pending_ = false;  // the last poll was pending; cleared by a ready poll and by cancel()
};

inline connect_operation tcp_stream::connect(const socket_addr& addr) noexcept { return connect_operation(addr); }

}  // namespace corio::net
