// select_tasks and select_tasks_spawned: corio's own workloads, not among the standard peer
// workloads of docs/workloads.md; their Tokio counterparts are in peers/tokio/src/main.rs beside this file. They measure what
// a select over two short coroutine operands costs when the operands run inline in the selecting
// task (select_tasks, the current design: docs/select.md "task<T> branches run inline") and when
// they are spawned and the loser is aborted and waited for (select_tasks_spawned: the old design's
// spawns plus the abort-and-wait of a temporary join_handle operand).
#include "workload.hpp"

#include <corio/channels/mpsc.hpp>
#include <corio/channels/sync/notify.hpp>
#include <corio/runtime/runtime.hpp>
#include <corio/runtime/select.hpp>
#include <corio/runtime/yield_now.hpp>

#include <fmt/format.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <utility>

namespace {

using bench::clock;

// The operand that wins: one trip through the run queue, then its value.
corio::task<std::uint64_t> short_op(std::uint64_t i) {
    co_await corio::yield_now();
    co_return i;
}

// The operand that always loses: waits on a channel that never gets a message. Borrows the
// receiver; when it loses, its frame is destroyed and its pending recv cancelled.
corio::task<std::uint64_t> idle_op(corio::mpsc::receiver<std::uint64_t>& rx) {
    auto v = co_await rx.recv();
    co_return v ? *v : 0;
}

// One task, n iterations of select(short_op(i), idle_op(rx)), both operands inline.
corio::task<bench::sample> select_tasks(double scale) {
    const std::uint64_t n = bench::scaled(500'000, scale);
    auto t0 = clock::now();
    auto [tx, rx] = corio::mpsc::channel<std::uint64_t>(1);  // tx kept: rx never closes
    std::uint64_t sum = 0, short_wins = 0;
    for (std::uint64_t i = 0; i < n; ++i) {
        auto r = co_await corio::select(short_op(i), idle_op(rx));
        if (r.index() == 0) {
            ++short_wins;
            sum += std::get<0>(r);
        }
    }
    bench::sample s = bench::make_sample(n, t0);
    const std::uint64_t want = n * (n - 1) / 2;
    if (short_wins != n) co_return bench::failed(fmt::format("short_op won {} of {} selects", short_wins, n));
    if (sum != want) co_return bench::failed(fmt::format("sum {} != {}", sum, want));
    co_return s;
}

// The spawned operand that always loses owns what it waits on: a share of a notify nobody
// notifies (Tokio's counterpart: an Arc<Notify>).
corio::task<std::uint64_t> idle_owned(std::shared_ptr<corio::sync::notify> never) {
    co_await never->notified();
    co_return 0;
}

// The same work with both operands spawned: per iteration two spawns, the winner's join, and the
// loser aborted and waited for before select returns.
corio::task<bench::sample> select_tasks_spawned(double scale) {
    const std::uint64_t n = bench::scaled(500'000, scale);
    auto t0 = clock::now();
    auto never = std::make_shared<corio::sync::notify>();
    std::uint64_t sum = 0, short_wins = 0, join_errors = 0;
    for (std::uint64_t i = 0; i < n; ++i) {
        auto r = co_await corio::select(corio::spawn(short_op(i)), corio::spawn(idle_owned(never)));
        if (r.index() == 0) {
            auto& v = std::get<0>(r);
            if (!v) {
                ++join_errors;
                continue;
            }
            ++short_wins;
            sum += *v;
        }
    }
    bench::sample s = bench::make_sample(n, t0);
    const std::uint64_t want = n * (n - 1) / 2;
    if (join_errors != 0) co_return bench::failed(fmt::format("{} short_op tasks failed", join_errors));
    if (short_wins != n) co_return bench::failed(fmt::format("short_op won {} of {} selects", short_wins, n));
    if (sum != want) co_return bench::failed(fmt::format("sum {} != {}", sum, want));
    // The losers were waited for: nobody may still be registered on the notify.
    if (never.use_count() != 1)
        co_return bench::failed(fmt::format("{} idle tasks outlived their select", never.use_count() - 1));
    co_return s;
}

bench::registrar t0("select_tasks", select_tasks);
bench::registrar t1("select_tasks_spawned", select_tasks_spawned);

}  // namespace
