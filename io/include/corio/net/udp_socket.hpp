/// \file
/// corio/net/udp_socket.hpp — a UDP socket (Tokio's tokio::net::UdpSocket).
///
///     auto s = corio::net::udp_socket::bind(corio::net::socket_addr::ipv4_loopback(0));
///     co_await s->send_to(bytes, peer);                  // result<size_t, error_code>
///     auto r = co_await s->recv_from(buf);               // result<pair<size_t, socket_addr>, error_code>
///     s->connect(peer).value();                          // then send(bytes) / recv(buf)
///
/// Datagrams: one message per call; a datagram longer than the buffer is truncated (as recvfrom).
/// Cancel safety: recv_from/recv are cancel safe — a datagram the kernel delivered to a cancelled
///   receive is returned by the next one. send_to/send are not (the datagram may have been sent).
///   cancel() (the leaf contract) drops the operation's registration and cancels it in the
///   kernel (io_uring). A cancelled send polled again first collects its cancelled send's
///   outcome: a datagram the kernel sent is reported, not sent twice; one it did not is sent.
/// Thread safety: one receive and one send may be pending at a time (two tasks may share the socket
///   that way: receives use the read side, sends the write side).
/// Lifetime: must not outlive the runtime its operations ran on.
#pragma once

#include <corio/runtime/detail/io_source.hpp>
#include <corio/io/stream_ops.hpp>
#include <corio/net/socket_addr.hpp>
#include <corio/result.hpp>
#include <corio/runtime/leaf.hpp>

#include <cstddef>
#include <span>
#include <system_error>
#include <utility>

namespace corio::net {

class udp_socket;

/// co_await yields result<std::pair<std::size_t, socket_addr>, std::error_code>.
class [[nodiscard]] recv_from_operation : public leaf_awaiter<recv_from_operation> {
public:
    /// Made by recv_from() or recv(); not called directly.
    recv_from_operation(corio::detail::io::io_source* s, std::span<std::byte> buf) noexcept : s_(s), buf_(buf) {}
    recv_from_operation(const recv_from_operation&) = delete;
    recv_from_operation& operator=(const recv_from_operation&) = delete;
    ~recv_from_operation() { recv_from_operation::cancel(); }
    /// Ready with a datagram or an error; else waits for readiness with the task's waker.
    bool poll(context& cx) noexcept override {
        len_ = sizeof from_;
        r_ = corio::detail::io::poll_recv_from(s_, cx, buf_.data(), buf_.size(), &from_, &len_);
        pending_ = !r_.ready;
        return r_.ready;
    }
    /// Drops the registration; a datagram not yet taken stays in the socket.
    void cancel() noexcept override {
        if (std::exchange(pending_, false)) corio::detail::io::cancel_read(s_);
    }
    /// The datagram's size (at most the buffer's; the rest of a larger datagram is lost) and its
    /// sender, or the error.
    result<std::pair<std::size_t, socket_addr>, std::error_code> await_resume() const {
        if (r_.err) return unexpected(io::detail::to_error_code(r_.err));
        return std::pair<std::size_t, socket_addr>(static_cast<std::size_t>(r_.value),
                                                   socket_addr::from_native(reinterpret_cast<const ::sockaddr*>(&from_), len_));
    }

private:
    corio::detail::io::io_source* s_;
    std::span<std::byte> buf_;
    ::sockaddr_storage from_{};
    ::socklen_t len_ = sizeof(::sockaddr_storage);
    corio::detail::io::io_poll r_;
    bool pending_ = false;  // the last poll was pending; cleared by a ready poll and by cancel()
};

/// co_await yields io::io_result: the bytes sent (the whole datagram), or the error.
class [[nodiscard]] send_to_operation : public leaf_awaiter<send_to_operation> {
public:
    /// Made by send_to() or send(); not called directly.
    send_to_operation(corio::detail::io::io_source* s, std::span<const std::byte> buf, const socket_addr* to) noexcept
        : s_(s), buf_(buf) {
        if (to) {
            to_ = *to;
            has_to_ = true;
        }
    }
    send_to_operation(const send_to_operation&) = delete;
    send_to_operation& operator=(const send_to_operation&) = delete;
    ~send_to_operation() { send_to_operation::cancel(); }
    /// Sends the datagram, or waits for room with the task's waker.
    bool poll(context& cx) noexcept override {
        r_ = corio::detail::io::poll_send_to(s_, cx, buf_.data(), buf_.size(), has_to_ ? to_.native() : nullptr,
                                             has_to_ ? to_.native_len() : 0, ticket_);
        pending_ = !r_.ready;
        return r_.ready;
    }
    /// Drops the registration; if the kernel took the datagram meanwhile, a later poll reports it
    /// sent.
    void cancel() noexcept override {
        if (std::exchange(pending_, false)) corio::detail::io::cancel_write(s_, ticket_);
    }
    /// The bytes sent (the whole datagram), or the error.
    io::io_result await_resume() const noexcept {
        if (r_.err) return unexpected(io::detail::to_error_code(r_.err));
        return static_cast<std::size_t>(r_.value);
    }

private:
    corio::detail::io::io_source* s_;
    std::span<const std::byte> buf_;
    socket_addr to_;
    bool has_to_ = false;
    std::uint64_t ticket_ = 0;  // as io::write_operation's (cancel() keeps it)
    corio::detail::io::io_poll r_;
    bool pending_ = false;      // the last poll was pending; cleared by a ready poll and by cancel()
};

/// A UDP socket (Tokio's UdpSocket): whole datagrams, to and from any peer, or one peer after
/// connect(). Move-only.
class udp_socket {
public:
    udp_socket() noexcept = default;
    /// Moves the socket; `o` is left empty.
    udp_socket(udp_socket&&) noexcept = default;
    /// Closes this socket, then takes over `o`'s.
    udp_socket& operator=(udp_socket&&) noexcept = default;

    /// Binds (port 0: any free port). SO_REUSEADDR is not set.
    static result<udp_socket, std::error_code> bind(const socket_addr& addr);

    /// `co_await s.recv_from(buf)`: the next datagram and its sender. Cancel safe.
    [[nodiscard]] recv_from_operation recv_from(std::span<std::byte> buf) noexcept { return recv_from_operation(src_.get(), buf); }
    /// `co_await s.send_to(buf, to)`: sends one datagram to `to`.
    [[nodiscard]] send_to_operation send_to(std::span<const std::byte> buf, const socket_addr& to) noexcept {
        return send_to_operation(src_.get(), buf, &to);
    }
    /// Sets the default peer (connect(2): no packet is sent) and filters what recv() sees.
    result<void, std::error_code> connect(const socket_addr& peer) const;
    /// After connect(): send to / receive from the peer only.
    [[nodiscard]] send_to_operation send(std::span<const std::byte> buf) noexcept { return send_to_operation(src_.get(), buf, nullptr); }
    /// After connect(): the next datagram from the peer.
    [[nodiscard]] recv_from_operation recv(std::span<std::byte> buf) noexcept { return recv_from_operation(src_.get(), buf); }

    /// The address the socket is bound to.
    result<socket_addr, std::error_code> local_addr() const;
    /// The peer set by connect().
    result<socket_addr, std::error_code> peer_addr() const;
    /// The socket's descriptor, still owned by the socket.
    int native_handle() const noexcept { return src_.fd(); }
    /// True if the object holds a socket.
    explicit operator bool() const noexcept { return static_cast<bool>(src_); }

private:
    explicit udp_socket(corio::detail::io::source_ptr s) noexcept : src_(std::move(s)) {}
    corio::detail::io::source_ptr src_;
};

}  // namespace corio::net
