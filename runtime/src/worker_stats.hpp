// worker_stats: one worker's counters behind runtime::metrics() (Tokio's WorkerMetrics).
//
// Writer:   the thread that runs the worker, only: its OS thread, or for current_thread the
//           block_on thread holding the core (one at a time, handed over under core_mutex_, which
//           orders one holder's writes before the next's). After the workers are joined the
//           shutdown thread may count too (completions of cancelled tasks), again alone.
// Readers:  any thread (metrics()), at any time.
// Encoding: single_writer_counter.hpp (no locked instruction on the hot path). A reader sees
//           every counter whole, each on its own: no cut across counters.
// Layout:   the block is cache-line aligned inside its worker and written by that worker only,
//           so counting never moves a line between cores.
// Busy time: the worker adds (park start - last wake) at each park; a reader of a worker that is
//           running now misses the current stretch (documented on worker_metrics::busy).
#pragma once

#include "single_writer_counter.hpp"

#include <corio/runtime/metrics.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>

namespace corio::detail {

struct alignas(64) worker_stats {
    single_writer_counter polls;
    single_writer_counter lifo_polls;
    single_writer_counter local_schedules;
    single_writer_counter overflows;
    single_writer_counter steal_operations;
    single_writer_counter stolen_tasks;
    single_writer_counter parks;
    single_writer_counter unparks_without_work;
    single_writer_counter completed;  // tasks whose completion this worker's thread recorded (alive = spawned - completed)
    single_writer_counter busy_ns;
    std::array<single_writer_counter, poll_time_histogram::bucket_count> poll_buckets;

    // Writer-only state.
    std::chrono::steady_clock::time_point awake_since = std::chrono::steady_clock::now();

    void record_poll_time(std::chrono::steady_clock::duration d) noexcept {
        const auto us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
        std::size_t bucket = 0;
        if (us > 0) bucket = static_cast<std::size_t>(64 - __builtin_clzll(static_cast<unsigned long long>(us)));
        if (bucket >= poll_buckets.size()) bucket = poll_buckets.size() - 1;
        poll_buckets[bucket].add();
    }

    // Around the driver's blocking wait.
    void parking() noexcept {
        const auto now = std::chrono::steady_clock::now();
        busy_ns.add(static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(now - awake_since).count()));
        parks.add();
    }
    void unparked() noexcept { awake_since = std::chrono::steady_clock::now(); }
};

}  // namespace corio::detail
