/// \file
/// corio/io/stream_ops.hpp — the read and write awaiters shared by every byte stream (tcp_stream,
/// its halves, unix_stream). You get them from the stream's methods, never build them yourself:
///
///     auto n = co_await stream.read(buf);          // result<size_t, error_code>; 0 = EOF
///     auto r = co_await stream.read_exact(buf);    // fills buf, or error::unexpected_eof
///     auto w = co_await stream.write(bytes);       // result<size_t, error_code>; may be partial
///     auto a = co_await stream.write_all(bytes);   // all of it, or an error
///
/// Cancel safety:
///   read        cancel safe. An awaiter destroyed while pending (task aborted, timeout elapsed,
///               select branch lost) cancels the kernel operation; bytes it received anyway are
///               kept by the stream and returned by the next read, in order. The caller's buffer
///               is never written after the awaiter is gone (io_uring reads land in a buffer the
///               stream owns and are copied out).
///   read_exact  not cancel safe: bytes already copied into the buffer are the caller's; a
///               cancelled read_exact may have consumed part of the stream.
///   write(_all) not cancel safe: a cancelled write may have sent some or all of its bytes. The
///               kernel never reads the caller's buffer after the awaiter is gone (io_uring writes
///               send from a copy).
/// cancel() (the leaf contract, corio/runtime/leaf.hpp; select/race/timeout call it on a losing
///   operation, the destructor of a pending one does the same): afterwards no waker of the
///   operation is registered anywhere, and an operation it had in the kernel (io_uring) is asked
///   to cancel, as the destructor always did. That kernel operation belongs to the stream from
///   then on and never touches the caller's buffer; what it still completes stays with the
///   stream (a read's bytes for the next read; a write's outcome for this leaf if it is polled
///   again, else dropped by the next write). So the buffer and the stream may be reused at once
///   (select's handler may read the same socket, or drop it). Polled again, an operation
///   starts over with its buffer; read_exact / write_all continue from filled() / written()
///   (the bytes before that are already the caller's / the peer's: restarting would lose or
///   repeat them), and a write collects its cancelled write's outcome first, so a cancelled and
///   re-polled write never sends a byte twice.
/// Thread safety: one reader and one writer at a time per stream (they may be two tasks, via
///   split halves). Awaiters are pinned: neither copyable nor movable.
/// Resumption: the task is woken by the reactor of the worker that submitted the operation; it
///   runs wherever the scheduler puts it.
#pragma once

#include <corio/runtime/detail/io_source.hpp>
#include <corio/io/error.hpp>
#include <corio/result.hpp>
#include <corio/runtime/leaf.hpp>

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace corio::io {

namespace detail {
inline std::error_code to_error_code(int err) noexcept {
    if (err == -1) return make_error_code(error::no_runtime);
    return {err, std::system_category()};
}
// For dumps (leaf.hpp, describe): appends "<what> on tcp 127.0.0.1:8080 (peer 127.0.0.1:41234)",
// asking the kernel for the socket's addresses (io/src/net/describe.cpp); "<what> on fd 7" for a
// descriptor that is not an inet or unix socket.
void describe_source(std::string& out, std::string_view what, const corio::detail::io::io_source* s);
}  // namespace detail

/// What a read or a write yields: a byte count, or the error (a std::error_code: errno or
/// io::error).
using io_result = result<std::size_t, std::error_code>;

/// `co_await` yields io_result: bytes read (at least 1), 0 at end of stream, or the error.
class [[nodiscard]] read_operation : public leaf_awaiter<read_operation> {
public:
    /// Made by a stream's read(); not called directly.
    read_operation(corio::detail::io::io_source* s, std::span<std::byte> buf) noexcept : s_(s), buf_(buf) {}
    read_operation(const read_operation&) = delete;
    read_operation& operator=(const read_operation&) = delete;
    ~read_operation() { read_operation::cancel(); }

    /// Ready with what the kernel delivered, or submits the read (or waits for readiness) with the
    /// task's waker.
    bool poll(context& cx) noexcept override {
        r_ = corio::detail::io::poll_read(s_, cx, buf_.data(), buf_.size());
        pending_ = !r_.ready;
        return r_.ready;
    }
    /// Cancels the read; bytes the kernel delivered meanwhile stay with the stream for the next
    /// read.
    void cancel() noexcept override {
        if (std::exchange(pending_, false)) corio::detail::io::cancel_read(s_);
    }
    /// Bytes read (at least 1), 0 at end of stream, or the error.
    io_result await_resume() const noexcept {
        if (r_.err) return unexpected(detail::to_error_code(r_.err));
        return static_cast<std::size_t>(r_.value);
    }

    /// What the pending operation waits for, in words, for runtime::dump() (corio/runtime/dump.hpp).
    void describe(std::string& out) const override { detail::describe_source(out, "read", s_); }

private:
    corio::detail::io::io_source* s_;
    std::span<std::byte> buf_;
    corio::detail::io::io_poll r_;
    // The last poll was pending: set by poll, cleared by a ready poll and by cancel() (which
    // undoes the registration, so a second cancel, or the destructor after one, does nothing).
    bool pending_ = false;
};

/// `co_await` yields io_result: buf.size() once the buffer is full; error::unexpected_eof if the
/// stream ended first (the bytes read so far are in the buffer), or the read error.
class [[nodiscard]] read_exact_operation : public leaf_awaiter<read_exact_operation> {
public:
    /// Made by a stream's read_exact(); not called directly.
    read_exact_operation(corio::detail::io::io_source* s, std::span<std::byte> buf) noexcept : s_(s), buf_(buf) {}
    read_exact_operation(const read_exact_operation&) = delete;
    read_exact_operation& operator=(const read_exact_operation&) = delete;
    ~read_exact_operation() { read_exact_operation::cancel(); }

    /// Reads until the buffer is full, the stream ends or an error.
    bool poll(context& cx) noexcept override {
        while (filled_ < buf_.size()) {
            const auto r = corio::detail::io::poll_read(s_, cx, buf_.data() + filled_, buf_.size() - filled_);
            pending_ = !r.ready;
            if (!r.ready) return false;
            if (r.err) {
                err_ = detail::to_error_code(r.err);
                return true;
            }
            if (r.value == 0) {
                err_ = make_error_code(error::unexpected_eof);
                return true;
            }
            filled_ += static_cast<std::size_t>(r.value);
        }
        return true;
    }
    /// Cancels the kernel read; filled() stays: those bytes were taken from the stream (a poll
    /// after this one reads the rest).
    void cancel() noexcept override {
        if (std::exchange(pending_, false)) corio::detail::io::cancel_read(s_);
    }
    /// buf.size(), error::unexpected_eof, or the read error.
    io_result await_resume() const noexcept {
        if (err_) return unexpected(err_);
        return filled_;
    }
    /// How many bytes are in the buffer so far.
    std::size_t filled() const noexcept { return filled_; }

    /// What the pending operation waits for, in words, for runtime::dump() (corio/runtime/dump.hpp).
    void describe(std::string& out) const override { detail::describe_source(out, "read_exact", s_); }

private:
    corio::detail::io::io_source* s_;
    std::span<std::byte> buf_;
    std::size_t filled_ = 0;  // only grows (a cancel keeps it)
    std::error_code err_;
    bool pending_ = false;    // as read_operation's
};

/// `co_await` yields io_result: bytes written (possibly fewer than given), or the error.
/// Vectored: the bytes of every iovec, in order (a write_vectored takes the whole array).
class [[nodiscard]] write_operation : public leaf_awaiter<write_operation> {
public:
    /// Made by a stream's write(); not called directly.
    write_operation(corio::detail::io::io_source* s, std::span<const std::byte> buf) noexcept
        : s_(s), one_{const_cast<std::byte*>(buf.data()), buf.size()}, iov_(&one_), iovcnt_(1) {}
    /// Made by a stream's write_vectored(); not called directly.
    write_operation(corio::detail::io::io_source* s, std::span<const ::iovec> iov) noexcept
        : s_(s), iov_(iov.data()), iovcnt_(iov.size()) {}
    write_operation(const write_operation&) = delete;
    write_operation& operator=(const write_operation&) = delete;
    ~write_operation() { write_operation::cancel(); }

    /// Writes what the kernel takes now, or submits the write (or waits for readiness) with the
    /// task's waker.
    bool poll(context& cx) noexcept override {
        r_ = corio::detail::io::poll_write(s_, cx, iov_, iovcnt_, ticket_);
        pending_ = !r_.ready;
        return r_.ready;
    }
    /// Cancels the write; if the kernel took bytes meanwhile, a later poll reports them.
    void cancel() noexcept override {
        if (std::exchange(pending_, false)) corio::detail::io::cancel_write(s_, ticket_);
    }
    /// Bytes written (possibly fewer than given), or the error.
    io_result await_resume() const noexcept {
        if (r_.err) return unexpected(detail::to_error_code(r_.err));
        return static_cast<std::size_t>(r_.value);
    }

    /// What the pending operation waits for, in words, for runtime::dump() (corio/runtime/dump.hpp).
    void describe(std::string& out) const override { detail::describe_source(out, "write", s_); }

private:
    corio::detail::io::io_source* s_;
    ::iovec one_{};
    const ::iovec* iov_;
    std::size_t iovcnt_;
    // Nonzero: this leaf's write is (or was, until its result is collected) in flight on the
    // ring. Set and cleared by poll_write; cancel() keeps it (io_source.hpp: cancel_write).
    std::uint64_t ticket_ = 0;
    corio::detail::io::io_poll r_;
    bool pending_ = false;  // as read_operation's
};

/// `co_await` yields io_result: buf.size() once everything was written, error::write_zero if the
/// socket took 0 bytes, or the write error (written() says how far it got).
class [[nodiscard]] write_all_operation : public leaf_awaiter<write_all_operation> {
public:
    /// Made by a stream's write_all(); not called directly.
    write_all_operation(corio::detail::io::io_source* s, std::span<const std::byte> buf) noexcept : s_(s), buf_(buf) {}
    write_all_operation(const write_all_operation&) = delete;
    write_all_operation& operator=(const write_all_operation&) = delete;
    ~write_all_operation() { write_all_operation::cancel(); }

    /// Writes until every byte is taken or an error.
    bool poll(context& cx) noexcept override {
        while (written_ < buf_.size()) {
            ::iovec v{const_cast<std::byte*>(buf_.data() + written_), buf_.size() - written_};
            const auto r = corio::detail::io::poll_write(s_, cx, &v, 1, ticket_);
            pending_ = !r.ready;
            if (!r.ready) return false;
            if (r.err) {
                err_ = detail::to_error_code(r.err);
                return true;
            }
            if (r.value == 0) {
                err_ = make_error_code(error::write_zero);
                return true;
            }
            written_ += static_cast<std::size_t>(r.value);
        }
        return true;
    }
    /// Cancels the kernel write; written() stays: a poll after this one collects the cancelled
    /// chunk's outcome and writes the rest.
    void cancel() noexcept override {
        if (std::exchange(pending_, false)) corio::detail::io::cancel_write(s_, ticket_);
    }
    /// buf.size(), error::write_zero, or the write error.
    io_result await_resume() const noexcept {
        if (err_) return unexpected(err_);
        return written_;
    }
    /// How many bytes were written so far.
    std::size_t written() const noexcept { return written_; }

    /// What the pending operation waits for, in words, for runtime::dump() (corio/runtime/dump.hpp).
    void describe(std::string& out) const override { detail::describe_source(out, "write_all", s_); }

private:
    corio::detail::io::io_source* s_;
    std::span<const std::byte> buf_;
    std::size_t written_ = 0;   // only grows (a cancel keeps it)
    std::uint64_t ticket_ = 0;  // as write_operation's
    std::error_code err_;
    bool pending_ = false;      // as read_operation's
};

}  // namespace corio::io
