// corio/runtime/metrics.hpp — what a running runtime is doing, as numbers (Tokio's RuntimeMetrics).
//
//     corio::runtime_metrics m = rt.metrics();          // or runtime_handle::metrics()
//     for (const auto& w : m.workers)
//         fmt::print("polls {} parks {} stolen {} busy {}\n", w.polls, w.parks, w.stolen_tasks, w.busy);
//
// A snapshot: each counter is read once, on the calling thread, while the workers go on. Every
// counter is whole (never torn), but the snapshot is not one instant across counters: a task may
// be counted as polled by one worker and still as queued elsewhere. Take two snapshots and
// subtract (runtime_metrics::since) for rates.
//
// Cost on the workers: each counter is written only by its own worker's thread, as a plain
// add on a relaxed atomic (no locked instruction, no cache line shared with another worker), and
// busy time costs two clock reads per park, not per poll. The poll-time histogram costs two clock
// reads per poll, so it is off unless runtime_options::enable_poll_time_histogram is set (as in
// Tokio, where it is opt-in too). docs/runtime.md has the meaning of each figure.
//
// fmt: a runtime_metrics formats as one summary line, a worker_metrics as one line per worker:
//     runtime: workers=2 polls=1201 parks=37 stolen=64 busy=3.2ms alive=5 spawned=1200 ...
//     worker 0: polls=610 lifo=300 local=598 overflows=0 steals=3/64 parks=20 idle_unparks=2 ...
#pragma once

#include <corio/runtime/readable_duration.hpp>

#include <fmt/format.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace corio {

/// Poll durations in power-of-two buckets: bucket 0 counts polls under 1 µs, bucket i (1 ≤ i <
/// 15) polls in [2^(i-1), 2^i) µs, the last bucket everything from 2^14 µs (~16 ms) up.
struct poll_time_histogram {
    /// How many buckets there are.
    static constexpr std::size_t bucket_count = 16;
    /// The poll counts, bucket by bucket.
    std::array<std::uint64_t, bucket_count> buckets{};

    /// The lower bound of bucket `i` (bucket 0: zero).
    static constexpr std::chrono::microseconds bucket_start(std::size_t i) noexcept {
        return std::chrono::microseconds(i == 0 ? 0 : std::int64_t{1} << (i - 1));
    }
    /// All the polls counted.
    std::uint64_t total() const noexcept {
        std::uint64_t n = 0;
        for (std::uint64_t b : buckets) n += b;
        return n;
    }
};

/// One worker's figures. Counters only grow; the *_depth fields are levels at the snapshot.
struct worker_metrics {
    /// The worker's index (0 to worker_threads - 1), as in its thread's name corio-worker-N.
    std::size_t index = 0;
    /// Task polls run by this worker (LIFO-slot polls included).
    std::uint64_t polls = 0;            // task polls run by this worker (LIFO-slot polls included)
    /// Of those, the polls that took the task from the LIFO slot.
    std::uint64_t lifo_polls = 0;       // of which took the task from the LIFO slot
    /// Tasks this worker queued for itself (woken or spawned by its tasks).
    std::uint64_t local_schedules = 0;  // tasks this worker queued for itself (woken or spawned by its tasks)
    /// Times its full local queue moved half of itself to the inject queue.
    std::uint64_t overflows = 0;        // times its full local queue moved half of itself to the inject queue
    /// Successful steals from another worker's queue.
    std::uint64_t steal_operations = 0; // successful steals from another worker's queue
    /// Tasks taken by those steals.
    std::uint64_t stolen_tasks = 0;     // tasks taken by those steals
    /// Times it blocked in its driver (io, timers) for lack of work.
    std::uint64_t parks = 0;            // times it blocked in its driver (io, timers) for lack of work
    /// Of those, the parks that ended with nothing to run (spurious, or a timer of another worker).
    std::uint64_t unparks_without_work = 0;  // of which ended with nothing to run (spurious, or a timer of another worker)
    /// Time outside its driver's blocking wait, up to its last park.
    std::chrono::nanoseconds busy{0};   // time outside its driver's blocking wait, up to its last park
    /// Tasks in its local queue now.
    std::size_t local_queue_depth = 0;  // tasks in its local queue now
    /// io_uring operations submitted by it and not yet completed.
    std::size_t io_in_flight = 0;       // io_uring operations submitted by it and not yet completed
    /// The poll-time histogram; all zero unless runtime_options::enable_poll_time_histogram.
    poll_time_histogram poll_times{};   // all zero unless runtime_options::enable_poll_time_histogram
};

/// The whole runtime's figures (runtime::metrics()).
struct runtime_metrics {
    /// Each worker's figures, by index.
    std::vector<worker_metrics> workers;
    /// Tasks ever spawned on this runtime.
    std::uint64_t spawned_tasks = 0;       // tasks ever spawned on this runtime
    /// Spawned and not yet completed (and freed by the runtime).
    std::size_t alive_tasks = 0;           // spawned and not yet completed (and freed by the runtime)
    /// Tasks queued through the inject queue (woken off-worker, overflow).
    std::uint64_t remote_schedules = 0;    // tasks queued through the inject queue (woken off-worker, overflow)
    /// Tasks in the inject queue now.
    std::size_t inject_queue_depth = 0;    // tasks in the inject queue now
    /// Sleeps, timeouts and intervals waiting in the timer wheel.
    std::size_t timers_armed = 0;          // sleeps, timeouts and intervals waiting in the timer wheel
    /// Sockets registered in the readiness set (0 when none is used).
    std::size_t io_registrations = 0;      // sockets registered in the readiness set (0 when none is used)
    /// spawn_blocking threads alive.
    std::size_t blocking_threads = 0;      // spawn_blocking threads alive
    /// Of those, the threads waiting for a job.
    std::size_t idle_blocking_threads = 0; // of which waiting for a job
    /// spawn_blocking jobs waiting for a thread.
    std::size_t blocking_queue_depth = 0;  // spawn_blocking jobs waiting for a thread

    /// The sums over workers of the counters above.
    std::uint64_t total_polls() const noexcept;
    /// The workers' parks, summed.
    std::uint64_t total_parks() const noexcept;
    /// The workers' stolen tasks, summed.
    std::uint64_t total_stolen_tasks() const noexcept;
    /// The workers' busy time, summed.
    std::chrono::nanoseconds total_busy() const noexcept;

    /// This snapshot minus an earlier one of the same runtime: counters become the increase
    /// (histogram buckets too); levels (depths, counts alive) stay as in this snapshot.
    runtime_metrics since(const runtime_metrics& earlier) const;
};

}  // namespace corio

template <>
struct fmt::formatter<corio::worker_metrics> {
    constexpr auto parse(fmt::format_parse_context& ctx) { return ctx.begin(); }
    template <class FormatContext>
    auto format(const corio::worker_metrics& w, FormatContext& ctx) const {
        return fmt::format_to(ctx.out(),
                              "worker {}: polls={} lifo={} local={} overflows={} steals={}/{} parks={} idle_unparks={} "
                              "busy={} queue={} io_in_flight={}",
                              w.index, w.polls, w.lifo_polls, w.local_schedules, w.overflows, w.steal_operations,
                              w.stolen_tasks, w.parks, w.unparks_without_work, corio::readable(w.busy),
                              w.local_queue_depth, w.io_in_flight);
    }
};

template <>
struct fmt::formatter<corio::runtime_metrics> {
    constexpr auto parse(fmt::format_parse_context& ctx) { return ctx.begin(); }
    template <class FormatContext>
    auto format(const corio::runtime_metrics& m, FormatContext& ctx) const {
        return fmt::format_to(ctx.out(),
                              "runtime: workers={} polls={} parks={} stolen={} busy={} alive={} spawned={} "
                              "remote_schedules={} inject={} timers={} io_registrations={} blocking={}/{} "
                              "blocking_queue={}",
                              m.workers.size(), m.total_polls(), m.total_parks(), m.total_stolen_tasks(),
                              corio::readable(m.total_busy()), m.alive_tasks, m.spawned_tasks, m.remote_schedules,
                              m.inject_queue_depth, m.timers_armed, m.io_registrations,
                              m.blocking_threads - m.idle_blocking_threads, m.blocking_threads, m.blocking_queue_depth);
    }
};
