// kv — a line-protocol key-value server on corio: three channel patterns in one program.
//
//     ./build/release/samples/servers/kv/kv 7000 [--config kv.conf] [--max-line N] ...
//     printf 'SET lang C++20\nGET lang\nSTATS\n' | nc -q1 127.0.0.1 7000
//
// Protocol (one command per line, "\n" or "\r\n"; one reply line per command):
//     GET k            VALUE v | NOT_FOUND
//     SET k v          OK | ERR value too large | ERR too many keys     (v: the rest of the line)
//     DEL k            DELETED | NOT_FOUND
//     SUBSCRIBE [p]    OK; from then on `EVENT SET k v` / `EVENT DEL k` for every key that starts
//                      with p (all keys without p), interleaved with replies; `LAGGED n` when
//                      n events were skipped because the connection fell too far behind
//     STATS            one line of key=value fields: connections, keys, the request mpsc's and
//                      the event broadcast's metrics (requests.sent, events.lagged, ...: sent,
//                      received, dropped, lagged, high_water), the current limits, and the
//                      SIGHUP reloads applied / refused
//     anything else    ERR <reason>, and the connection carries on
//     a line longer than --max-line: `ERR line too long`, then the server closes the connection
//
// Design (docs/patterns.md):
//   * Pattern 2 — one store actor (store.hpp) owns the map; connections send it commands over a
//     bounded mpsc channel, each with a oneshot responder.
//   * Pattern 3 — the actor fans every change out on a broadcast channel; each subscribed
//     connection holds a receiver. The ring is event_capacity long; a connection more than
//     `subscriber_buffer` events behind skips to the newest and is told `LAGGED n`.
//   * Pattern 4 — the limits (limits.hpp) live in a watch channel; SIGHUP re-reads --config and
//     publishes the new limits; the actor and the connections read the latest with borrow().
//   * Each connection is one task that selects over its socket read, its event receiver (once
//     subscribed) and the shutdown token (corio::select; a read that loses loses no bytes).
//   * SIGINT/SIGTERM: stop accepting, let connections finish the command in hand within
//     --deadline-ms, stop the actor, exit 0 (common/server.hpp).
#include "../common/server.hpp"
#include "common/log.hpp"
#include "close_after_stop.hpp"
#include "line_reader.hpp"
#include "limits.hpp"
#include "store.hpp"

#include <corio/channels/broadcast.hpp>
#include <corio/channels/metrics.hpp>
#include <corio/channels/mpsc.hpp>
#include <corio/channels/sync/cancellation_token.hpp>
#include <corio/channels/watch.hpp>
#include <corio/net/tcp_stream.hpp>
#include <corio/runtime/join_handle.hpp>
#include <corio/runtime/runtime.hpp>
#include <corio/runtime/select.hpp>
#include <corio/runtime/task.hpp>
#include <corio/signal/signal.hpp>

#include <fmt/core.h>

#include <atomic>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace {

using corio_samples::line_reader;
using corio_samples::kv::event;
using corio_samples::kv::limits;
using corio_samples::kv::set_status;
using corio_samples::kv::store_client;

constexpr std::size_t request_capacity = 256;  // commands queued for the actor; senders wait beyond
constexpr std::size_t event_capacity = 4096;   // the broadcast ring; caps subscriber_buffer

// What a connection task needs besides its socket. Connection handlers are plain functions (no
// captures: g++ 12, docs/design/compilers.md), so main publishes this through a file-scope pointer before
// serve() starts accepting, and every connection copies the handles it uses on entry. A sample's
// shortcut: a library would pass a context object to the accept loop.
struct server_state {
    corio::mpsc::sender<corio_samples::kv::command> requests;  // copied by each connection
    corio::watch::receiver<limits> limits_rx;                   // copied by each connection
    std::size_t max_line = 0;
    corio_samples::kv::server_counters counters;                // for STATS
};
std::atomic<server_state*> g_state{nullptr};

// Counts a connection while its task runs.
class connection_count {
public:
    explicit connection_count(std::atomic<std::size_t>& n) : n_(n) { n_.fetch_add(1, std::memory_order_relaxed); }
    ~connection_count() { n_.fetch_sub(1, std::memory_order_relaxed); }
    connection_count(const connection_count&) = delete;
    connection_count& operator=(const connection_count&) = delete;

private:
    std::atomic<std::size_t>& n_;
};

// One connection's state besides the socket.
struct session {
    store_client store;
    corio::watch::receiver<limits> limits_rx;
    std::optional<corio::broadcast::receiver<event>> events;  // set by SUBSCRIBE
    std::string prefix;                                       // of the keys this session follows
};

bool valid_key(std::string_view k) { return !k.empty() && k.find_first_of(" \t") == std::string_view::npos; }

// Splits "WORD rest" at the first space.
std::pair<std::string_view, std::string_view> split_word(std::string_view s) {
    const auto sp = s.find(' ');
    if (sp == std::string_view::npos) return {s, {}};
    return {s.substr(0, sp), s.substr(sp + 1)};
}

// Runs one command line; returns the reply line (without "\n").
corio::task<std::string> execute(std::string line, session& s) {
    const auto [verb, rest] = split_word(line);
    if (verb == "GET") {
        if (!valid_key(rest)) co_return "ERR usage: GET key";
        auto r = co_await s.store.get(std::string(rest));
        if (!r) co_return "ERR shutting down";
        if (!*r) co_return "NOT_FOUND";
        co_return "VALUE " + **r;
    }
    if (verb == "SET") {
        const auto [key, value] = split_word(rest);
        if (!valid_key(key) || rest.find(' ') == std::string_view::npos) co_return "ERR usage: SET key value";
        auto r = co_await s.store.set(std::string(key), std::string(value));
        if (!r) co_return "ERR shutting down";
        switch (*r) {
            case set_status::ok: co_return "OK";
            case set_status::value_too_large: co_return "ERR value too large";
            case set_status::too_many_keys: co_return "ERR too many keys";
        }
        co_return "ERR internal";
    }
    if (verb == "DEL") {
        if (!valid_key(rest)) co_return "ERR usage: DEL key";
        auto r = co_await s.store.del(std::string(rest));
        if (!r) co_return "ERR shutting down";
        co_return *r ? "DELETED" : "NOT_FOUND";
    }
    if (verb == "SUBSCRIBE") {
        if (rest.find_first_of(" \t") != std::string_view::npos) co_return "ERR usage: SUBSCRIBE [prefix]";
        if (!s.events) {
            auto rx = co_await s.store.subscribe();
            if (!rx) co_return "ERR shutting down";
            s.events.emplace(std::move(*rx));
        }
        s.prefix = std::string(rest);  // a second SUBSCRIBE changes the prefix
        co_return "OK";
    }
    if (verb == "STATS") {
        if (!rest.empty()) co_return "ERR usage: STATS";
        auto r = co_await s.store.stats();
        if (!r) co_return "ERR shutting down";
        co_return std::move(*r);
    }
    if (verb.empty()) co_return "ERR empty command";
    co_return "ERR unknown command";
}

// The line an event becomes for this session, or nothing if its key is not followed.
std::optional<std::string> event_line(const event& ev, const std::string& prefix) {
    if (std::string_view(ev.key).substr(0, prefix.size()) != prefix) return std::nullopt;
    if (ev.is_set) return "EVENT SET " + ev.key + " " + ev.value + "\n";
    return "EVENT DEL " + ev.key + "\n";
}

enum class wake { read, event, stop };

// The connection's command loop; returns when the peer is gone, on a line too long, or on stop.
corio::task<void> serve_session(corio::net::tcp_stream& stream, corio::sync::cancellation_token& stop, server_state* st) {
    session s{store_client(st->requests), st->limits_rx, std::nullopt, std::string()};
    line_reader lines(st->max_line);

    for (;;) {
        // Serve every complete line already buffered before waiting again.
        std::string line;
        const line_reader::status ls = lines.next(line);
        if (ls == line_reader::status::line) {
            std::string reply = co_await execute(std::move(line), s);
            reply += '\n';
            auto w = co_await stream.write_all(reply);
            if (!w) co_return;
            continue;
        }
        if (ls == line_reader::status::too_long) {
            auto w = co_await stream.write_all(std::string_view("ERR line too long\n"));
            (void)w;
            co_return;  // the rest of that line is garbage: close rather than resynchronise
        }
        if (stop.is_cancelled()) co_return;  // shutting down: the command in hand is done

        // Wait for bytes, an event (when subscribed) or shutdown. Two spellings because a
        // select's branches are all built even when disabled, and there is no receiver to build
        // the event branch from before SUBSCRIBE.
        wake w = wake::stop;
        corio::io::io_result n = std::size_t{0};
        corio::result<event, corio::broadcast::recv_error> ev = corio::unexpected(corio::broadcast::recv_error::closed());
        if (s.events) {
            auto r = co_await corio::select(stream.read(lines.read_buffer()), s.events->recv(), stop.cancelled());
            if (r.index() == 0) {
                w = wake::read;
                n = std::get<0>(std::move(r));
            } else if (r.index() == 1) {
                w = wake::event;
                ev = std::get<1>(std::move(r));
            }
        } else {
            auto r = co_await corio::select(stream.read(lines.read_buffer()), stop.cancelled());
            if (r.index() == 0) {
                w = wake::read;
                n = std::get<0>(std::move(r));
            }
        }

        if (w == wake::stop) co_return;
        if (w == wake::read) {
            if (!n || *n == 0) co_return;  // reset, or the peer closed (possibly mid-line: dropped)
            lines.commit(*n);
            continue;
        }
        // An event (or the broadcast's end).
        std::string out;
        if (ev) {
            const std::size_t behind = s.events->len();
            if (auto l = event_line(*ev, s.prefix)) out = std::move(*l);
            const std::size_t limit = s.limits_rx.borrow()->subscriber_buffer;  // copied out at once
            if (behind > limit) {
                // Too far behind (a slow reader): skip the backlog and say how much was lost,
                // instead of making every later event late too. try_recv, not resubscribe(): it
                // skips exactly the `behind` events counted, so EVENT lines + LAGGED counts add up
                // to every change even while the actor keeps sending.
                std::uint64_t skipped = 0;
                while (skipped < behind) {
                    auto r = s.events->try_recv();
                    if (r) ++skipped;
                    else if (r.error().is_lagged()) skipped += r.error().skipped();
                    else break;  // empty or closed: nothing more to skip
                }
                out += "LAGGED " + std::to_string(skipped) + "\n";
            }
        } else if (ev.error().is_lagged()) {
            out = "LAGGED " + std::to_string(ev.error().skipped()) + "\n";  // the ring itself lapped us
        } else {
            s.events.reset();  // closed: the actor is gone (shutdown); keep serving commands
            continue;
        }
        if (out.empty()) continue;
        auto wr = co_await stream.write_all(out);
        if (!wr) co_return;
    }
}

corio::task<void> handle_connection(corio::net::tcp_stream stream, corio::sync::cancellation_token stop) {
    server_state* st = g_state.load(std::memory_order_acquire);
    if (!st) co_return;  // the server is already past serve(): nothing to talk to
    connection_count counted(st->counters.connections);
    co_await serve_session(stream, stop, st);
    co_await corio_samples::close_after_stop(stream);  // no read left in the kernel (see its header)
}

// Pattern 4: re-reads the config file on every SIGHUP and publishes the new limits. A file that
// does not parse is logged and ignored (the old limits stay).
corio::task<void> reload_on_sighup(std::string path, corio::watch::sender<limits> tx, corio::signal::listener hup,
                                   corio::sync::cancellation_token stop, corio_samples::kv::server_counters* counters) {
    for (;;) {
        auto r = co_await corio::select(hup.recv(), stop.cancelled());
        if (r.index() == 1) co_return;
        if (path.empty()) {
            corio_samples::log::warn("kv: SIGHUP: no --config file, nothing to reload");
            counters->reload_errors.fetch_add(1, std::memory_order_relaxed);
            continue;
        }
        auto loaded = corio_samples::kv::load_limits(path);
        if (!loaded) {
            corio_samples::log::warn("kv: SIGHUP: {}: {}; keeping the current limits", path, loaded.error());
            counters->reload_errors.fetch_add(1, std::memory_order_relaxed);
            continue;
        }
        limits l = *loaded;
        if (l.subscriber_buffer > event_capacity) l.subscriber_buffer = event_capacity;
        corio_samples::log::info("kv: SIGHUP: reloaded {}: max_value_size={} max_keys={} subscriber_buffer={}", path,
                                 l.max_value_size, l.max_keys, l.subscriber_buffer);
        tx.send_replace(std::move(l));  // stores even if nobody watches right now
        counters->reloads.fetch_add(1, std::memory_order_relaxed);
    }
}

corio::task<int> run(corio_samples::server_args args) {
    limits initial;
    if (!args.config_path.empty()) {
        auto loaded = corio_samples::kv::load_limits(args.config_path);
        if (!loaded) {
            corio_samples::log::error("kv: {}: {}", args.config_path, loaded.error());
            co_return 2;
        }
        initial = *loaded;
    }
    if (initial.subscriber_buffer > event_capacity) initial.subscriber_buffer = event_capacity;

    auto [limits_tx, limits_rx] = corio::watch::channel<limits>(initial, corio::with_metrics);
    auto [requests_tx, requests_rx] = corio::mpsc::channel<corio_samples::kv::command>(request_capacity, corio::with_metrics);
    auto [events_tx, events_rx] = corio::broadcast::channel<event>(event_capacity, corio::with_metrics);
    { auto unused = std::move(events_rx); }  // subscribers come from the actor (SUBSCRIBE)

    // Signals before the port is announced: a SIGHUP or SIGTERM sent right after it is seen.
    corio::sync::cancellation_token stop = corio_samples::shutdown_on_signals();
    auto hup = corio::signal::signal(SIGHUP);
    if (!hup) {
        corio_samples::log::error("kv: cannot listen for SIGHUP: {}", hup.error().message());
        co_return 1;
    }

    server_state state;
    state.requests = requests_tx;
    state.limits_rx = limits_rx;
    state.max_line = args.max_line;

    corio::join_handle<std::size_t> actor =
        corio::spawn(corio_samples::kv::store_actor(std::move(requests_rx), std::move(events_tx), limits_rx, &state.counters));
    corio::join_handle<void> reloader =
        corio::spawn(reload_on_sighup(args.config_path, std::move(limits_tx), std::move(*hup), stop, &state.counters));

    auto listener = corio_samples::bind_and_announce(args, "kv");
    int code = 0;
    if (listener) {
        g_state.store(&state, std::memory_order_release);
        (void)co_await corio_samples::serve(*listener, &handle_connection, args, stop);  // logs its own summary
        g_state.store(nullptr, std::memory_order_release);
    } else {
        code = 1;
        stop.cancel();
    }

    // Every connection is done: drop the last command senders, and the actor's recv() ends.
    { auto last = std::move(state.requests); }
    { auto last = std::move(requests_tx); }
    auto actor_result = co_await actor;
    if (actor_result) corio_samples::log::info("kv: store actor served {} commands and stopped", *actor_result);
    auto reloader_result = co_await reloader;
    (void)reloader_result;
    co_return code;
}

}  // namespace

int main(int argc, char** argv) {
    corio_samples::server_args args = corio_samples::parse_args(argc, argv, "kv");
    try {
        const corio::runtime_options opts = corio_samples::sample_runtime_options();
        corio_samples::log::debug("kv: runtime {}", opts);
        corio::runtime rt(opts);
        return rt.block_on(run(std::move(args)));
    } catch (const std::exception& e) {
        corio_samples::log::error("kv: {}", e.what());
        return 1;
    }
}
