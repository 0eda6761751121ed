// samples/servers/common/server.cpp — see server.hpp.
#include "server.hpp"

#include "common/log.hpp"

#include <corio/runtime/join_set.hpp>
#include <corio/runtime/readable_duration.hpp>
#include <corio/runtime/runtime.hpp>
#include <corio/runtime/select.hpp>
#include <corio/runtime/time.hpp>
#include <corio/signal/signal.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <charconv>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <utility>

namespace corio_samples {

namespace {

// The program name for log lines: set by parse_args (serve() has no name parameter).
std::string g_name = "server";

[[noreturn]] void usage(const char* name, bool error) {
    std::FILE* out = error ? stderr : stdout;
    fmt::print(out,
               "usage: {} <port> [--max-connections N] [--max-line N] [--deadline-ms N] [--config PATH]\n"
               "  <port>               TCP port on 127.0.0.1 (0 picks a free one; the line\n"
               "                       `listening on 127.0.0.1:<port>` tells which)\n"
               "  --max-connections N  connections served at once (default 1024; more wait)\n"
               "  --max-line N         longest line / request head in bytes (default 8192)\n"
               "  --deadline-ms N      shutdown deadline for open connections (default 5000)\n"
               "  --config PATH        configuration file (servers that read one)\n",
               name);
    std::fflush(out);
    std::exit(error ? 2 : 0);
}

template <class T>
bool parse_number(std::string_view s, T& out, T min, T max) {
    T v{};
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || p != s.data() + s.size() || v < min || v > max) return false;
    out = v;
    return true;
}

corio::task<void> watch_signals(corio::signal::listener sigint, corio::signal::listener sigterm,
                                corio::sync::cancellation_token token) {
    auto r = co_await corio::select(sigint.recv(), sigterm.recv(), token.cancelled());
    if (r.index() == 2) co_return;  // cancelled by someone else
    const char* which = r.index() == 0 ? "SIGINT" : "SIGTERM";
    log::info("{}: {} received, shutting down", g_name, which);
    token.cancel();
}

// SIGQUIT prints runtime::dump() on stderr and the server goes on (Go's goroutine dump, without
// Go's exit): every task, and with CORIO_TASK_REGISTRY=1 what each waits on. Ends with the token.
corio::task<void> dump_on_sigquit(corio::signal::listener sigquit, corio::sync::cancellation_token token) {
    const corio::runtime_handle rt = corio::runtime_handle::current();
    for (;;) {
        auto r = co_await corio::select(sigquit.recv(), token.cancelled());
        if (r.index() == 1) co_return;
        fmt::print(stderr, "{}: SIGQUIT: runtime dump\n{}", g_name, rt.dump());
        std::fflush(stderr);
    }
}

// A finished connection task: log what a handler threw (handlers report their own io errors).
// The join_error's text names the task and the exception's message.
void reap(const corio::result<void, corio::join_error>& r, std::size_t& panics) {
    if (r || !r.error().is_panic()) return;
    ++panics;
    log::error("{}: connection task failed: {}", g_name, r.error());
}

}  // namespace

server_args parse_args(int argc, char** argv, const char* name) {
    g_name = name;
    server_args a;
    bool have_port = false;
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        if (arg == "-h" || arg == "--help") usage(name, false);
        auto value = [&]() -> std::string_view {
            if (i + 1 >= argc) {
                log::error("{}: {} needs a value", name, arg);
                usage(name, true);
            }
            return argv[++i];
        };
        bool ok = true;
        if (arg == "--max-connections") {
            ok = parse_number<std::size_t>(value(), a.max_connections, 1, 1'000'000);
        } else if (arg == "--max-line") {
            ok = parse_number<std::size_t>(value(), a.max_line, 16, 64u << 20);
        } else if (arg == "--deadline-ms") {
            long ms = 0;
            ok = parse_number<long>(value(), ms, 0, 3'600'000);
            a.shutdown_deadline = std::chrono::milliseconds(ms);
        } else if (arg == "--config") {
            a.config_path = std::string(value());
        } else if (!arg.empty() && arg[0] != '-' && !have_port) {
            ok = parse_number<std::uint16_t>(arg, a.port, 0, 65535);
            have_port = true;
        } else {
            log::error("{}: unexpected argument '{}'", name, arg);
            usage(name, true);
        }
        if (!ok) {
            log::error("{}: bad value for {}: '{}'", name, arg, argv[i]);
            usage(name, true);
        }
    }
    if (!have_port) usage(name, true);
    return a;
}

corio::sync::cancellation_token shutdown_on_signals() {
    corio::sync::cancellation_token token;
    auto sigint = corio::signal::signal(SIGINT);
    auto sigterm = corio::signal::signal(SIGTERM);
    if (!sigint || !sigterm) {
        std::error_code ec = sigint ? sigterm.error() : sigint.error();
        log::error("{}: cannot listen for SIGINT/SIGTERM: {}", g_name, ec.message());
        return token;
    }
    // Detached: the watcher ends on a signal or when the token is cancelled by someone else.
    auto watcher = corio::spawn(watch_signals(std::move(*sigint), std::move(*sigterm), token));
    (void)watcher;  // dropping the handle detaches the task
    if (auto sigquit = corio::signal::signal(SIGQUIT)) {
        auto dumper = corio::task_builder().name("sigquit-dump").spawn(dump_on_sigquit(std::move(*sigquit), token));
        (void)dumper;
    } else {
        log::error("{}: cannot listen for SIGQUIT (no dumps): {}", g_name, sigquit.error().message());
    }
    return token;
}

corio::result<corio::net::tcp_listener, std::error_code> bind_and_announce(const server_args& args, const char* name) {
    auto addr = corio::net::socket_addr::from_ip(args.host, args.port);
    if (!addr) {
        log::error("{}: bad address {}:{}: {}", name, args.host, args.port, addr.error().message());
        return corio::unexpected(addr.error());
    }
    auto l = corio::net::tcp_listener::bind(*addr);
    if (!l) {
        log::error("{}: bind {}: {}", name, *addr, l.error().message());
        return l;
    }
    auto local = l->local_addr();
    if (!local) {
        log::error("{}: getsockname: {}", name, local.error().message());
        return corio::unexpected(local.error());
    }
    fmt::print(stdout, "listening on {}\n", *local);  // the product line the tests parse: stdout
    std::fflush(stdout);
    return l;
}

corio::task<std::size_t> serve(corio::net::tcp_listener& listener, connection_handler handler, const server_args& args,
                               corio::sync::cancellation_token stop) {
    corio::join_set<void> conns;
    const std::size_t limit = std::max<std::size_t>(1, args.max_connections);
    std::size_t served = 0;
    std::size_t panics = 0;
    bool full_reported = false;

    while (!stop.is_cancelled()) {
        // Shutdown first (biased), then reap finished connections (keeps the set small), then
        // accept — only while there is a free slot, so a full server leaves new clients in the
        // kernel's backlog instead of refusing them.
        const bool has_conns = !conns.is_empty();
        const bool has_slot = conns.len() < limit;
        if (!has_slot && !full_reported) {
            log::warn("{}: {} connections open (the limit): accepting again when one closes", g_name, conns.len());
            full_reported = true;
        }
        auto r = co_await corio::select_biased(corio::branch(stop.cancelled()),
                                               corio::branch(conns.join_next()).if_(has_conns),
                                               corio::branch(listener.accept()).if_(has_slot));
        if (r.index() == 0) break;
        if (r.index() == 1) {
            auto& done = std::get<1>(r);
            if (done) reap(*done, panics);
            if (conns.len() < limit) full_reported = false;
            continue;
        }
        auto& accepted = std::get<2>(r);
        if (!accepted) {
            // EMFILE/ENFILE are handled (backed off) inside accept; whatever comes here is
            // logged, and a short pause keeps a persistent error from spinning the loop.
            log::warn("{}: accept: {}", g_name, accepted.error().message());
            co_await corio::sleep(std::chrono::milliseconds(10));
            continue;
        }
        ++served;
        // A child token per connection: cancelled with `stop`, but each connection's
        // cancelled() waits register in its own token, so idle connections on different
        // workers do not contend on one lock (the handler selects on it around every read).
        conns.spawn(handler(std::move(accepted->first), stop.child_token()));
    }

    if (!conns.is_empty()) {
        log::info("{}: stopped accepting; waiting up to {} for {} connection(s)", g_name,
                  corio::readable(args.shutdown_deadline), conns.len());
        const auto deadline = corio::time::now() + args.shutdown_deadline;
        while (!conns.is_empty()) {
            auto r = co_await corio::timeout_at(deadline, conns.join_next());
            if (!r) break;  // deadline
            if (*r) reap(**r, panics);
        }
        if (!conns.is_empty()) {
            log::warn("{}: deadline passed: aborting {} connection(s)", g_name, conns.len());
            conns.abort_all();
            for (;;) {
                auto r = co_await conns.join_next();
                if (!r) break;
                reap(*r, panics);
            }
        }
    } else {
        log::info("{}: stopped accepting; no connection open", g_name);
    }
    log::info("{}: served {} connection(s){}", g_name, served, panics ? fmt::format(", {} failed", panics) : std::string());
    co_return served;
}

namespace {
corio::task<int> server_main(server_args args, const char* name, connection_handler handler) {
    auto stop = shutdown_on_signals();
    auto listener = bind_and_announce(args, name);
    if (!listener) {
        stop.cancel();  // ends the signal watcher
        co_return 1;
    }
    co_await serve(*listener, handler, args, stop);
    co_return 0;
}
}  // namespace

corio::runtime_options sample_runtime_options() {
    corio::runtime_options opts;
    opts.worker_threads = 2;  // as the Tokio, Go and Asio peers
    const char* registry = std::getenv("CORIO_TASK_REGISTRY");
    opts.enable_task_registry = registry && registry[0] == '1';
    return opts;
}

int run_server(const server_args& args, const char* name, connection_handler handler) {
    corio::runtime_options opts = sample_runtime_options();
    log::debug("{}: runtime {}", name, opts);
    corio::runtime rt(std::move(opts));
    return rt.block_on(server_main(args, name, handler));
}

}  // namespace corio_samples
