/// \file
/// corio/io/copy.hpp — pump bytes from a reader to a writer (Tokio's tokio::io::copy and
/// copy_bidirectional).
///
///     auto n = co_await corio::io::copy(reader, writer);             // result<uint64_t, error_code>
///     auto p = co_await corio::io::copy_bidirectional(client, upstream);
///     // result<std::pair<uint64_t, uint64_t>, error_code>: {client -> upstream, upstream -> client}
///
/// copy(reader, writer): reads (any `read(std::span<std::byte>)` leaf: streams, read halves,
///   buf_reader) and write_all()s to the writer until the reader's EOF; yields the bytes copied.
///   It does not flush a buf_writer nor shut the writer down.
/// copy_bidirectional(a, b): both directions at once; when one side reaches EOF, the other side's
///   write half is shut down (a.shutdown() / b.shutdown(): FIN after the data copied), and the
///   copy goes on in the other direction until its EOF too. The first error ends both.
///   a and b need read, write_all and shutdown() (tcp_stream, unix_stream).
/// Both are LEAVES, not tasks: the directions are polled from the awaiting task (no task is
///   spawned), so destroying the operation (abort, timeout, select) stops everything at once and
///   nothing touches a or b afterwards. Why not corio::join of two tasks: join spawns its task
///   arguments, and an aborted spawned task may still be running on another worker when the
///   caller resumes and drops the streams.
/// Cancel safety: not cancel safe as a whole (a chunk read but not yet written is lost with the
///   operation, as in Tokio). The streams' own reads never lose bytes.
///   cancel() (the leaf contract) cancels the pending inner read / write_all of each direction
///   (corio/io/stream_ops.hpp) and keeps them, with the chunk: polled again, the copy goes on
///   where it was (the cancelled read's bytes are still the stream's, the write_all continues
///   from what it wrote), so a cancel followed by a poll loses and repeats nothing. A shutdown
///   already sent is not undone.
/// Buffer: 64 KiB per direction, on the heap, owned by the operation.
#pragma once

#include <corio/io/stream_ops.hpp>
#include <corio/result.hpp>
#include <corio/runtime/leaf.hpp>
#include <corio/runtime/time.hpp>  // detail::leaf_slot

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <system_error>
#include <utility>

namespace corio::io {

namespace detail {

inline constexpr std::size_t copy_buffer_size = 64 * 1024;

// One direction: read a chunk, write it all, repeat until EOF. Polled by the leaves below.
template <class R, class W>
class copy_pump {
    using read_leaf = decltype(std::declval<R&>().read(std::declval<std::span<std::byte>>()));
    using write_leaf = decltype(std::declval<W&>().write_all(std::declval<std::span<const std::byte>>()));

public:
    copy_pump(R* r, W* w) : r_(r), w_(w), buf_(std::make_unique<std::byte[]>(copy_buffer_size)) {}

    // Ready at EOF (done() true) or on an error (err set).
    bool poll(context& cx, std::error_code& err) noexcept {
        if (done_) return true;
        for (;;) {
            if (wr_) {
                if (!wr_->poll(cx)) return false;
                auto w = wr_->await_resume();
                wr_.reset();
                if (!w) {
                    err = w.error();
                    return true;
                }
                total_ += len_;
                len_ = 0;
            }
            if (!rd_) {
                std::span<std::byte> dst(buf_.get(), copy_buffer_size);
                rd_.emplace([&] { return r_->read(dst); });
            }
            if (!rd_->poll(cx)) return false;
            auto n = rd_->await_resume();
            rd_.reset();
            if (!n) {
                err = n.error();
                return true;
            }
            if (*n == 0) {
                done_ = true;
                return true;
            }
            len_ = *n;
            std::span<const std::byte> chunk(buf_.get(), len_);
            wr_.emplace([&] { return w_->write_all(chunk); });
        }
    }
    // The pending inner leaf, if any, is cancelled and kept (it owns where the pump was: the
    // read into buf_, or the write_all of the chunk in buf_; both stay valid with the pump).
    void cancel() noexcept {
        if (rd_) rd_->cancel();
        if (wr_) wr_->cancel();
    }
    bool done() const noexcept { return done_; }
    std::uint64_t total() const noexcept { return total_; }

private:
    R* r_;
    W* w_;
    std::unique_ptr<std::byte[]> buf_;
    std::size_t len_ = 0;
    std::uint64_t total_ = 0;
    bool done_ = false;
    // At most one is engaged: a read of the next chunk, or the write_all of the current one.
    // Reset when its leaf reports ready; cancel() leaves it engaged (cancelled).
    corio::detail::leaf_slot<read_leaf> rd_;
    corio::detail::leaf_slot<write_leaf> wr_;
};

}  // namespace detail

/// co_await yields result<std::uint64_t, std::error_code>: the bytes copied until EOF.
template <class R, class W>
class [[nodiscard]] copy_operation : public leaf_awaiter<copy_operation<R, W>> {
public:
    /// Made by copy(); not called directly.
    copy_operation(R& r, W& w) : pump_(&r, &w) {}
    copy_operation(const copy_operation&) = delete;
    copy_operation& operator=(const copy_operation&) = delete;

    /// Reads from `r` and writes to `w` until EOF or an error.
    bool poll(context& cx) noexcept override { return pump_.poll(cx, err_); }
    /// Cancels the pending read or write where it was: polled again it loses and repeats nothing
    /// (destroyed, a chunk read but not yet written is lost).
    void cancel() noexcept override { pump_.cancel(); }  // ready: the pump holds no leaf (a no-op)
    /// The bytes copied until EOF, or the first error.
    result<std::uint64_t, std::error_code> await_resume() noexcept {
        if (err_) return unexpected(err_);
        return pump_.total();
    }

private:
    detail::copy_pump<R, W> pump_;
    std::error_code err_;
};

/// co_await yields result<std::pair<std::uint64_t, std::uint64_t>, std::error_code>:
/// {bytes a -> b, bytes b -> a}.
template <class A, class B>
class [[nodiscard]] copy_bidirectional_operation : public leaf_awaiter<copy_bidirectional_operation<A, B>> {
public:
    /// Made by copy_bidirectional(); not called directly.
    copy_bidirectional_operation(A& a, B& b) : a_(&a), b_(&b), ab_(&a, &b), ba_(&b, &a) {}
    copy_bidirectional_operation(const copy_bidirectional_operation&) = delete;
    copy_bidirectional_operation& operator=(const copy_bidirectional_operation&) = delete;

    /// Pumps both directions until both reached EOF (shutting each writer down after its EOF) or
    /// one fails.
    bool poll(context& cx) noexcept override {
        // Each pump registers the task's waker with its own pending leaf; a wake re-polls both.
        const bool ab = poll_side(cx, ab_, b_, ab_shut_);
        if (!err_) {
            const bool ba = poll_side(cx, ba_, a_, ba_shut_);
            if (!err_) return ab && ba;
        }
        // The first error ends both: the other direction's pending leaf lets go of its
        // registration now, not when the operation is destroyed.
        cancel();
        return true;
    }
    /// Cancels both directions' pending reads and writes where they were (a finished or failed
    /// direction holds none, and after a ready poll they are cancelled already: idempotent).
    void cancel() noexcept override {
        ab_.cancel();
        ba_.cancel();
    }
    /// {bytes a to b, bytes b to a}, or the first error.
    result<std::pair<std::uint64_t, std::uint64_t>, std::error_code> await_resume() noexcept {
        if (err_) return unexpected(err_);
        return std::pair<std::uint64_t, std::uint64_t>(ab_.total(), ba_.total());
    }

private:
    template <class P, class S>
    bool poll_side(context& cx, P& pump, S* dst, bool& shut) noexcept {
        if (!pump.poll(cx, err_)) return false;
        if (!err_ && pump.done() && !shut) {
            shut = true;  // half-close: the peer of `dst` sees EOF after the bytes copied
            auto r = dst->shutdown();
            if (!r && r.error() != std::errc::not_connected) err_ = r.error();
        }
        return true;
    }

    A* a_;
    B* b_;
    detail::copy_pump<A, B> ab_;
    detail::copy_pump<B, A> ba_;
    bool ab_shut_ = false;
    bool ba_shut_ = false;
    std::error_code err_;
};

/// Copies from r to w until r's EOF. A leaf: see the header comment.
template <class R, class W>
copy_operation<R, W> copy(R& r, W& w) {
    return copy_operation<R, W>(r, w);
}

/// Copies a -> b and b -> a at once, half-closing each side at the other's EOF.
template <class A, class B>
copy_bidirectional_operation<A, B> copy_bidirectional(A& a, B& b) {
    return copy_bidirectional_operation<A, B>(a, b);
}

}  // namespace corio::io
