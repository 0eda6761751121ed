// Pattern 2 — oneshot request-response: a key-value actor.
//
// One task, the actor, owns a std::unordered_map and is the only code that ever touches it: no
// lock. Clients talk to it through a kv_handle, which wraps an mpsc::sender<command>. Each
// command carries a oneshot::sender for its reply; the client awaits the matching
// oneshot::receiver. The actor ends when every handle is gone (recv() yields nullopt).
//
//     ./build/release/samples/patterns/request_response/request_response
#include <corio/channels/mpsc.hpp>
#include <corio/channels/oneshot.hpp>
#include <corio/runtime/join_handle.hpp>
#include <corio/runtime/runtime.hpp>
#include <corio/runtime/task.hpp>

#include "common/log.hpp"

#include <fmt/core.h>

#include <exception>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

namespace {

using reply = std::optional<std::string>;  // Get: the value; Set: the previous value

struct get_cmd {
    std::string key;
    corio::oneshot::sender<reply> respond_to;
};
struct set_cmd {
    std::string key;
    std::string value;
    corio::oneshot::sender<reply> respond_to;
};
using command = std::variant<get_cmd, set_cmd>;

// The actor: owns the map, serves one command at a time, answers through each oneshot.
corio::task<int> kv_actor(corio::mpsc::receiver<command> rx) {
    std::unordered_map<std::string, std::string> store;
    int served = 0;
    while (std::optional<command> cmd = co_await rx.recv()) {
        ++served;
        if (auto* get = std::get_if<get_cmd>(&*cmd)) {
            auto it = store.find(get->key);
            reply r = it == store.end() ? reply() : reply(it->second);
            (void)get->respond_to.send(std::move(r));  // fails only if the client gave up: fine
        } else {
            auto& set = std::get<set_cmd>(*cmd);
            reply previous;
            auto [it, inserted] = store.try_emplace(set.key);
            if (!inserted) previous = std::move(it->second);
            it->second = std::move(set.value);
            (void)set.respond_to.send(std::move(previous));
        }
    }
    co_return served;  // every kv_handle is gone
}

// What clients hold: cheap to copy (one sender each). Each request makes a fresh oneshot.
struct kv_handle {
    corio::mpsc::sender<command> tx;

    corio::task<reply> get(std::string key) {
        auto [reply_tx, reply_rx] = corio::oneshot::channel<reply>();
        command cmd{get_cmd{std::move(key), std::move(reply_tx)}};  // named local, then co_await
        co_return co_await request(std::move(cmd), std::move(reply_rx));
    }

    corio::task<reply> set(std::string key, std::string value) {
        auto [reply_tx, reply_rx] = corio::oneshot::channel<reply>();
        command cmd{set_cmd{std::move(key), std::move(value), std::move(reply_tx)}};
        co_return co_await request(std::move(cmd), std::move(reply_rx));
    }

private:
    corio::task<reply> request(command cmd, corio::oneshot::receiver<reply> reply_rx) {
        auto sent = co_await tx.send(std::move(cmd));
        if (!sent) co_return std::nullopt;  // the actor is gone
        auto r = co_await reply_rx;          // recv_error::closed if the actor dropped the responder
        if (!r) co_return std::nullopt;
        co_return std::move(*r);
    }
};

std::string show(const reply& r) { return r ? fmt::format("\"{}\"", *r) : std::string("(none)"); }

// A client: its own key, then the shared one. Returns its transcript so main prints in order.
corio::task<std::vector<std::string>> client(kv_handle kv, int id) {
    std::vector<std::string> log;
    std::string key = fmt::format("client:{}", id);
    std::string value = fmt::format("hello from {}", id);
    reply before = co_await kv.get(key);
    log.push_back(fmt::format("client {}: Get {} -> {}", id, key, show(before)));
    reply previous = co_await kv.set(key, value);
    log.push_back(fmt::format("client {}: Set {} = \"{}\" -> previous {}", id, key, value, show(previous)));
    reply after = co_await kv.get(key);
    log.push_back(fmt::format("client {}: Get {} -> {}", id, key, show(after)));
    reply lang = co_await kv.get("lang");
    log.push_back(fmt::format("client {}: Get lang -> {}", id, show(lang)));
    co_return log;
}

corio::task<void> run() {
    fmt::print("request_response: a key-value actor owns a hash map; clients send Get/Set over mpsc,\n"
               "each with a oneshot responder, and await the reply\n");
    auto [tx, rx] = corio::mpsc::channel<command>(16);
    corio::join_handle<int> actor = corio::spawn(kv_actor(std::move(rx)));

    kv_handle kv{std::move(tx)};
    reply old = co_await kv.set("lang", "C++20");
    fmt::print("main: Set lang = \"C++20\" -> previous {}\n", show(old));

    constexpr int clients = 3;
    std::vector<corio::join_handle<std::vector<std::string>>> running;
    for (int id = 0; id < clients; ++id) running.push_back(corio::spawn(client(kv, id)));  // a handle copy each
    for (auto& h : running) {
        std::vector<std::string> log = (co_await h).value();
        for (const std::string& line : log) fmt::print("{}\n", line);
    }

    { kv_handle last = std::move(kv); }  // the last handle: the actor's recv() now ends
    int served = (co_await actor).value();
    fmt::print("actor: every handle is gone; served {} commands and stopped\n", served);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc > 1) {
        fmt::print(stderr, "usage: {}\n", argv[0]);
        return 2;
    }
    try {
        corio::runtime rt({.worker_threads = 2});
        rt.block_on(run());
        return 0;
    } catch (const std::exception& e) {
        corio_samples::log::error("request_response: {}", e.what());
        return 1;
    }
}
