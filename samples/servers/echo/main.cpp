// echo — a TCP echo server (the `tcp_echo` workload of docs/workloads.md).
//
//     ./build/release/samples/servers/echo/echo 7000          # or 0: any free port
//     nc 127.0.0.1 7000                                       # what you type comes back
//
// Every connection is a task that reads up to 4 KiB and writes it back, until the peer closes
// (EOF), an error (a reset peer ends that connection only), or shutdown: on SIGINT/SIGTERM the
// server stops accepting; a connection waiting for bytes closes at once, one in the middle of
// echoing finishes its write first; whatever is still open after --deadline-ms is aborted.
#include "../common/server.hpp"
#include "common/log.hpp"

#include <corio/runtime/select.hpp>

#include <fmt/core.h>

#include <array>
#include <cstddef>
#include <span>

namespace {

corio::task<void> echo_connection(corio::net::tcp_stream stream, corio::sync::cancellation_token stop) {
    (void)stream.set_nodelay(true);  // one small message per round trip: no Nagle delay
    std::array<std::byte, 4096> buf;
    for (;;) {
        // Data first (biased): the shutdown branch only matters when the connection is idle.
        auto r = co_await corio::select_biased(stream.read(std::span<std::byte>(buf)), stop.cancelled());
        if (r.index() == 1) co_return;  // shutdown while idle
        auto& n = std::get<0>(r);
        if (!n) {
            if (n.error() != std::errc::connection_reset) {
                corio_samples::log::warn("echo: read: {}", n.error().message());
            }
            co_return;
        }
        if (*n == 0) co_return;  // EOF: the client is done
        auto w = co_await stream.write_all(std::span<const std::byte>(buf.data(), *n));
        if (!w) {
            if (w.error() != std::errc::connection_reset && w.error() != std::errc::broken_pipe) {
                corio_samples::log::warn("echo: write: {}", w.error().message());
            }
            co_return;
        }
    }
}

}  // namespace

int main(int argc, char** argv) {
    auto args = corio_samples::parse_args(argc, argv, "echo");
    return corio_samples::run_server(args, "echo", &echo_connection);
}
