/// \file
/// corio/io/buf_writer.hpp — a write buffer over a byte stream (Tokio's tokio::io::BufWriter).
///
///     corio::io::buf_writer wr(std::move(stream));        // or buf_writer<tcp_write_half&>
///     co_await wr.write_all(header);                        // buffered: no syscall while it fits
///     co_await wr.write_all(body);
///     auto f = co_await wr.flush();                         // result<void, error_code>
///
/// Stream: anything with write(std::span<const std::byte>) and write_all(...) returning corio
///   leaves that yield io_result (tcp_stream, tcp_write_half, unix_stream, unix_write_half).
/// Every operation is a LEAF (composes with timeout/select).
/// write(buf): copies buf into the buffer when it fits (ready at once, all of it); otherwise
///   flushes the buffer first, then buffers buf or, if buf is at least the capacity, writes it to
///   the stream directly (which may be partial). write_all(buf): all of it, same strategy.
/// flush(): writes everything buffered. Nothing is flushed implicitly on destruction (a
///   destructor cannot wait): flush before dropping the writer.
/// Cancel safety: none of them is cancel safe (as the stream's writes, stream_ops.hpp): a flush
///   cancelled mid-way drops from the buffer only the bytes the stream confirmed, so bytes the
///   kernel sent for the cancelled write itself may be sent again by the next flush. The kernel
///   never reads the caller's buffers after an operation is gone.
/// cancel() (the leaf contract): a pending flush is settled as on destruction (the bytes the
///   stream confirmed leave the buffer; its in-flight write is cancelled and its outcome
///   dropped); a pending direct write (a buffer at least the capacity) is cancelled and kept,
///   so polled again it goes on from what it wrote (it writes from the caller's span, which
///   stays valid). Polled again, a write first checks the buffer afresh, as if never polled.
/// Thread safety / pinning: one operation at a time; do not move the writer while one is pending.
#pragma once

#include <corio/io/error.hpp>
#include <corio/io/stream_ops.hpp>
#include <corio/result.hpp>
#include <corio/runtime/leaf.hpp>
#include <corio/runtime/time.hpp>  // detail::leaf_slot

#include <algorithm>
#include <cstddef>
#include <span>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace corio::io {

namespace detail {
template <class S>
using write_leaf_t = decltype(std::declval<S&>().write(std::declval<std::span<const std::byte>>()));
template <class S>
using write_all_leaf_t = decltype(std::declval<S&>().write_all(std::declval<std::span<const std::byte>>()));
}  // namespace detail

/// A write buffer over a byte stream (Tokio's BufWriter): small writes gather in the buffer and
/// reach the stream in one write_all when it fills or on flush(). Every operation is a leaf (it
/// composes with timeout and select) but, as the stream's writes, none is cancel safe: a
/// cancelled flush drops only the bytes the stream confirmed. Bytes still buffered when the
/// writer is destroyed are lost: flush() first. `Stream` is a stream type (owned) or a reference
/// to one (borrowed).
template <class Stream>
class buf_writer {
    using stream_type = std::remove_reference_t<Stream>;

public:
    /// The stream's write operation type.
    using inner_write = detail::write_leaf_t<stream_type>;
    /// The stream's write_all operation type, kept pending across polls of a flush.
    using inner_write_all = detail::write_all_leaf_t<stream_type>;
    /// The buffer size used when none is given: 8 KiB.
    static constexpr std::size_t default_capacity = 8 * 1024;

    template <bool All>
    class write_op;
    class flush_op;

    /// A writer over `s` with a buffer of `capacity` bytes (at least 1).
    explicit buf_writer(Stream s, std::size_t capacity = default_capacity)
        : stream_(static_cast<Stream&&>(s)), cap_(std::max<std::size_t>(capacity, 1)) {}
    /// Moves the stream and the buffer. Not while an operation is pending.
    buf_writer(buf_writer&&) = default;
    /// Moves the stream and the buffer. Not while an operation is pending.
    buf_writer& operator=(buf_writer&&) = default;

    /// `co_await w.write(b)`: buffers what fits (flushing first when the buffer is full) and yields
    /// how many bytes were taken; a write at least as large as the capacity goes straight to the
    /// stream.
    [[nodiscard]] write_op<false> write(std::span<const std::byte> b) noexcept { return write_op<false>(this, b); }
    /// write() for a string.
    [[nodiscard]] write_op<false> write(std::string_view s) noexcept { return write(std::as_bytes(std::span(s.data(), s.size()))); }
    /// `co_await w.write_all(b)`: takes every byte of `b` (flushing as needed) and yields b.size(),
    /// or the error.
    [[nodiscard]] write_op<true> write_all(std::span<const std::byte> b) noexcept { return write_op<true>(this, b); }
    /// write_all() for a string.
    [[nodiscard]] write_op<true> write_all(std::string_view s) noexcept {
        return write_all(std::as_bytes(std::span(s.data(), s.size())));
    }
    /// Yields result<void, error_code> once every buffered byte was written.
    [[nodiscard]] flush_op flush() noexcept { return flush_op(this); }

    /// The buffered, not yet written bytes.
    std::span<const std::byte> buffer() const noexcept { return buf_; }
    /// The buffer's size: a flush happens when it would overflow.
    std::size_t capacity() const noexcept { return cap_; }
    /// The stream.
    stream_type& get_ref() noexcept { return stream_; }
    /// The stream.
    const stream_type& get_ref() const noexcept { return stream_; }
    /// The stream back; unflushed bytes are lost.
    stream_type into_inner() && { return std::move(stream_); }

    /// Writes the whole buffer; `slot` keeps the pending write across polls. Ready: the buffer
    /// is empty, or `err` is set (the bytes the stream confirmed were removed from the buffer).
    /// Used by the operations; not called directly.
    bool poll_flush(context& cx, corio::detail::leaf_slot<inner_write_all>& slot, std::error_code& err) noexcept {
        if (buf_.empty()) return true;
        if (!slot) {
            std::span<const std::byte> all(buf_);
            slot.emplace([&] { return stream_.write_all(all); });
        }
        if (!slot->poll(cx)) return false;
        auto r = slot->await_resume();
        if (!r) {
            err = r.error();
            settle(slot);
            return true;
        }
        slot.reset();
        buf_.clear();
        return true;
    }
    /// An abandoned or failed flush: drop the bytes its write_all confirmed.
    /// Used by the operations; not called directly.
    void settle(corio::detail::leaf_slot<inner_write_all>& slot) noexcept {
        if (!slot) return;
        if constexpr (requires { slot->written(); }) {
            const std::size_t done = std::min(slot->written(), buf_.size());
            buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(done));
        }
        slot.reset();
    }
    /// Copies `b` into the buffer. Used by the operations; not called directly.
    void append(std::span<const std::byte> b) {
        if (buf_.capacity() < cap_) buf_.reserve(cap_);
        buf_.insert(buf_.end(), b.begin(), b.end());
    }

private:
    Stream stream_;
    std::vector<std::byte> buf_;
    std::size_t cap_;
};

/// Deduces buf_writer<Stream> (owning) from a stream passed by value.
template <class Stream>
buf_writer(Stream) -> buf_writer<Stream>;

/// write (All = false) / write_all (All = true): co_await yields io_result.
template <class Stream>
template <bool All>
class [[nodiscard]] buf_writer<Stream>::write_op : public leaf_awaiter<write_op<All>> {
    using direct_leaf = std::conditional_t<All, inner_write_all, inner_write>;

public:
    /// Made by write() or write_all(); not called directly.
    write_op(buf_writer* w, std::span<const std::byte> src) noexcept : w_(w), src_(src) {}
    write_op(const write_op&) = delete;
    write_op& operator=(const write_op&) = delete;
    ~write_op() { write_op::cancel(); }

    /// Buffers what fits, flushing the buffer (and, for a large write, writing straight to the
    /// stream) as needed.
    bool poll(context& cx) noexcept override {
        if (direct_) return poll_direct(cx);
        if (w_->buf_.size() + src_.size() > w_->cap_) {
            std::error_code err;
            if (!w_->poll_flush(cx, flush_, err)) return false;
            if (err) {
                res_ = unexpected(err);
                return true;
            }
        }
        if (src_.size() >= w_->cap_) {
            direct_ = true;
            return poll_direct(cx);
        }
        if (!cx.poll_budget()) return false;
        w_->append(src_);
        res_ = src_.size();
        return true;
    }
    /// Abandons the pending flush; the bytes it wrote are dropped from the buffer, the rest stay.
    void cancel() noexcept override {
        w_->settle(flush_);  // empty unless a flush is pending
        if (direct_slot_) direct_slot_->cancel();  // a no-op once it reported ready
    }
    /// The bytes taken (write_all: all of them), or the error.
    io_result await_resume() noexcept { return res_; }

private:
    bool poll_direct(context& cx) noexcept {
        if (!direct_slot_) direct_slot_.emplace([&]() -> direct_leaf {
                if constexpr (All) return w_->stream_.write_all(src_);
                else return w_->stream_.write(src_);
            });
        if (!direct_slot_->poll(cx)) return false;
        res_ = direct_slot_->await_resume();
        return true;
    }

    buf_writer* w_;
    std::span<const std::byte> src_;
    // Engaged while the buffer's flush is pending (it points into the writer's buffer); emptied
    // by the poll that sees it done, and by cancel() (settle).
    corio::detail::leaf_slot<inner_write_all> flush_;
    // Engaged once direct_ is chosen, until the operation is destroyed (cancel() cancels it in
    // place: a direct write only ever goes on from where it was).
    corio::detail::leaf_slot<direct_leaf> direct_slot_;
    bool direct_ = false;
    io_result res_{std::size_t{0}};
};

/// flush: co_await yields result<void, error_code>.
template <class Stream>
class [[nodiscard]] buf_writer<Stream>::flush_op : public leaf_awaiter<flush_op> {
public:
    /// Made by flush(); not called directly.
    explicit flush_op(buf_writer* w) noexcept : w_(w) {}
    flush_op(const flush_op&) = delete;
    flush_op& operator=(const flush_op&) = delete;
    ~flush_op() { flush_op::cancel(); }

    /// Writes the whole buffer to the stream.
    bool poll(context& cx) noexcept override {
        if (w_->buf_.empty()) return cx.poll_budget();
        return w_->poll_flush(cx, slot_, err_);
    }
    /// Abandons the pending write; the bytes it wrote are dropped from the buffer, the rest stay.
    void cancel() noexcept override { w_->settle(slot_); }  // empty once ready: then a no-op
    /// Nothing once the buffer is empty, or the write error.
    result<void, std::error_code> await_resume() noexcept {
        if (err_) return unexpected(err_);
        return {};
    }

private:
    buf_writer* w_;
    corio::detail::leaf_slot<inner_write_all> slot_;
    std::error_code err_;
};

}  // namespace corio::io
