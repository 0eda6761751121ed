// ping_pong, mpsc_uncontended, mpsc_contended, mpsc_unbounded, oneshot_rpc
// (docs/workloads.md; same counts, values and checks as the Tokio peer).
#include "workload.hpp"

#include <corio/channels/mpsc.hpp>
#include <corio/channels/oneshot.hpp>
#include <corio/runtime/runtime.hpp>

#include <fmt/format.h>

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

namespace {

using bench::clock;

// ---- ping_pong ------------------------------------------------------------------------------

// B: answers every request with request + 1 until A hangs up.
corio::task<void> ponger(corio::mpsc::receiver<std::uint64_t> req_rx, corio::mpsc::sender<std::uint64_t> rep_tx) {
    while (auto v = co_await req_rx.recv()) {
        const std::uint64_t reply = *v + 1;
        auto r = co_await rep_tx.send(reply);
        if (!r) break;
    }
}

// A: sends, waits for the answer, checks it.
corio::task<bool> pinger(corio::mpsc::sender<std::uint64_t> req_tx, corio::mpsc::receiver<std::uint64_t> rep_rx,
                         std::uint64_t p, std::uint64_t rounds) {
    for (std::uint64_t r = 0; r < rounds; ++r) {
        const std::uint64_t v = (p << 32) | r;
        auto s = co_await req_tx.send(v);
        if (!s) co_return false;
        auto x = co_await rep_rx.recv();
        if (!x || *x != v + 1) co_return false;
    }
    co_return true;
}

corio::task<bench::sample> ping_pong(double scale) {
    const std::uint64_t pairs = 1'000;
    const std::uint64_t rounds = bench::scaled(100, scale);
    auto t0 = clock::now();
    std::vector<corio::join_handle<bool>> pingers;
    std::vector<corio::join_handle<void>> pongers;
    pingers.reserve(pairs);
    pongers.reserve(pairs);
    for (std::uint64_t p = 0; p < pairs; ++p) {
        auto [req_tx, req_rx] = corio::mpsc::channel<std::uint64_t>(1);
        auto [rep_tx, rep_rx] = corio::mpsc::channel<std::uint64_t>(1);
        pongers.push_back(corio::spawn(ponger(std::move(req_rx), std::move(rep_tx))));
        pingers.push_back(corio::spawn(pinger(std::move(req_tx), std::move(rep_rx), p, rounds)));
    }
    std::uint64_t bad = 0;
    for (auto& h : pingers) {
        auto r = co_await h;
        if (!r) co_return bench::failed("pinger task failed");
        if (!*r) ++bad;
    }
    for (auto& h : pongers) {
        auto r = co_await h;
        if (!r) co_return bench::failed("ponger task failed");
    }
    bench::sample s = bench::make_sample(pairs * rounds, t0);
    if (bad != 0) co_return bench::failed(fmt::format("{} pairs saw a wrong reply", bad));
    co_return s;
}

// ---- mpsc_uncontended -----------------------------------------------------------------------

corio::task<bool> produce_seq(corio::mpsc::sender<std::uint64_t> tx, std::uint64_t n) {
    for (std::uint64_t i = 0; i < n; ++i) {
        auto r = co_await tx.send(i);
        if (!r) co_return false;
    }
    co_return true;
}

// Returns the count received in order, or ~0 on an out-of-order value.
corio::task<std::uint64_t> consume_seq(corio::mpsc::receiver<std::uint64_t> rx) {
    std::uint64_t expect = 0;
    while (auto v = co_await rx.recv()) {
        if (*v != expect) co_return ~std::uint64_t{0};
        ++expect;
    }
    co_return expect;
}

corio::task<bench::sample> mpsc_uncontended(double scale) {
    const std::uint64_t n = bench::scaled(1'000'000, scale);
    auto t0 = clock::now();
    auto [tx, rx] = corio::mpsc::channel<std::uint64_t>(1024);
    auto producer = corio::spawn(produce_seq(std::move(tx), n));
    auto consumer = corio::spawn(consume_seq(std::move(rx)));
    auto sent_ok = co_await producer;
    auto got = co_await consumer;
    bench::sample s = bench::make_sample(n, t0);
    if (!sent_ok || !got) co_return bench::failed("task failed");
    if (*got == ~std::uint64_t{0}) co_return bench::failed("out of order value");
    if (!*sent_ok || *got != n) co_return bench::failed(fmt::format("received {} of {}", *got, n));
    co_return s;
}

// ---- mpsc_contended / mpsc_unbounded --------------------------------------------------------

constexpr std::uint64_t producers = 8;
constexpr unsigned seq_bits = 40;
constexpr std::uint64_t seq_mask = (std::uint64_t{1} << seq_bits) - 1;

struct fan_in_result {
    std::uint64_t count = 0;
    std::vector<std::uint64_t> next;
    std::string error;
};

corio::task<void> fan_in_producer(corio::mpsc::sender<std::uint64_t> tx, std::uint64_t p, std::uint64_t per) {
    for (std::uint64_t i = 0; i < per; ++i) {
        const std::uint64_t v = (p << seq_bits) | i;
        auto r = co_await tx.send(v);
        if (!r) co_return;
    }
}

corio::task<void> fan_in_unbounded_producer(corio::mpsc::unbounded_sender<std::uint64_t> tx, std::uint64_t p,
                                            std::uint64_t per) {
    for (std::uint64_t i = 0; i < per; ++i) {
        if (!tx.send((p << seq_bits) | i)) co_return;
    }
    co_return;
}

// Consumer side shared by the contended workloads: count, and per-producer order.
corio::task<fan_in_result> fan_in_consumer(corio::mpsc::receiver<std::uint64_t> rx) {
    fan_in_result out;
    out.next.assign(producers, 0);
    while (auto v = co_await rx.recv()) {
        const std::uint64_t p = *v >> seq_bits, seq = *v & seq_mask;
        if (p >= producers || out.next[p] != seq) {
            out.error = fmt::format("producer {}: got seq {}, expected {}", p, seq, p < producers ? out.next[p] : 0);
            co_return out;
        }
        ++out.next[p];
        ++out.count;
    }
    co_return out;
}

bench::sample check_fan_in(const fan_in_result& r, std::uint64_t per, clock::time_point t0) {
    bench::sample s = bench::make_sample(producers * per, t0);
    if (!r.error.empty()) return bench::failed(r.error);
    bool all = r.count == producers * per;
    for (auto x : r.next) all = all && x == per;
    if (!all) return bench::failed(fmt::format("count {}, want {} each of {}", r.count, per, producers));
    return s;
}

corio::task<bench::sample> mpsc_contended(double scale) {
    const std::uint64_t per = bench::scaled(125'000, scale);
    auto t0 = clock::now();
    auto [tx, rx] = corio::mpsc::channel<std::uint64_t>(1024);
    for (std::uint64_t p = 0; p < producers; ++p) corio::spawn(fan_in_producer(tx, p, per)).detach();
    { auto gone = std::move(tx); }
    auto consumer = corio::spawn(fan_in_consumer(std::move(rx)));
    auto r = co_await consumer;
    if (!r) co_return bench::failed("consumer failed");
    co_return check_fan_in(*r, per, t0);
}

corio::task<bench::sample> mpsc_unbounded(double scale) {
    const std::uint64_t per = bench::scaled(125'000, scale);
    auto t0 = clock::now();
    auto [tx, rx] = corio::mpsc::unbounded_channel<std::uint64_t>();
    for (std::uint64_t p = 0; p < producers; ++p) corio::spawn(fan_in_unbounded_producer(tx, p, per)).detach();
    { auto gone = std::move(tx); }
    auto consumer = corio::spawn(fan_in_consumer(std::move(rx)));
    auto r = co_await consumer;
    if (!r) co_return bench::failed("consumer failed");
    co_return check_fan_in(*r, per, t0);
}

// ---- oneshot_rpc (the Tokio tutorial's "Pattern 2": a task owning a map) ---------------------

struct get_cmd {
    std::uint64_t key;
    corio::oneshot::sender<std::optional<std::uint64_t>> resp;
};
struct set_cmd {
    std::uint64_t key;
    std::uint64_t val;
    corio::oneshot::sender<bool> resp;
};
using command = std::variant<get_cmd, set_cmd>;

corio::task<void> rpc_server(corio::mpsc::receiver<command> rx) {
    std::unordered_map<std::uint64_t, std::uint64_t> map;
    while (auto cmd = co_await rx.recv()) {
        if (auto* g = std::get_if<get_cmd>(&*cmd)) {
            auto it = map.find(g->key);
            std::optional<std::uint64_t> v;
            if (it != map.end()) v = it->second;
            (void)g->resp.send(v);
        } else {
            auto& s = std::get<set_cmd>(*cmd);
            map[s.key] = s.val;
            (void)s.resp.send(true);
        }
    }
}

corio::task<bool> rpc_client(corio::mpsc::sender<command> tx, std::uint64_t c, std::uint64_t pairs) {
    for (std::uint64_t i = 0; i < pairs; ++i) {
        const std::uint64_t key = (c << 32) | i;
        const std::uint64_t val = key * 0x9E3779B97F4A7C15ull;
        auto [resp, ack] = corio::oneshot::channel<bool>();
        command set(std::in_place_type<set_cmd>, set_cmd{key, val, std::move(resp)});
        auto sent = co_await tx.send(std::move(set));
        if (!sent) co_return false;
        auto a = co_await ack;
        if (!a) co_return false;
        auto [gresp, got] = corio::oneshot::channel<std::optional<std::uint64_t>>();
        command get(std::in_place_type<get_cmd>, get_cmd{key, std::move(gresp)});
        auto sent2 = co_await tx.send(std::move(get));
        if (!sent2) co_return false;
        auto g = co_await got;
        if (!g || !*g || **g != val) co_return false;
    }
    co_return true;
}

corio::task<bench::sample> oneshot_rpc(double scale) {
    const std::uint64_t clients = 4;
    const std::uint64_t pairs = bench::scaled(25'000, scale);  // each pair = Set + Get = 2 requests
    auto t0 = clock::now();
    auto [tx, rx] = corio::mpsc::channel<command>(32);
    auto server = corio::spawn(rpc_server(std::move(rx)));
    std::vector<corio::join_handle<bool>> handles;
    for (std::uint64_t c = 0; c < clients; ++c) handles.push_back(corio::spawn(rpc_client(tx, c, pairs)));
    { auto gone = std::move(tx); }
    std::uint64_t bad = 0;
    for (auto& h : handles) {
        auto r = co_await h;
        if (!r) co_return bench::failed("client failed");
        if (!*r) ++bad;
    }
    auto sr = co_await server;
    if (!sr) co_return bench::failed("server failed");
    bench::sample s = bench::make_sample(clients * pairs * 2, t0);
    if (bad != 0) co_return bench::failed(fmt::format("{} clients saw a wrong Get", bad));
    co_return s;
}

bench::registrar m0("ping_pong", ping_pong);
bench::registrar m1("mpsc_uncontended", mpsc_uncontended);
bench::registrar m2("mpsc_contended", mpsc_contended);
bench::registrar m3("mpsc_unbounded", mpsc_unbounded);
bench::registrar m4("oneshot_rpc", oneshot_rpc);

}  // namespace
