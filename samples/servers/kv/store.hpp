// samples/servers/kv/store.hpp — the kv server's store: one actor task that owns the map
// (Pattern 2, docs/patterns.md), the commands connections send it, and the change events it
// fans out to subscribers (Pattern 3).
//
// Connections never touch the map. Each command travels over one bounded mpsc channel with a
// oneshot responder; the actor serves them one at a time, so the map needs no lock, and a burst
// of clients waits in `send` (backpressure) instead of growing a queue. Every change is sent
// on a broadcast channel; the actor holds its only sender, so subscribing goes through the
// actor too (a `subscribe_cmd` answered with a fresh receiver).
//
// The actor reads the current limits (Pattern 4: a watch channel that SIGHUP refreshes) with
// borrow() for every SET, copying them out before it does anything else: a borrow guard is a
// read lock that must never be held across a co_await.
#pragma once

#include "limits.hpp"

#include <corio/channels/broadcast.hpp>
#include <corio/channels/metrics.hpp>
#include <corio/channels/mpsc.hpp>
#include <corio/channels/oneshot.hpp>
#include <corio/channels/watch.hpp>
#include <corio/runtime/task.hpp>

#include <fmt/format.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <variant>

namespace corio_samples::kv {

/// A change, as subscribers see it. Copyable: broadcast copies it to each receiver.
struct event {
    bool is_set = false;  // SET (with value) or DEL
    std::string key;
    std::string value;
};

/// Counters outside the channels that STATS reports. Relaxed: each is a statistic on its own,
/// ordering nothing.
struct server_counters {
    std::atomic<std::size_t> connections{0};     // live connections
    std::atomic<std::uint64_t> reloads{0};       // SIGHUP reloads that published new limits
    std::atomic<std::uint64_t> reload_errors{0}; // SIGHUP reloads refused (file missing or invalid)
};

enum class set_status { ok, value_too_large, too_many_keys };

struct get_cmd {
    std::string key;
    corio::oneshot::sender<std::optional<std::string>> reply;
};
struct set_cmd {
    std::string key;
    std::string value;
    corio::oneshot::sender<set_status> reply;
};
struct del_cmd {
    std::string key;
    corio::oneshot::sender<bool> reply;  // whether the key existed
};
struct subscribe_cmd {
    corio::oneshot::sender<corio::broadcast::receiver<event>> reply;
};
struct stats_cmd {
    corio::oneshot::sender<std::string> reply;  // the STATS line
};
using command = std::variant<get_cmd, set_cmd, del_cmd, subscribe_cmd, stats_cmd>;

namespace detail {

inline std::string format_metrics(const char* name, const std::optional<corio::channel_metrics>& m) {
    if (!m) return fmt::format("{}=off", name);
    return fmt::format("{0}.sent={1} {0}.received={2} {0}.dropped={3} {0}.lagged={4} {0}.high_water={5}", name,
                       m->sent, m->received, m->dropped, m->lagged, m->high_water);
}

}  // namespace detail

/// The actor. Ends when every command sender is gone (the server has shut down); returns the
/// number of commands it served. `counters` are the server's own numbers STATS reports.
/// A failed oneshot send means the connection gave up waiting (it closed): nothing to do.
inline corio::task<std::size_t> store_actor(corio::mpsc::receiver<command> rx, corio::broadcast::sender<event> events,
                                            corio::watch::receiver<limits> limits_rx,
                                            const server_counters* counters) {
    std::unordered_map<std::string, std::string> map;
    std::size_t served = 0;
    while (std::optional<command> cmd = co_await rx.recv()) {
        ++served;
        if (auto* get = std::get_if<get_cmd>(&*cmd)) {
            std::optional<std::string> value;
            if (auto it = map.find(get->key); it != map.end()) value = it->second;
            (void)get->reply.send(std::move(value));
        } else if (auto* set = std::get_if<set_cmd>(&*cmd)) {
            const limits lim = *limits_rx.borrow();  // copied out: the guard dies here
            set_status st = set_status::ok;
            auto it = map.find(set->key);
            if (set->value.size() > lim.max_value_size) st = set_status::value_too_large;
            else if (it == map.end() && map.size() >= lim.max_keys) st = set_status::too_many_keys;
            if (st == set_status::ok) {
                if (it == map.end()) it = map.emplace(set->key, set->value).first;
                else it->second = set->value;
                event ev;
                ev.is_set = true;
                ev.key = std::move(set->key);
                ev.value = std::move(set->value);
                // Fails (and counts as dropped in the metrics) when nobody subscribes: fine.
                (void)events.send(std::move(ev));
            }
            (void)set->reply.send(std::move(st));
        } else if (auto* del = std::get_if<del_cmd>(&*cmd)) {
            const bool existed = map.erase(del->key) != 0;
            if (existed) {
                event ev;
                ev.key = std::move(del->key);
                (void)events.send(std::move(ev));
            }
            (void)del->reply.send(std::move(existed));
        } else if (auto* sub = std::get_if<subscribe_cmd>(&*cmd)) {
            (void)sub->reply.send(events.subscribe());
        } else {
            auto& stats = std::get<stats_cmd>(*cmd);
            const limits lim = *limits_rx.borrow();
            std::string line = fmt::format(
                "STATS connections={} keys={} {} {} max_value_size={} max_keys={} subscriber_buffer={} reloads={} "
                "reload_errors={}",
                counters->connections.load(std::memory_order_relaxed), map.size(),
                detail::format_metrics("requests", rx.metrics()), detail::format_metrics("events", events.metrics()),
                lim.max_value_size, lim.max_keys, lim.subscriber_buffer, counters->reloads.load(std::memory_order_relaxed),
                counters->reload_errors.load(std::memory_order_relaxed));
            (void)stats.reply.send(std::move(line));
        }
    }
    co_return served;
}

/// What a connection holds to talk to the actor: a copy of the command sender. Each request
/// makes a fresh oneshot, sends the command and awaits the reply; nullopt means the actor is
/// gone (the server is shutting down).
class store_client {
public:
    explicit store_client(corio::mpsc::sender<command> tx) : tx_(std::move(tx)) {}

    corio::task<std::optional<std::optional<std::string>>> get(std::string key) {
        auto [reply_tx, reply_rx] = corio::oneshot::channel<std::optional<std::string>>();
        get_cmd c{std::move(key), std::move(reply_tx)};
        command cmd(std::move(c));  // a named local, then co_await (g++ 12, docs/design/compilers.md)
        co_return co_await request(std::move(cmd), std::move(reply_rx));
    }
    corio::task<std::optional<set_status>> set(std::string key, std::string value) {
        auto [reply_tx, reply_rx] = corio::oneshot::channel<set_status>();
        set_cmd c{std::move(key), std::move(value), std::move(reply_tx)};
        command cmd(std::move(c));
        co_return co_await request(std::move(cmd), std::move(reply_rx));
    }
    corio::task<std::optional<bool>> del(std::string key) {
        auto [reply_tx, reply_rx] = corio::oneshot::channel<bool>();
        del_cmd c{std::move(key), std::move(reply_tx)};
        command cmd(std::move(c));
        co_return co_await request(std::move(cmd), std::move(reply_rx));
    }
    corio::task<std::optional<corio::broadcast::receiver<event>>> subscribe() {
        auto [reply_tx, reply_rx] = corio::oneshot::channel<corio::broadcast::receiver<event>>();
        subscribe_cmd c{std::move(reply_tx)};
        command cmd(std::move(c));
        co_return co_await request(std::move(cmd), std::move(reply_rx));
    }
    corio::task<std::optional<std::string>> stats() {
        auto [reply_tx, reply_rx] = corio::oneshot::channel<std::string>();
        stats_cmd c{std::move(reply_tx)};
        command cmd(std::move(c));
        co_return co_await request(std::move(cmd), std::move(reply_rx));
    }

private:
    template <class R>
    corio::task<std::optional<R>> request(command cmd, corio::oneshot::receiver<R> reply_rx) {
        auto sent = co_await tx_.send(std::move(cmd));
        if (!sent) co_return std::nullopt;
        auto r = co_await reply_rx;
        if (!r) co_return std::nullopt;
        co_return std::optional<R>(std::move(*r));
    }

    corio::mpsc::sender<command> tx_;
};

}  // namespace corio_samples::kv
