// http_hello — a minimal HTTP/1.1 keep-alive server: `200 OK` `Hello, World!` to every request
// (the `http_hello` workload of docs/workloads.md).
//
//     ./build/release/samples/servers/http_hello/http_hello 8080
//     curl -v http://127.0.0.1:8080/           # Hello, World!
//     wrk -t1 -c50 -d5s http://127.0.0.1:8080/
//
// Hand-parsed on purpose (the runtime is measured, not a parser library), but strict about what
// it accepts: a request line `METHOD SP target SP HTTP/1.x`, header lines `name: value`, every
// line ended by CRLF. Per connection: one read buffer; each read is scanned for every complete
// request head in it (pipelining), and the responses to all of them go out in one write.
//   * malformed request line or header    -> 400 Bad Request, then close
//   * head longer than --max-line bytes    -> 431 Request Header Fields Too Large, then close
//   * `Content-Length: N` body            -> skipped (read and discarded)
//   * `Transfer-Encoding` (chunked bodies) -> 400 (not supported), then close
//   * `Connection: close` / HTTP/1.0 without `Connection: keep-alive` -> answered, then close
// Shutdown (SIGINT/SIGTERM): an idle connection closes at once; one with a request in progress
// gets its answer (the last response of the batch says `Connection: close`), then closes.
#include "../common/server.hpp"
#include "common/log.hpp"

#include <corio/runtime/select.hpp>
#include <corio/runtime/time.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace {

constexpr std::string_view ok_response =
    "HTTP/1.1 200 OK\r\nContent-Length: 13\r\nContent-Type: text/plain\r\n\r\nHello, World!";
constexpr std::string_view ok_close_response =
    "HTTP/1.1 200 OK\r\nContent-Length: 13\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nHello, World!";
constexpr std::string_view bad_request_response =
    "HTTP/1.1 400 Bad Request\r\nContent-Length: 12\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n"
    "Bad Request\n";
constexpr std::string_view too_large_response =
    "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 32\r\nContent-Type: text/plain\r\n"
    "Connection: close\r\n\r\nRequest Header Fields Too Large\n";

// Set by main from --max-line before the runtime starts; read-only afterwards.
std::size_t g_max_head = 8192;

// RFC 9110 tchar: the characters of a method or a header name.
constexpr bool is_tchar(unsigned char c) noexcept {
    if (c >= '0' && c <= '9') return true;
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return true;
    switch (c) {
        case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
        case '-': case '.': case '^': case '_': case '`': case '|': case '~': return true;
        default: return false;
    }
}

bool iequals(std::string_view a, std::string_view lower) noexcept {
    if (a.size() != lower.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        unsigned char c = static_cast<unsigned char>(a[i]);
        if (c >= 'A' && c <= 'Z') c |= 0x20;
        if (c != static_cast<unsigned char>(lower[i])) return false;
    }
    return true;
}

// Whether the comma-separated header value lists `token` (case-insensitive).
bool has_token(std::string_view value, std::string_view token) noexcept {
    while (!value.empty()) {
        std::size_t comma = value.find(',');
        std::string_view item = value.substr(0, comma);
        while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
        while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
        if (iequals(item, token)) return true;
        if (comma == std::string_view::npos) break;
        value.remove_prefix(comma + 1);
    }
    return false;
}

struct request_head {
    std::uint64_t content_length = 0;
    bool close = false;  // answer, then close the connection
};

// Parses one request head: `head` runs up to and including its final CRLFCRLF. False: malformed.
bool parse_head(std::string_view head, request_head& out) noexcept {
    head.remove_suffix(2);  // the empty line's CRLF; every line below ends with CRLF
    auto next_line = [&head](std::string_view& line) {
        std::size_t eol = head.find("\r\n");
        line = head.substr(0, eol);  // eol != npos: head ends with CRLF
        head.remove_prefix(eol + 2);
    };
    std::string_view line;
    next_line(line);

    // Request line: METHOD SP request-target SP HTTP-version.
    std::size_t sp1 = line.find(' ');
    if (sp1 == 0 || sp1 == std::string_view::npos) return false;
    for (std::size_t i = 0; i < sp1; ++i)
        if (!is_tchar(static_cast<unsigned char>(line[i]))) return false;
    std::size_t sp2 = line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos || sp2 == sp1 + 1) return false;
    for (std::size_t i = sp1 + 1; i < sp2; ++i) {
        unsigned char c = static_cast<unsigned char>(line[i]);
        if (c <= 0x20 || c == 0x7f) return false;
    }
    std::string_view version = line.substr(sp2 + 1);
    bool http10 = false;
    if (version == "HTTP/1.0") http10 = true;
    else if (version != "HTTP/1.1") return false;

    bool keep_alive = false;
    bool have_length = false;
    while (!head.empty()) {
        next_line(line);
        std::size_t colon = line.find(':');
        if (colon == 0 || colon == std::string_view::npos) return false;
        std::string_view name = line.substr(0, colon);
        for (char c : name)
            if (!is_tchar(static_cast<unsigned char>(c))) return false;
        std::string_view value = line.substr(colon + 1);
        for (char ch : value) {
            unsigned char c = static_cast<unsigned char>(ch);
            if ((c < 0x20 && c != '\t') || c == 0x7f) return false;  // CR, LF, NUL... inside a line
        }
        while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
        while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);

        if (iequals(name, "content-length")) {
            if (value.empty() || value.size() > 18) return false;
            std::uint64_t n = 0;
            for (char c : value) {
                if (c < '0' || c > '9') return false;
                n = n * 10 + static_cast<std::uint64_t>(c - '0');
            }
            if (have_length && n != out.content_length) return false;  // conflicting lengths
            out.content_length = n;
            have_length = true;
        } else if (iequals(name, "transfer-encoding")) {
            return false;  // chunked bodies are not supported
        } else if (iequals(name, "connection")) {
            if (has_token(value, "close")) out.close = true;
            if (has_token(value, "keep-alive")) keep_alive = true;
        }
    }
    if (http10 && !keep_alive) out.close = true;
    return true;
}

// The connection's read buffer: bytes [start, end) are received and not yet consumed.
struct read_buffer {
    explicit read_buffer(std::size_t cap) : data(new char[cap]), cap(cap) {}
    std::unique_ptr<char[]> data;
    std::size_t cap;
    std::size_t start = 0;
    std::size_t end = 0;

    std::size_t size() const noexcept { return end - start; }
    const char* begin_ptr() const noexcept { return data.get() + start; }
    // Moves the unconsumed bytes to the front (usually none, or part of one request).
    void compact() noexcept {
        if (start == 0) return;
        if (start != end) std::memmove(data.get(), data.get() + start, end - start);
        end -= start;
        start = 0;
    }
};

enum class outcome { keep_going, close, bad_request, too_large };

// Consumes every complete request in `in`, appending one response per request to `out`.
// `skip` carries the body bytes still to discard across reads.
outcome process(read_buffer& in, std::uint64_t& skip, std::string& out) {
    for (;;) {
        if (skip > 0) {
            std::size_t k = static_cast<std::size_t>(std::min<std::uint64_t>(skip, in.size()));
            in.start += k;
            skip -= k;
            if (skip > 0) return outcome::keep_going;  // body continues in the next read
        }
        // Tolerate empty lines between requests (RFC 9112 §2.2).
        while (in.size() >= 2 && in.data[in.start] == '\r' && in.data[in.start + 1] == '\n') in.start += 2;
        if (in.size() == 0) return outcome::keep_going;
        const void* found = ::memmem(in.begin_ptr(), in.size(), "\r\n\r\n", 4);
        if (!found) return in.size() > g_max_head ? outcome::too_large : outcome::keep_going;
        std::size_t head_len = static_cast<std::size_t>(static_cast<const char*>(found) - in.begin_ptr()) + 4;
        if (head_len > g_max_head) return outcome::too_large;
        request_head req;
        if (!parse_head(std::string_view(in.begin_ptr(), head_len), req)) return outcome::bad_request;
        in.start += head_len;
        skip = req.content_length;
        if (req.close) {
            out.append(ok_close_response);
            return outcome::close;
        }
        out.append(ok_response);
    }
}

bool is_disconnect(const std::error_code& ec) noexcept {
    return ec == std::errc::connection_reset || ec == std::errc::broken_pipe;
}

// Closing a socket with unread input makes the kernel send RST, which can destroy the answer we
// just wrote before the client read it (a pipelining client has more requests in flight). So:
// FIN first, then read and discard what the client still sends, for a bounded time and amount.
corio::task<void> lingering_close(corio::net::tcp_stream& stream) {
    (void)stream.shutdown(corio::net::shutdown_how::write);
    std::array<std::byte, 4096> sink;
    const auto deadline = corio::time::now() + std::chrono::seconds(2);
    for (std::size_t drained = 0; drained < (256u << 10);) {
        auto r = co_await corio::timeout_at(deadline, stream.read(std::span<std::byte>(sink)));
        if (!r || !*r || **r == 0) co_return;  // deadline, error, or the client's FIN
        drained += **r;
    }
}

corio::task<void> http_connection(corio::net::tcp_stream stream, corio::sync::cancellation_token stop) {
    (void)stream.set_nodelay(true);  // responses go out at once, as the peers' servers do
    // Room for a whole head of max_line bytes plus more pipelined requests behind it.
    read_buffer in(g_max_head + 8192);
    std::string out;
    out.reserve(4096);
    std::uint64_t skip = 0;

    for (;;) {
        in.compact();
        // Between requests, shutdown closes the connection; in the middle of one, the request
        // is read to the end and answered (serve() aborts it after the shutdown deadline).
        const bool idle = in.size() == 0 && skip == 0;
        std::span<std::byte> room(reinterpret_cast<std::byte*>(in.data.get() + in.end), in.cap - in.end);
        auto r = co_await corio::select_biased(corio::branch(stream.read(room)),
                                               corio::branch(stop.cancelled()).if_(idle));
        if (r.index() == 1) co_return;
        auto& n = std::get<0>(r);
        if (!n) {
            if (!is_disconnect(n.error())) corio_samples::log::warn("http_hello: read: {}", n.error().message());
            co_return;
        }
        if (*n == 0) co_return;  // EOF (possibly mid-request: the client gave up)
        in.end += *n;

        outcome o = process(in, skip, out);
        if (o == outcome::keep_going && stop.is_cancelled() && !out.empty() && in.size() == 0 && skip == 0) {
            // Shutting down and nothing left half-read: the last answer of this batch says so.
            out.resize(out.size() - ok_response.size());
            out.append(ok_close_response);
            o = outcome::close;
        }
        if (o == outcome::bad_request || o == outcome::too_large) {
            auto peer = stream.peer_addr();
            corio_samples::log::warn("http_hello: {} from {}: closing",
                                     o == outcome::bad_request ? "malformed request" : "request head too large",
                                     peer ? peer->to_string() : std::string("?"));
            out.append(o == outcome::bad_request ? bad_request_response : too_large_response);
        }
        if (!out.empty()) {
            auto w = co_await stream.write_all(std::string_view(out));
            out.clear();
            if (!w) {
                if (!is_disconnect(w.error())) corio_samples::log::warn("http_hello: write: {}", w.error().message());
                co_return;
            }
        }
        if (o != outcome::keep_going) {
            co_await lingering_close(stream);
            co_return;
        }
    }
}

}  // namespace

int main(int argc, char** argv) {
    auto args = corio_samples::parse_args(argc, argv, "http_hello");
    g_max_head = args.max_line;
    return corio_samples::run_server(args, "http_hello", &http_connection);
}
