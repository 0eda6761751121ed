/// \file
/// corio/net/tcp_listener.hpp — a listening TCP socket (Tokio's tokio::net::TcpListener).
///
///     auto l = corio::net::tcp_listener::bind(corio::net::socket_addr::ipv4_loopback(0));  // port 0: any
///     auto port = l->local_addr()->port();
///     for (;;) {
///         auto c = co_await l->accept();            // result<std::pair<tcp_stream, socket_addr>, error_code>
///         if (!c) break;
///         corio::spawn(serve(std::move(c->first)));
///     }
///
/// Descriptor exhaustion: when accept fails with EMFILE/ENFILE (or ENOBUFS/ENOMEM), the accept
///   operation reports it once per listener on stderr, sleeps 100 ms and retries; it never
///   returns those errors, spins or crashes. ECONNABORTED (a client gave up in the backlog) is
///   retried at once. Other errors are returned.
/// Cancel safety: accept is cancel safe: a connection the kernel accepted for a cancelled accept
///   is handed to the next accept (or closed with the listener), never leaked or lost.
/// Thread safety: one accept at a time per listener; the listener may move between tasks.
/// Lifetime: must not outlive the runtime its accepts ran on.
#pragma once

#include <corio/runtime/detail/io_source.hpp>
#include <corio/net/socket_addr.hpp>
#include <corio/net/tcp_stream.hpp>
#include <corio/result.hpp>
#include <corio/runtime/leaf.hpp>
#include <corio/runtime/time.hpp>

#include <chrono>
#include <optional>
#include <string_view>
#include <system_error>
#include <utility>

namespace corio::net {

/// How tcp_listener::bind sets up the socket.
struct tcp_listen_options {
    int backlog = 1024;          ///< listen(2)'s backlog (the kernel caps it at somaxconn)
    bool reuse_address = true;   ///< SO_REUSEADDR: rebind while old connections sit in TIME_WAIT
    bool reuse_port = false;     ///< SO_REUSEPORT: several listeners share the port (load balancing)
    bool ipv6_only = false;      ///< IPV6_V6ONLY for an IPv6 address
};

class accept_operation;

/// A TCP socket listening for connections (Tokio's TcpListener). Move-only. accept() is cancel
/// safe: a connection accepted for a cancelled accept goes to the next one.
class tcp_listener {
public:
    tcp_listener() noexcept = default;
    /// Moves the listener; `o` is left empty.
    tcp_listener(tcp_listener&&) noexcept = default;
    /// Closes this listener, then takes over `o`'s socket.
    tcp_listener& operator=(tcp_listener&&) noexcept = default;

    /// Binds to `addr` (port 0: any free port; local_addr() tells which) and listens.
    static result<tcp_listener, std::error_code> bind(const socket_addr& addr, const tcp_listen_options& opts = {});
    /// bind(socket_addr::parse(host_port)).
    static result<tcp_listener, std::error_code> bind(std::string_view host_port, const tcp_listen_options& opts = {});

    /// The next connection: co_await yields result<std::pair<tcp_stream, socket_addr>, error_code>.
    [[nodiscard]] accept_operation accept() noexcept;

    /// The address the listener is bound to.
    result<socket_addr, std::error_code> local_addr() const { return detail::local_addr_of(src_.fd()); }
    /// The socket's descriptor, still owned by the listener.
    int native_handle() const noexcept { return src_.fd(); }
    /// True if the listener holds a socket.
    explicit operator bool() const noexcept { return static_cast<bool>(src_); }

private:
    friend class accept_operation;
    explicit tcp_listener(corio::detail::io::source_ptr s) noexcept : src_(std::move(s)) {}
    corio::detail::io::source_ptr src_;
    bool exhaustion_reported_ = false;  // used by the accepting task only
};

/// The awaiter of tcp_listener::accept.
class [[nodiscard]] accept_operation : public leaf_awaiter<accept_operation> {
public:
    /// How long accept waits before retrying when the process or system is out of descriptors
    /// (EMFILE, ENFILE), instead of spinning.
    static constexpr std::chrono::milliseconds exhaustion_backoff{100};

    /// Made by tcp_listener::accept(); not called directly.
    explicit accept_operation(tcp_listener* l) noexcept : l_(l) {}
    accept_operation(const accept_operation&) = delete;
    accept_operation& operator=(const accept_operation&) = delete;
    ~accept_operation() { accept_operation::cancel(); }

    /// Ready with an accepted connection or an error; else waits for readiness (or the ring's
    /// accept) with the task's waker.
    bool poll(context& cx) noexcept override;
    /// What the pending operation waits for, in words, for runtime::dump() (corio/runtime/dump.hpp).
    void describe(std::string& out) const override {
        io::detail::describe_source(out, backoff_ ? "accept (backing off: out of descriptors)" : "accept", l_->src_.get());
    }
    /// Pending on the kernel: cancel_read (a connection accepted anyway goes to the next accept).
    /// Pending on the exhaustion back-off: the sleep is dropped (out of the timer wheel); polled
    /// again, the operation tries accept at once, as if never polled.
    void cancel() noexcept override {
        if (!std::exchange(pending_, false)) return;
        if (backoff_) backoff_.reset();
        else corio::detail::io::cancel_read(l_->src_.get());
    }
    /// The connection and the peer's address, or the error.
    result<std::pair<tcp_stream, socket_addr>, std::error_code> await_resume();

private:
    tcp_listener* l_;
    std::optional<time::sleep_operation> backoff_;
    ::sockaddr_storage addr_{};
    ::socklen_t addrlen_ = sizeof(::sockaddr_storage);
    corio::detail::io::io_poll r_;
    // The last poll was pending (on the back-off sleep if backoff_ is engaged, else on the
    // kernel): set by poll_accept_loop, cleared by a ready poll and by cancel().
    bool pending_ = false;
};

inline accept_operation tcp_listener::accept() noexcept { return accept_operation(this); }

}  // namespace corio::net
