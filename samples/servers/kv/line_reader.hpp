// samples/servers/kv/line_reader.hpp — splits a byte stream into lines of bounded length.
//
// The reader does not own the socket: the caller reads into read_buffer() (typically as one
// branch of a corio::select, next to a channel receive and a stop token), passes the count to
// commit(), then drains complete lines with next(). That split is what lets a connection task
// wait on its socket and on other sources at once: a read that loses a select is cancelled
// without losing bytes (docs/io.md), and nothing was committed for it.
//
//     line_reader lines(max_line);
//     for (;;) {
//         std::string line;
//         auto st = lines.next(line);
//         if (st == line_reader::status::line) { handle(line); continue; }
//         if (st == line_reader::status::too_long) { reply("ERR line too long"); break; }
//         auto n = co_await stream.read(lines.read_buffer());   // need_more
//         if (!n || *n == 0) break;                              // error or EOF
//         lines.commit(*n);
//     }
//
// Lines end with "\n"; a "\r" before it is dropped (telnet/netcat on some systems send "\r\n").
// The line length limit excludes the terminator. A line over the limit is reported as soon as
// more than `max_line` bytes without a newline are buffered, so a client can never make the
// server hold more than max_line + one read chunk per connection.
// Used by the kv and chat sample servers (chat includes this header).
#pragma once

#include <array>
#include <cstddef>
#include <span>
#include <string>

namespace corio_samples {

class line_reader {
public:
    static constexpr std::size_t chunk_size = 4096;

    enum class status {
        line,       // `out` holds the next complete line
        need_more,  // no complete line buffered: read more
        too_long,   // the next line exceeds max_line (the connection should be closed)
    };

    explicit line_reader(std::size_t max_line) : max_line_(max_line) {}

    /// Where the next read should land. Valid until the next commit().
    std::span<char> read_buffer() noexcept { return std::span<char>(chunk_); }

    /// `n` bytes were read into read_buffer().
    void commit(std::size_t n) { pending_.append(chunk_.data(), n); }

    /// Takes the next complete line out of the buffered bytes, if there is one.
    status next(std::string& out) {
        const std::size_t nl = pending_.find('\n', scanned_);
        if (nl == std::string::npos) {
            scanned_ = pending_.size();  // don't rescan these bytes after the next commit
            // + 1: the last byte may be the "\r" of a "\r\n" that is not complete yet.
            return pending_.size() > max_line_ + 1 ? status::too_long : status::need_more;
        }
        std::size_t len = nl;
        if (len > 0 && pending_[len - 1] == '\r') --len;
        if (len > max_line_) return status::too_long;
        out.assign(pending_, 0, len);
        pending_.erase(0, nl + 1);
        scanned_ = 0;
        return status::line;
    }

    /// Bytes buffered that do not form a complete line yet (a client that disconnects
    /// mid-line leaves these behind).
    std::size_t partial() const noexcept { return pending_.size(); }

private:
    std::size_t max_line_;
    std::string pending_;       // bytes received, not yet returned as lines
    std::size_t scanned_ = 0;   // pending_[0, scanned_) holds no '\n'
    std::array<char, chunk_size> chunk_{};
};

}  // namespace corio_samples
