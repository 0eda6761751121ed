/// \file
/// corio/net/unix_listener.hpp — a listening Unix domain stream socket (Tokio's UnixListener).
///
///     auto l = corio::net::unix_listener::bind("/tmp/app.sock");    // result<unix_listener, error_code>
///     for (;;) {
///         auto c = co_await l->accept();     // result<std::pair<unix_stream, std::string>, error_code>
///         if (!c) break;
///         corio::spawn(serve(std::move(c->first)));   // c->second: the peer's path, usually ""
///     }
///
/// The socket file: bind() never removes an existing file (a stale socket fails with
///   errc::address_in_use: remove it yourself if you know it is stale). The listener removes the
///   file it created when it is destroyed — and only that one: if the path now names a different
///   file (someone replaced it), it is left alone. "@name" binds in the abstract namespace (no file).
/// accept: as tcp_listener's — cancel safe (a connection accepted for a cancelled accept goes to
///   the next one), and descriptor exhaustion is reported once, backed off 100 ms and retried.
/// Thread safety: one accept at a time; the listener may move between tasks (not while an accept
///   is pending). Lifetime: must not outlive the runtime its accepts ran on.
#pragma once

#include <corio/runtime/detail/io_source.hpp>
#include <corio/net/unix_stream.hpp>
#include <corio/result.hpp>
#include <corio/runtime/leaf.hpp>
#include <corio/runtime/time.hpp>

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace corio::net {

/// A Unix-domain stream socket listening on a path (Tokio's UnixListener). Move-only.
class unix_listener {
public:
    unix_listener() noexcept = default;
    /// Moves the listener; `o` is left empty.
    unix_listener(unix_listener&& o) noexcept;
    /// Closes this listener, then takes over `o`'s socket.
    unix_listener& operator=(unix_listener&& o) noexcept;
    ~unix_listener();

    /// Binds to `path` and listens with `backlog`.
    static result<unix_listener, std::error_code> bind(std::string_view path, int backlog = 1024);

    /// The next connection: co_await yields result<std::pair<unix_stream, std::string>, error_code>.
    [[nodiscard]] unix_accept_operation accept() noexcept;

    /// The path it is bound to ("@name" for abstract).
    result<std::string, std::error_code> local_path() const { return detail::unix_local_path_of(src_.fd()); }
    /// The socket's descriptor, still owned by the listener.
    int native_handle() const noexcept { return src_.fd(); }
    /// True if the listener holds a socket.
    explicit operator bool() const noexcept { return static_cast<bool>(src_); }

private:
    friend class unix_accept_operation;
    void remove_own_file() noexcept;

    corio::detail::io::source_ptr src_;
    std::string created_path_;  // the file bind() created ("" if none: abstract, or moved from)
    ::dev_t dev_ = 0;           // its identity, to leave a replacement alone
    ::ino_t ino_ = 0;
    bool exhaustion_reported_ = false;  // used by the accepting task only
};

/// The awaiter of unix_listener::accept.
class [[nodiscard]] unix_accept_operation : public leaf_awaiter<unix_accept_operation> {
public:
    /// Made by unix_listener::accept(); not called directly.
    explicit unix_accept_operation(unix_listener* l) noexcept : l_(l) {}
    unix_accept_operation(const unix_accept_operation&) = delete;
    unix_accept_operation& operator=(const unix_accept_operation&) = delete;
    ~unix_accept_operation() { unix_accept_operation::cancel(); }

    /// Ready with an accepted connection or an error; else waits for readiness with the task's
    /// waker.
    bool poll(context& cx) noexcept override;
    /// Pending on the kernel: cancel_read (a connection accepted anyway goes to the next accept).
    /// Pending on the exhaustion back-off: the sleep is dropped (out of the timer wheel); polled
    /// again, the operation tries accept at once, as if never polled.
    void cancel() noexcept override {
        if (!std::exchange(pending_, false)) return;
        if (backoff_) backoff_.reset();
        else corio::detail::io::cancel_read(l_->src_.get());
    }
    /// The connection and the peer's path (often empty: unnamed client sockets), or the error.
    result<std::pair<unix_stream, std::string>, std::error_code> await_resume();

private:
    unix_listener* l_;
    std::optional<time::sleep_operation> backoff_;
    ::sockaddr_storage addr_{};
    ::socklen_t addrlen_ = sizeof(::sockaddr_storage);
    corio::detail::io::io_poll r_;
    // The last poll was pending (on the back-off sleep if backoff_ is engaged, else on the
    // kernel): set by poll_accept_loop, cleared by a ready poll and by cancel().
    bool pending_ = false;
};

inline unix_accept_operation unix_listener::accept() noexcept { return unix_accept_operation(this); }

}  // namespace corio::net
