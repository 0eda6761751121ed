// samples/servers/common/server.hpp — what every sample server shares: command line, signals,
// the bounded accept loop with graceful shutdown.
//
//     int main(int argc, char** argv) {
//         auto args = corio_samples::parse_args(argc, argv, "echo");
//         return corio_samples::run_server(args, "echo", &serve_connection);   // exit code
//     }
//
// or, for a server with more state (an actor, a config watcher), inside the main task:
//
//     auto stop = corio_samples::shutdown_on_signals();          // before announcing the port
//     auto listener = corio_samples::bind_and_announce(args, "kv");
//     if (!listener) co_return 1;
//     std::size_t served = co_await corio_samples::serve(*listener, &handle, args, stop);
//
// Conventions (integration tests rely on them): bind 127.0.0.1:<port> (0 picks one), print
// exactly one line `listening on 127.0.0.1:<port>` on stdout once bound, log to stderr through
// samples/common/log.hpp (level: CORIO_LOG), exit 0 after a graceful shutdown (first SIGINT or
// SIGTERM).
#pragma once

#include <corio/channels/sync/cancellation_token.hpp>
#include <corio/net/tcp_listener.hpp>
#include <corio/net/tcp_stream.hpp>
#include <corio/result.hpp>
#include <corio/runtime/runtime.hpp>
#include <corio/runtime/task.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <system_error>

namespace corio_samples {

struct server_args {
    std::string host = "127.0.0.1";
    std::uint16_t port = 0;
    std::size_t max_connections = 1024;   // connections served at once (more wait in the backlog)
    std::size_t max_line = 8192;          // longest line / request head a client may send
    std::chrono::milliseconds shutdown_deadline{5000};  // for in-flight connections on shutdown
    std::string config_path;              // --config PATH (servers that read one)
};

/// argv: <port> [--max-connections N] [--max-line N] [--deadline-ms N] [--config PATH].
/// `-h`/`--help` prints the usage to stdout and exits 0; bad input prints it to stderr and exits 2.
server_args parse_args(int argc, char** argv, const char* name);

/// The servers' runtime: 2 workers (as the peers they are measured against), and the task
/// registry when the environment says CORIO_TASK_REGISTRY=1 (then a SIGQUIT dump lists what every
/// task waits on).
corio::runtime_options sample_runtime_options();

/// A token cancelled on the first SIGINT or SIGTERM. The signal handlers are installed before it
/// returns (call it before announcing the port, so that a SIGTERM sent right after the
/// announcement is seen); a small watcher task waits for the signal, so call it on a runtime
/// worker (e.g. inside the main task). The watcher ends when the token is cancelled either way.
/// Also installs a SIGQUIT handler: each SIGQUIT prints runtime::dump() on stderr, and the
/// server goes on.
corio::sync::cancellation_token shutdown_on_signals();

/// Binds args.host:args.port and prints `listening on <addr>` (flushed) on stdout; on failure
/// logs `<name>: bind ...: <error>` on stderr and returns the error.
corio::result<corio::net::tcp_listener, std::error_code> bind_and_announce(const server_args& args, const char* name);

/// A connection's task: serve `stream` until the peer is done, an error, or `stop` (finish what
/// is in flight, then return). Its stream closes when it returns.
using connection_handler = corio::task<void> (*)(corio::net::tcp_stream, corio::sync::cancellation_token);

/// Accept loop until `stop` is cancelled: each connection runs `handler(stream, stop)` as its own
/// task (the token it gets is a child of `stop`: cancelled with it, cheaper to wait on); at most args.max_connections at once (beyond that, accept waits for a slot — it does
/// not refuse). On stop: stops accepting, waits up to args.shutdown_deadline for the running
/// connection tasks, then aborts the rest. Returns the number of connections served (accepted).
/// Accept errors are logged and the loop carries on. Progress is logged on stderr.
corio::task<std::size_t> serve(corio::net::tcp_listener& listener, connection_handler handler, const server_args& args,
                               corio::sync::cancellation_token stop);

/// The whole program for a server that needs nothing but a handler: a 2-worker runtime,
/// shutdown_on_signals, bind_and_announce, serve. Returns the exit code (0 after a graceful
/// shutdown, 1 if binding failed).
int run_server(const server_args& args, const char* name, connection_handler handler);

}  // namespace corio_samples
