// chat — a multi-room chat / pub-sub server on corio: one broadcast channel per room.
//
//     ./build/release/samples/servers/chat/chat 7001 [--max-line N] [--max-connections N] ...
//     nc 127.0.0.1 7001          (then type: NICK ada / JOIN general / MSG hello / ROOMS / LEAVE)
//
// Protocol (one command per line, "\n" or "\r\n"):
//     NICK name     OK nick name (1-32 of [A-Za-z0-9_-]; not required to be unique)
//     JOIN room     OK joined room; the room sees `* nick joined room`. Leaves the current room
//                   first. Rooms are created on first join and removed when the last member leaves.
//     MSG text      everyone in the room, the sender included, gets `[room] nick: text`
//     LEAVE         OK left room; the room sees `* nick left room`
//     ROOMS         ROOMS room(members) ...  or  ROOMS (none)
//     anything else ERR <reason>, and the connection carries on
//     a line longer than --max-line: `ERR line too long`, then the server closes the connection
// A client that falls more than room_capacity messages behind (it does not read its socket)
// is told `* missed n messages` and continues with the oldest message still held.
//
// Design: the rooms are a map from name to {broadcast sender, member count} behind a
// corio::sync::mutex (held only for map lookups, never across another co_await). Joining
// copies the room's sender and subscribes a receiver, both under the lock. Each connection is
// one task that selects over its socket read, its room's receiver and the shutdown token
// (corio::select), so a message is written to a client as soon as it is sent, even while
// the client is typing a line. The line reader is the kv server's (../kv/line_reader.hpp).
// SIGINT/SIGTERM: stop accepting, tell each client `* server shutting down`, exit 0.
#include "../common/server.hpp"
#include "common/log.hpp"
#include "../kv/close_after_stop.hpp"
#include "../kv/line_reader.hpp"

#include <corio/channels/broadcast.hpp>
#include <corio/channels/sync/cancellation_token.hpp>
#include <corio/channels/sync/mutex.hpp>
#include <corio/net/tcp_stream.hpp>
#include <corio/runtime/runtime.hpp>
#include <corio/runtime/select.hpp>
#include <corio/runtime/task.hpp>

#include <fmt/core.h>

#include <atomic>
#include <cstddef>
#include <exception>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace {

using corio_samples::line_reader;

constexpr std::size_t room_capacity = 64;  // messages a member may fall behind before it misses some
constexpr std::size_t max_nick = 32;

struct room {
    corio::broadcast::sender<std::string> tx;
    std::size_t members = 0;
};
using room_map = std::map<std::string, room, std::less<>>;  // ordered: ROOMS lists them sorted

// Shared by every connection. Connection handlers are plain functions (no captures: g++ 12,
// docs/design/compilers.md), so main publishes the room store and the settings through file-scope
// pointers before serve() starts accepting. A sample's shortcut: a library would pass a context.
corio::sync::mutex<room_map>* g_rooms = nullptr;
std::size_t g_max_line = 8192;
std::atomic<std::size_t> g_next_guest{1};

// A connection's place in a room: its own copy of the room's sender and its receiver.
struct membership {
    std::string room_name;
    corio::broadcast::sender<std::string> tx;
    corio::broadcast::receiver<std::string> rx;
};

corio::task<membership> join_room(std::string name) {
    auto rooms = co_await g_rooms->lock();
    auto it = rooms->find(name);
    if (it == rooms->end()) {
        auto [tx, rx] = corio::broadcast::channel<std::string>(room_capacity);
        room r;
        r.tx = std::move(tx);
        it = rooms->emplace(name, std::move(r)).first;
        // rx is dropped: every member subscribes below.
    }
    ++it->second.members;
    membership m;
    m.room_name = std::move(name);
    m.tx = it->second.tx;               // copied and subscribed under the lock: the map's handle
    m.rx = it->second.tx.subscribe();   // is used by one task at a time
    co_return m;
}

corio::task<void> leave_room(membership m) {
    auto rooms = co_await g_rooms->lock();
    auto it = rooms->find(m.room_name);
    if (it != rooms->end() && --it->second.members == 0) rooms->erase(it);  // the channel goes with its last handle
}

corio::task<std::string> list_rooms() {
    std::string out = "ROOMS";
    auto rooms = co_await g_rooms->lock();
    for (const auto& [name, r] : *rooms) out += fmt::format(" {}({})", name, r.members);
    if (rooms->empty()) out += " (none)";
    co_return out;
}

bool valid_name(std::string_view s) {
    if (s.empty() || s.size() > max_nick) return false;
    for (char c : s) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
        if (!ok) return false;
    }
    return true;
}

std::pair<std::string_view, std::string_view> split_word(std::string_view s) {
    const auto sp = s.find(' ');
    if (sp == std::string_view::npos) return {s, {}};
    return {s.substr(0, sp), s.substr(sp + 1)};
}

// One connection's state besides the socket.
struct session {
    std::string nick;
    std::optional<membership> in;  // the room this connection is in
};

// Announces to the room the session is in (a broadcast send never waits).
void announce(session& s, std::string line) {
    if (s.in) (void)s.in->tx.send(std::move(line));
}

corio::task<void> leave_current(session& s) {
    if (!s.in) co_return;
    announce(s, fmt::format("* {} left {}", s.nick, s.in->room_name));
    membership m = std::move(*s.in);
    s.in.reset();
    co_await leave_room(std::move(m));
}

// Runs one command line; returns the reply line, or "" for none (MSG: the room echoes it).
corio::task<std::string> execute(std::string line, session& s) {
    const auto [verb, rest] = split_word(line);
    if (verb == "MSG") {
        if (!s.in) co_return "ERR join a room first";
        if (rest.empty()) co_return "ERR usage: MSG text";
        announce(s, fmt::format("[{}] {}: {}", s.in->room_name, s.nick, rest));
        co_return "";
    }
    if (verb == "JOIN") {
        if (!valid_name(rest)) co_return "ERR usage: JOIN room (1-32 of A-Z a-z 0-9 _ -)";
        std::string name(rest);
        if (s.in && s.in->room_name == name) co_return "ERR already in " + name;
        co_await leave_current(s);
        membership m = co_await join_room(name);
        s.in.emplace(std::move(m));
        announce(s, fmt::format("* {} joined {}", s.nick, name));
        co_return "OK joined " + name;
    }
    if (verb == "LEAVE") {
        if (!rest.empty()) co_return "ERR usage: LEAVE";
        if (!s.in) co_return "ERR not in a room";
        std::string name = s.in->room_name;
        co_await leave_current(s);
        co_return "OK left " + name;
    }
    if (verb == "NICK") {
        if (!valid_name(rest)) co_return "ERR usage: NICK name (1-32 of A-Z a-z 0-9 _ -)";
        std::string old = std::move(s.nick);
        s.nick = std::string(rest);
        announce(s, fmt::format("* {} is now {}", old, s.nick));
        co_return "OK nick " + s.nick;
    }
    if (verb == "ROOMS") {
        if (!rest.empty()) co_return "ERR usage: ROOMS";
        co_return co_await list_rooms();
    }
    if (verb.empty()) co_return "ERR empty command";
    co_return "ERR unknown command";
}

enum class wake { read, message, stop };

corio::task<void> serve_client(corio::net::tcp_stream& stream, corio::sync::cancellation_token& stop, session& s) {
    line_reader lines(g_max_line);
    {
        std::string hello = fmt::format("* welcome {}: NICK name, JOIN room, MSG text, LEAVE, ROOMS\n", s.nick);
        auto w = co_await stream.write_all(hello);
        if (!w) co_return;
    }
    for (;;) {
        std::string line;
        const line_reader::status ls = lines.next(line);
        if (ls == line_reader::status::line) {
            std::string reply = co_await execute(std::move(line), s);
            if (reply.empty()) continue;
            reply += '\n';
            auto w = co_await stream.write_all(reply);
            if (!w) co_return;
            continue;
        }
        if (ls == line_reader::status::too_long) {
            auto w = co_await stream.write_all(std::string_view("ERR line too long\n"));
            (void)w;
            co_return;
        }
        if (stop.is_cancelled()) break;

        // Socket, room (when in one) and shutdown. Two spellings: a select builds every branch,
        // and there is no receiver to build the room branch from outside a room.
        wake w = wake::stop;
        corio::io::io_result n = std::size_t{0};
        corio::result<std::string, corio::broadcast::recv_error> msg =
            corio::unexpected(corio::broadcast::recv_error::closed());
        if (s.in) {
            auto r = co_await corio::select(stream.read(lines.read_buffer()), s.in->rx.recv(), stop.cancelled());
            if (r.index() == 0) {
                w = wake::read;
                n = std::get<0>(std::move(r));
            } else if (r.index() == 1) {
                w = wake::message;
                msg = std::get<1>(std::move(r));
            }
        } else {
            auto r = co_await corio::select(stream.read(lines.read_buffer()), stop.cancelled());
            if (r.index() == 0) {
                w = wake::read;
                n = std::get<0>(std::move(r));
            }
        }

        if (w == wake::stop) break;
        if (w == wake::read) {
            if (!n || *n == 0) co_return;  // reset, or the peer closed (possibly mid-line: dropped)
            lines.commit(*n);
            continue;
        }
        std::string out;
        if (msg) out = std::move(*msg) + "\n";
        else if (msg.error().is_lagged()) out = fmt::format("* missed {} messages\n", msg.error().skipped());
        else continue;  // closed: cannot happen while we hold a sender of the room
        auto wr = co_await stream.write_all(out);
        if (!wr) co_return;
    }
    auto bye = co_await stream.write_all(std::string_view("* server shutting down\n"));
    (void)bye;
}

corio::task<void> handle_connection(corio::net::tcp_stream stream, corio::sync::cancellation_token stop) {
    session s;
    s.nick = fmt::format("guest{}", g_next_guest.fetch_add(1, std::memory_order_relaxed));
    co_await serve_client(stream, stop, s);
    co_await leave_current(s);  // however the connection ended, the room hears it
    co_await corio_samples::close_after_stop(stream);  // no read left in the kernel (see its header)
}

corio::task<int> run(corio_samples::server_args args) {
    corio::sync::cancellation_token stop = corio_samples::shutdown_on_signals();  // before the announcement
    auto listener = corio_samples::bind_and_announce(args, "chat");
    if (!listener) co_return 1;
    (void)co_await corio_samples::serve(*listener, &handle_connection, args, stop);  // logs its own summary
    co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
    corio_samples::server_args args = corio_samples::parse_args(argc, argv, "chat");
    g_max_line = args.max_line;
    try {
        corio::sync::mutex<room_map> rooms;  // outlives the runtime's tasks (destroyed after rt)
        g_rooms = &rooms;
        const corio::runtime_options opts = corio_samples::sample_runtime_options();
        corio_samples::log::debug("chat: runtime {}", opts);
        corio::runtime rt(opts);
        return rt.block_on(run(std::move(args)));
    } catch (const std::exception& e) {
        corio_samples::log::error("chat: {}", e.what());
        return 1;
    }
}
