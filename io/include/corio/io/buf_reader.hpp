/// \file
/// corio/io/buf_reader.hpp — a read buffer over a byte stream (Tokio's tokio::io::BufReader).
///
///     corio::io::buf_reader rd(std::move(stream));              // owns it (or buf_reader<tcp_stream&>)
///     std::string line;
///     auto n = co_await rd.read_line(line, 8192);               // result<size_t, error_code>; 0 = EOF
///     if (!n && n.error() == corio::io::error::line_too_long) ...
///
/// Stream: anything whose read(std::span<std::byte>) returns a corio leaf yielding io_result
///   (tcp_stream, tcp_read_half, unix_stream, unix_read_half, another buf_reader...).
/// Every operation here is a LEAF (not a task): it composes with timeout/select/race, and
///   destroying it pending destroys its inner stream read synchronously (no spawned task outlives
///   the call).
/// read_line(out, max_len) / read_until(delim, out, max_len): append one line (delimiter
///   included) to out and yield its length. A last line without delimiter at EOF is returned as
///   is; 0 = EOF with nothing buffered. max_len bounds the line INCLUDING its delimiter. A line
///   longer than that yields error::line_too_long and CONSUMES NOTHING: buffer() then starts with
///   more than max_len bytes of that line (none with the delimiter among the first max_len).
///   Skip them with consume(), or call again with a larger limit; the reader stays usable.
///   Storage grows to max_len + 1 bytes when a line outgrows the capacity.
/// read(buf): served from the buffer first; an empty buffer and a buf at least as large as the
///   capacity bypass the buffer (one stream read straight into buf).
/// fill_buf() / consume(n) / buffer(): the BufRead protocol. fill_buf yields the buffered bytes,
///   reading once from the stream if there are none (an empty span = EOF).
/// Cancel safety: all of them are cancel safe. A pending read_line/read_until only appends to
///   `out` when it completes; bytes it read before being cancelled stay in the reader's buffer and
///   are returned by the next call. The stream read inside is itself cancel safe (stream_ops.hpp).
/// cancel() (the leaf contract): the pending stream read inside is destroyed (so cancelled: its
///   bytes stay with the stream, stream_ops.hpp), and the operation forgets how far it had
///   scanned; polled again it starts over on whatever is buffered then (the caller may have
///   consumed meanwhile). The inner read is not kept because it points into the reader's
///   buffer, which another operation may move before this one is polled again.
/// Thread safety / pinning: one operation at a time; do not move the reader while one is pending
///   (operations point at it).
#pragma once

#include <corio/io/error.hpp>
#include <corio/io/stream_ops.hpp>
#include <corio/result.hpp>
#include <corio/runtime/leaf.hpp>
#include <corio/runtime/time.hpp>  // detail::leaf_slot

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <span>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace corio::io {

namespace detail {
template <class S>
using read_leaf_t = decltype(std::declval<S&>().read(std::declval<std::span<std::byte>>()));

inline void append_to(std::string& out, std::span<const std::byte> b) {
    out.append(reinterpret_cast<const char*>(b.data()), b.size());
}
inline void append_to(std::vector<std::byte>& out, std::span<const std::byte> b) { out.insert(out.end(), b.begin(), b.end()); }
}  // namespace detail

/// A read buffer over a byte stream (Tokio's BufReader): read() served from the buffer, fill_buf()
/// / consume() / buffer() (the BufRead protocol), and read_line() / read_until() with a length
/// limit. Every operation is a cancel-safe leaf: bytes read before a cancel stay buffered for the
/// next call. One operation at a time; do not move the reader while one is pending. `Stream` is a
/// stream type (owned) or a reference to one (borrowed).
template <class Stream>
class buf_reader {
    using stream_type = std::remove_reference_t<Stream>;

public:
    /// The stream's read operation type, kept pending across polls of a buffered operation.
    using inner_read = detail::read_leaf_t<stream_type>;
    /// The buffer size used when none is given: 8 KiB.
    static constexpr std::size_t default_capacity = 8 * 1024;

    class read_op;
    class fill_buf_op;
    template <class Out>
    class read_until_op;

    /// A reader over `s` with a buffer of `capacity` bytes (at least 1).
    explicit buf_reader(Stream s, std::size_t capacity = default_capacity)
        : stream_(static_cast<Stream&&>(s)), cap_(std::max<std::size_t>(capacity, 1)) {}
    /// Moves the stream and the buffer. Not while an operation is pending.
    buf_reader(buf_reader&&) = default;
    /// Moves the stream and the buffer. Not while an operation is pending.
    buf_reader& operator=(buf_reader&&) = default;

    /// Reads up to buf.size() bytes (at least 1), 0 at EOF.
    [[nodiscard]] read_op read(std::span<std::byte> buf) noexcept { return read_op(this, buf); }
    /// read() for a char buffer.
    [[nodiscard]] read_op read(std::span<char> buf) noexcept { return read(std::as_writable_bytes(buf)); }
    /// Yields result<std::span<const std::byte>, error_code>: the buffered bytes (empty = EOF).
    [[nodiscard]] fill_buf_op fill_buf() noexcept { return fill_buf_op(this); }
    /// Appends one '\n'-terminated line (at most max_len bytes with the '\n') to out.
    [[nodiscard]] read_until_op<std::string> read_line(std::string& out,
                                                       std::size_t max_len = std::numeric_limits<std::size_t>::max()) noexcept {
        return read_until_op<std::string>(this, std::byte{'\n'}, &out, max_len);
    }
    /// Appends bytes through the first `delim` (at most max_len bytes with it) to out.
    [[nodiscard]] read_until_op<std::vector<std::byte>> read_until(
        std::byte delim, std::vector<std::byte>& out, std::size_t max_len = std::numeric_limits<std::size_t>::max()) noexcept {
        return read_until_op<std::vector<std::byte>>(this, delim, &out, max_len);
    }

    /// The buffered, not yet consumed bytes.
    std::span<const std::byte> buffer() const noexcept { return {buf_.data() + pos_, end_ - pos_}; }
    /// Marks the first n buffered bytes as read (clamped to what is buffered).
    void consume(std::size_t n) noexcept {
        pos_ += std::min(n, end_ - pos_);
        if (pos_ == end_) pos_ = end_ = 0;
    }
    /// The buffer's size (it grows past this only for a line longer than the capacity).
    std::size_t capacity() const noexcept { return cap_; }
    /// The stream.
    stream_type& get_ref() noexcept { return stream_; }
    /// The stream.
    const stream_type& get_ref() const noexcept { return stream_; }
    /// The stream back; buffered bytes are lost (read them with buffer() first).
    stream_type into_inner() && { return std::move(stream_); }

    /// Used by the operations; not called directly. One stream read into the buffer's free tail.
    /// `slot` keeps the pending read across polls. `limit`: the storage the buffer may grow to
    /// when it is full from its start. Ready: the bytes appended (0 = EOF) or the error.
    bool poll_fill(context& cx, corio::detail::leaf_slot<inner_read>& slot, std::size_t limit, io_result& out) noexcept {
        if (!slot) {
            make_room(limit);
            std::span<std::byte> tail(buf_.data() + end_, buf_.size() - end_);
            slot.emplace([&] { return stream_.read(tail); });
        }
        if (!slot->poll(cx)) return false;
        out = slot->await_resume();
        slot.reset();
        if (out && *out > 0) end_ += *out;
        return true;
    }

private:
    // Called only with no read pending (the buffer may move).
    void make_room(std::size_t limit) {
        if (pos_ == end_) pos_ = end_ = 0;
        if (buf_.empty()) buf_.resize(cap_);
        const std::size_t tail = buf_.size() - end_;
        if (pos_ > 0 && tail < buf_.size() / 2) {
            std::memmove(buf_.data(), buf_.data() + pos_, end_ - pos_);
            end_ -= pos_;
            pos_ = 0;
        }
        if (end_ == buf_.size()) {  // full from its start: a line longer than the capacity
            const std::size_t grown = buf_.size() > std::numeric_limits<std::size_t>::max() / 2 ? limit : buf_.size() * 2;
            buf_.resize(std::max(buf_.size() + 1, std::min(grown, limit)));
        }
    }

    Stream stream_;
    std::vector<std::byte> buf_;  // [pos_, end_) buffered; allocated at the first fill
    std::size_t pos_ = 0;
    std::size_t end_ = 0;
    std::size_t cap_;
};

/// Deduces buf_reader<Stream> (owning) from a stream passed by value.
template <class Stream>
buf_reader(Stream) -> buf_reader<Stream>;

/// buf_reader::read: co_await yields io_result (0 = EOF).
template <class Stream>
class [[nodiscard]] buf_reader<Stream>::read_op : public leaf_awaiter<read_op> {
public:
    /// Made by read(); not called directly.
    read_op(buf_reader* r, std::span<std::byte> dst) noexcept : r_(r), dst_(dst) {}
    read_op(const read_op&) = delete;
    read_op& operator=(const read_op&) = delete;

    /// Copies from the buffer if it holds bytes; else reads from the stream (straight into the
    /// caller's buffer if it is at least the capacity).
    bool poll(context& cx) noexcept override {
        for (;;) {
            if (!slot_) {
                const auto b = r_->buffer();
                if (!b.empty() || dst_.empty()) {
                    if (!cx.poll_budget()) return false;
                    const std::size_t n = std::min(b.size(), dst_.size());
                    if (n) std::memcpy(dst_.data(), b.data(), n);
                    r_->consume(n);
                    res_ = n;
                    return true;
                }
                direct_ = dst_.size() >= r_->capacity();
            }
            if (direct_) {
                if (!slot_) slot_.emplace([&] { return r_->get_ref().read(dst_); });
                if (!slot_->poll(cx)) return false;
                res_ = slot_->await_resume();
                slot_.reset();
                return true;
            }
            io_result f{std::size_t{0}};
            if (!r_->poll_fill(cx, slot_, r_->capacity(), f)) return false;
            if (!f || *f == 0) {
                res_ = f;
                return true;
            }
        }
    }
    /// Cancels the pending stream read; its bytes stay with the stream.
    void cancel() noexcept override {
        slot_.reset();  // empty once ready: then a no-op
        direct_ = false;
    }
    /// Bytes read (at least 1), 0 at EOF, or the error.
    io_result await_resume() noexcept { return res_; }

private:
    buf_reader* r_;
    std::span<std::byte> dst_;
    // Engaged while a stream read is pending (into the reader's buffer, or into dst_ if
    // direct_); reset by the poll that sees it ready, and by cancel().
    corio::detail::leaf_slot<inner_read> slot_;
    bool direct_ = false;  // chosen when slot_ is engaged; meaningful only while it is
    io_result res_{std::size_t{0}};
};

/// buf_reader::fill_buf: co_await yields result<std::span<const std::byte>, error_code>.
template <class Stream>
class [[nodiscard]] buf_reader<Stream>::fill_buf_op : public leaf_awaiter<fill_buf_op> {
public:
    /// Made by fill_buf(); not called directly.
    explicit fill_buf_op(buf_reader* r) noexcept : r_(r) {}
    fill_buf_op(const fill_buf_op&) = delete;
    fill_buf_op& operator=(const fill_buf_op&) = delete;

    /// Ready at once if bytes are buffered; else reads once from the stream into the buffer.
    bool poll(context& cx) noexcept override {
        if (!slot_ && !r_->buffer().empty()) return cx.poll_budget();
        io_result f{std::size_t{0}};
        if (!r_->poll_fill(cx, slot_, r_->capacity(), f)) return false;
        if (!f) err_ = f.error();
        return true;
    }
    /// Cancels the pending stream read.
    void cancel() noexcept override { slot_.reset(); }  // the stream read, if pending
    /// The buffered bytes (empty at EOF), valid until the next operation on the reader, or the
    /// error.
    result<std::span<const std::byte>, std::error_code> await_resume() noexcept {
        if (err_) return unexpected(err_);
        return r_->buffer();
    }

private:
    buf_reader* r_;
    corio::detail::leaf_slot<inner_read> slot_;
    std::error_code err_;
};

/// buf_reader::read_line / read_until: co_await yields io_result (the bytes appended to out).
template <class Stream>
template <class Out>
class [[nodiscard]] buf_reader<Stream>::read_until_op : public leaf_awaiter<read_until_op<Out>> {
public:
    /// Made by read_line() or read_until(); not called directly.
    read_until_op(buf_reader* r, std::byte delim, Out* out, std::size_t max_len) noexcept
        : r_(r), out_(out), max_(max_len), delim_(delim) {}
    read_until_op(const read_until_op&) = delete;
    read_until_op& operator=(const read_until_op&) = delete;

    /// Scans the buffer for the delimiter, reading more from the stream until it is found, EOF, or
    /// max_len.
    bool poll(context& cx) noexcept override {
        for (;;) {
            if (!slot_) {
                const auto b = r_->buffer();
                const std::size_t lim = std::min(b.size(), max_);
                // scanned_: the prefix already searched in earlier polls. Offsets are relative to
                // the unread start, which compaction and growth preserve.
                const auto* begin = b.data() + std::min(scanned_, lim);
                const auto* end = b.data() + lim;
                const auto* hit = std::find(begin, end, delim_);
                if (hit != end) return finish(cx, static_cast<std::size_t>(hit - b.data()) + 1);
                scanned_ = lim;
                if (b.size() > max_) {
                    if (!cx.poll_budget()) return false;
                    res_ = unexpected(make_error_code(error::line_too_long));
                    return true;
                }
                if (eof_) return finish(cx, b.size());  // the last line, without delimiter (0 = EOF)
            }
            io_result f{std::size_t{0}};
            const std::size_t limit = max_ == std::numeric_limits<std::size_t>::max() ? max_ : max_ + 1;
            if (!r_->poll_fill(cx, slot_, limit, f)) return false;
            if (!f) {
                res_ = f;
                return true;
            }
            if (*f == 0) eof_ = true;
        }
    }
    /// Cancels the pending stream read; bytes already read stay buffered. The scan position and
    /// the EOF seen are forgotten too: the caller may consume() before it polls again, and a
    /// stale scan position would then skip a delimiter.
    void cancel() noexcept override {
        slot_.reset();
        scanned_ = 0;
        eof_ = false;
    }
    /// The line's length including the delimiter (0 = EOF with nothing buffered),
    /// error::line_too_long (nothing consumed), or the read error.
    io_result await_resume() noexcept { return res_; }

private:
    bool finish(context& cx, std::size_t n) noexcept {
        if (!cx.poll_budget()) return false;
        detail::append_to(*out_, r_->buffer().first(n));
        r_->consume(n);
        res_ = n;
        return true;
    }

    buf_reader* r_;
    Out* out_;
    std::size_t max_;
    std::size_t scanned_ = 0;  // grows across pending polls; cancel() resets it
    std::byte delim_;
    bool eof_ = false;         // the stream reported EOF; cancel() resets it
    corio::detail::leaf_slot<inner_read> slot_;  // as read_op's
    io_result res_{std::size_t{0}};
};

}  // namespace corio::io
