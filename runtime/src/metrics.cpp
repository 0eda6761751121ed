// runtime::metrics(): a snapshot of the counters the workers keep (worker_stats.hpp) and of the
// levels of the shared structures (queues, wheel, readiness set, blocking pool).
#include "io/reactor.hpp"
#include "io/readiness_set.hpp"
#include "io/uring_driver.hpp"
#include "scheduler.hpp"

#include <corio/runtime/metrics.hpp>

namespace corio {

namespace detail {

worker_metrics worker::metrics() const {
    worker_metrics m;
    m.index = index_;
    m.polls = stats_.polls.get();
    m.lifo_polls = stats_.lifo_polls.get();
    m.local_schedules = stats_.local_schedules.get();
    m.overflows = stats_.overflows.get();
    m.steal_operations = stats_.steal_operations.get();
    m.stolen_tasks = stats_.stolen_tasks.get();
    m.parks = stats_.parks.get();
    m.unparks_without_work = stats_.unparks_without_work.get();
    m.busy = std::chrono::nanoseconds(static_cast<std::int64_t>(stats_.busy_ns.get()));
    m.local_queue_depth = run_queue_.len();
    if (const io::uring_driver* ring = reactor_->ring()) m.io_in_flight = ring->ops_in_flight();
    for (std::size_t i = 0; i < m.poll_times.buckets.size(); ++i) m.poll_times.buckets[i] = stats_.poll_buckets[i].get();
    return m;
}

runtime_metrics scheduler::metrics() {
    runtime_metrics m;
    m.workers.reserve(workers_.size());
    std::uint64_t completed = completed_elsewhere_.load(std::memory_order_relaxed);
    for (const auto& w : workers_) {
        m.workers.push_back(w->metrics());
        completed += w->stats_.completed.get();
    }
    // Spawns take their id before they can complete, so this read (after the completions) is
    // never below them.
    m.spawned_tasks = next_id_.load(std::memory_order_relaxed) - 1;
    m.alive_tasks = m.spawned_tasks > completed ? static_cast<std::size_t>(m.spawned_tasks - completed) : 0;
    m.remote_schedules = inject_.pushed();
    m.inject_queue_depth = inject_.len();
    m.timers_armed = time_.armed_timers();
    if (!workers_.empty())
        if (const io::readiness_set* set = workers_[0]->reactor().readiness()) m.io_registrations = set->registration_count();
    const blocking_pool::counts b = blocking_.count();
    m.blocking_threads = b.threads;
    m.idle_blocking_threads = b.idle;
    m.blocking_queue_depth = b.queued;
    return m;
}

}  // namespace detail

runtime_metrics runtime::metrics() const { return sched_->metrics(); }

runtime_metrics runtime_handle::metrics() const { return sched_->metrics(); }

std::uint64_t runtime_metrics::total_polls() const noexcept {
    std::uint64_t n = 0;
    for (const auto& w : workers) n += w.polls;
    return n;
}

std::uint64_t runtime_metrics::total_parks() const noexcept {
    std::uint64_t n = 0;
    for (const auto& w : workers) n += w.parks;
    return n;
}

std::uint64_t runtime_metrics::total_stolen_tasks() const noexcept {
    std::uint64_t n = 0;
    for (const auto& w : workers) n += w.stolen_tasks;
    return n;
}

std::chrono::nanoseconds runtime_metrics::total_busy() const noexcept {
    std::chrono::nanoseconds n{0};
    for (const auto& w : workers) n += w.busy;
    return n;
}

runtime_metrics runtime_metrics::since(const runtime_metrics& earlier) const {
    runtime_metrics d = *this;
    // Counters only grow; a missing or reordered worker (another runtime's snapshot) is left as is.
    auto minus = [](std::uint64_t now, std::uint64_t before) { return now >= before ? now - before : 0; };
    d.spawned_tasks = minus(spawned_tasks, earlier.spawned_tasks);
    d.remote_schedules = minus(remote_schedules, earlier.remote_schedules);
    for (auto& w : d.workers) {
        if (w.index >= earlier.workers.size()) continue;
        const worker_metrics& e = earlier.workers[w.index];
        w.polls = minus(w.polls, e.polls);
        w.lifo_polls = minus(w.lifo_polls, e.lifo_polls);
        w.local_schedules = minus(w.local_schedules, e.local_schedules);
        w.overflows = minus(w.overflows, e.overflows);
        w.steal_operations = minus(w.steal_operations, e.steal_operations);
        w.stolen_tasks = minus(w.stolen_tasks, e.stolen_tasks);
        w.parks = minus(w.parks, e.parks);
        w.unparks_without_work = minus(w.unparks_without_work, e.unparks_without_work);
        w.busy = w.busy >= e.busy ? w.busy - e.busy : std::chrono::nanoseconds{0};
        for (std::size_t i = 0; i < w.poll_times.buckets.size(); ++i)
            w.poll_times.buckets[i] = minus(w.poll_times.buckets[i], e.poll_times.buckets[i]);
    }
    return d;
}

}  // namespace corio
