// Pattern 6 — channel orchestration: one service loop selects over every source it serves.
//
// The service owns four inputs and waits on all of them at once with corio::select:
//   * an mpsc request queue, each request carrying a oneshot for its reply (Pattern 2);
//   * a broadcast event feed (Pattern 3), whose Lagged is reported and survived;
//   * a watch channel with its configuration (Pattern 4): it always works with the latest;
//   * a cancellation token: shutdown was requested.
// On the token it does not just return: it closes its request queue (new requests fail at
// once, queued ones are still served) and keeps draining. Each source drops out of the select
// when it is closed — `when_some` for the queue, a precondition (`if_`) for the others — and when
// every source is closed the `otherwise` branch ends the loop: Tokio's `else => break`, the
// graceful-exit idiom. Nothing queued is lost.
//
// The runtime is current_thread with a paused clock, so the interleaving (and the output) is the
// same on every run; on the default multi_thread runtime the code is identical.
//
//     ./build/release/samples/patterns/orchestration/orchestration
#include <corio/channels/broadcast.hpp>
#include <corio/channels/mpsc.hpp>
#include <corio/channels/oneshot.hpp>
#include <corio/channels/sync/cancellation_token.hpp>
#include <corio/channels/watch.hpp>
#include <corio/runtime/runtime.hpp>
#include <corio/runtime/select.hpp>
#include <corio/runtime/time.hpp>

#include "common/log.hpp"

#include <fmt/core.h>

#include <chrono>
#include <exception>
#include <optional>
#include <string>
#include <utility>

using namespace std::chrono_literals;

namespace {

struct request {
    int id = 0;
    corio::oneshot::sender<int> reply;
};

struct config {
    int version = 0;
    int multiplier = 1;
};

struct service_stats {
    int requests = 0;
    int events = 0;
    int lagged = 0;
    int configs = 0;
};

corio::task<service_stats> service(corio::mpsc::receiver<request> requests, corio::broadcast::receiver<int> events,
                                   corio::watch::receiver<config> state, corio::sync::cancellation_token stop) {
    service_stats st;
    config cfg = *state.borrow_and_update();  // copy out: never hold a borrow across co_await
    bool events_open = true, state_open = true, draining = false, running = true;
    while (running) {
        co_await corio::select(
            corio::branch(requests.recv()).when_some([&](request r) {
                ++st.requests;
                fmt::print("service: request {} -> {} (config v{})\n", r.id, r.id * cfg.multiplier, cfg.version);
                (void)r.reply.send(r.id * cfg.multiplier);  // the client may have left: fine
            }),
            corio::branch(events.recv(),
                          [&](corio::result<int, corio::broadcast::recv_error> e) {
                              if (e) {
                                  ++st.events;
                                  fmt::print("service: event {}\n", *e);
                              } else if (e.error().is_lagged()) {
                                  st.lagged += static_cast<int>(e.error().skipped());
                                  fmt::print("service: missed {} events (lagged), carrying on\n", e.error().skipped());
                              } else {
                                  events_open = false;
                                  fmt::print("service: event feed closed\n");
                              }
                          })
                .if_(events_open),
            corio::branch(state.changed(),
                          [&](corio::result<void, corio::watch::recv_error> c) {
                              if (!c) {
                                  state_open = false;
                                  fmt::print("service: config channel closed (keeping v{})\n", cfg.version);
                                  return;
                              }
                              cfg = *state.borrow_and_update();
                              ++st.configs;
                              fmt::print("service: config v{} (multiplier {})\n", cfg.version, cfg.multiplier);
                          })
                .if_(state_open),
            corio::branch(stop.cancelled(),
                          [&] {
                              draining = true;
                              requests.close();  // new requests fail; queued ones are still served
                              fmt::print("service: shutdown requested: request queue closed, draining\n");
                          })
                .if_(!draining),
            corio::otherwise([&] {
                running = false;
                fmt::print("service: every source is closed: exiting\n");
            }));
    }
    co_return st;
}

corio::task<void> client(corio::mpsc::sender<request> tx, int first, int count) {
    for (int id = first; id < first + count; ++id) {
        auto [reply_tx, reply_rx] = corio::oneshot::channel<int>();
        request r;
        r.id = id;
        r.reply = std::move(reply_tx);
        auto sent = co_await tx.send(std::move(r));
        if (!sent) {
            fmt::print("client: request {} refused: the service is shutting down\n", id);
            co_return;
        }
        auto answer = co_await reply_rx;
        if (answer) fmt::print("client: request {} answered {}\n", id, *answer);
        co_await corio::sleep(10ms);
    }
}

corio::task<void> run() {
    fmt::print("orchestration: a service selecting over an mpsc request queue, a broadcast event feed,\n"
               "a watch config channel and a shutdown token\n");
    auto [req_tx, req_rx] = corio::mpsc::channel<request>(8);
    auto [ev_tx, ev_rx] = corio::broadcast::channel<int>(2);
    config initial;
    initial.version = 1;
    auto [cfg_tx, cfg_rx] = corio::watch::channel<config>(initial);
    corio::sync::cancellation_token stop;

    auto svc = corio::spawn(service(std::move(req_rx), std::move(ev_rx), std::move(cfg_rx), stop));
    auto early = corio::spawn(client(req_tx, 1, 3));

    co_await corio::sleep(5ms);
    (void)ev_tx.send(100);
    config v2;
    v2.version = 2;
    v2.multiplier = 10;
    cfg_tx.send_replace(v2);
    co_await corio::sleep(10ms);
    // A burst larger than the feed's capacity (2) with no await in between: the service lags.
    for (int e = 101; e <= 105; ++e) (void)ev_tx.send(e);
    co_await corio::sleep(30ms);
    (co_await early).value();

    fmt::print("main: requesting shutdown\n");
    stop.cancel();
    co_await corio::sleep(1ms);
    auto late = corio::spawn(client(req_tx, 50, 1));  // arrives after the queue was closed
    (co_await late).value();
    { auto gone = std::move(req_tx); }
    { auto gone = std::move(ev_tx); }   // the event feed closes
    { auto gone = std::move(cfg_tx); }  // and the config channel

    service_stats st = (co_await svc).value();
    fmt::print("main: service served {} requests, {} events ({} missed), {} config updates\n", st.requests, st.events,
               st.lagged, st.configs);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc > 1) {
        fmt::print(stderr, "usage: {}\n", argv[0]);
        return 2;
    }
    try {
        corio::runtime rt({.flavor = corio::runtime_flavor::current_thread, .start_paused = true});
        rt.block_on(run());
        return 0;
    } catch (const std::exception& e) {
        corio_samples::log::error("orchestration: {}", e.what());
        return 1;
    }
}
