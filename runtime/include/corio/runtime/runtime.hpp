// corio/runtime/runtime.hpp — the runtime: workers, spawn, block_on, shutdown.
//
//     corio::runtime rt({.worker_threads = 2});
//     int v = rt.block_on(main_task());           // runs main_task on a worker, waits for it
//
// Flavours: multi_thread (N worker threads with work stealing; the default) and current_thread
// (no threads: the thread calling block_on runs every task while it waits).
//
// Shutdown: destroying the runtime, or shutdown(timeout), cancels every task that has not
// finished (its frame is destroyed and its destructors run on the shutting-down thread), joins
// the worker threads, and waits for spawn_blocking work up to the timeout (the destructor
// waits for it). Awaiting the join_handle of a task cancelled this way yields
// join_error::cancelled. After shutdown, spawn() still returns a handle, of a task that is
// cancelled at once.
//
// fmt: fmt::format("{}", opts) is one line of the knobs, for a startup log line:
//   "flavor=multi_thread workers=2 thread_name=corio-worker max_blocking_threads=512
//    blocking_keep_alive=10s global_queue_interval=61 event_interval=61 lifo_slot=on start_paused=no"
// (one line; workers=auto for 0, and no workers for current_thread, which has none).
//
// Thread safety: spawn() and handle() may be called from any thread; block_on() from any thread
// that does not run a runtime's tasks (not a worker of any runtime, not inside a current_thread
// block_on); shutdown() from any thread but this runtime's workers.
#pragma once

#include <corio/runtime/dump.hpp>
#include <corio/runtime/join_handle.hpp>
#include <corio/runtime/metrics.hpp>
#include <corio/runtime/readable_duration.hpp>
#include <corio/runtime/spawn_site.hpp>
#include <corio/runtime/task.hpp>

#include <fmt/format.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

namespace corio {

/// Which scheduler a runtime runs: multi_thread (work-stealing workers, Tokio's default) or
/// current_thread (tasks run on the thread that calls block_on).
enum class runtime_flavor { multi_thread, current_thread };

/// How to build a runtime (Tokio's runtime::Builder), set as designated initializers, e.g.
/// `rt({.worker_threads = 2})`. fmt prints every field.
struct runtime_options {
    /// multi_thread or current_thread.
    runtime_flavor flavor = runtime_flavor::multi_thread;
    /// 0 = one per CPU (std::thread::hardware_concurrency). Ignored by current_thread.
    std::size_t worker_threads = 0;
    /// Worker i is named `<thread_name>-<i>` (Linux limits names to 15 characters).
    std::string thread_name = "corio-worker";
    /// Runs on each worker thread before it runs tasks.
    std::function<void()> on_thread_start{};  // runs on each worker thread before it runs tasks
    /// Runs on each worker thread after its last task.
    std::function<void()> on_thread_stop{};   // runs on each worker thread after its last task
    /// spawn_blocking pool: grows on demand up to this many threads; idle threads retire.
    std::size_t max_blocking_threads = 512;
    /// How long an idle spawn_blocking thread waits for a job before it retires.
    std::chrono::milliseconds blocking_keep_alive{10'000};
    /// Ticks between checks of the global (injection) queue before the local queue, so that
    /// tasks spawned from outside cannot starve. Tokio's default.
    std::uint32_t global_queue_interval = 61;
    /// Ticks between polls of the driver (timers, io) while there is work.
    std::uint32_t event_interval = 61;
    /// The LIFO slot keeps a task woken by the running task on the same worker (message passing
    /// stays on one core); tests that block a worker turn it off.
    bool disable_lifo_slot = false;
    /// Start with the timer clock paused (Tokio's start_paused, for tests; corio/runtime/time.hpp):
    /// it moves only by time::advance, or jumps to the next timer when every worker is idle.
    bool start_paused = false;
    /// An exception escaping a task whose output nobody will read (detached, or its join_handle
    /// dropped unread). Default: print it with fmt to stderr and carry on. Must not throw.
    std::function<void(std::exception_ptr)> unhandled_exception{};
    /// Time every task poll into runtime_metrics' per-worker histogram (two clock reads per poll,
    /// hence off by default; corio/runtime/metrics.hpp).
    bool enable_poll_time_histogram = false;
    /// Keep a record of every live task (name, spawn site, polls, busy time) so that dump() can
    /// list the tasks and what each waits on (corio/runtime/dump.hpp). Costs an allocation and a
    /// short lock per spawn and completion, and two clock reads per poll: off by default, like
    /// Tokio's console instrumentation (docs/performance.md has the figures).
    bool enable_task_registry = false;
};

namespace detail {
class scheduler;
// Out-of-line parts of spawn: binds the task to the scheduler's owned list and queues it.
// `site` and `name` are kept only when the task registry is on.
void scheduler_spawn(scheduler* s, task_header* t, const spawn_site& site, std::string_view name) noexcept;
scheduler* current_scheduler() noexcept;  // null outside a worker
void scheduler_retain(scheduler* s) noexcept;
void scheduler_release(scheduler* s) noexcept;
// Throws std::logic_error if the calling thread runs some runtime's tasks (a worker of any
// runtime, or a thread inside a current_thread block_on): block_on would block it.
void check_may_block_on();
// Runs `l` to readiness from a non-worker thread; for current_thread it drives the runtime
// (one block_on thread at a time; the others wait for their own future, and take the driving
// over when they need it).
void scheduler_block_on(scheduler* s, leaf& l);

template <class T>
join_handle<T> spawn_on(scheduler* s, task<T>&& t, const spawn_site& site, std::string_view name = {}) {
    auto* cell = new spawned_task<T>(std::move(t));
    scheduler_spawn(s, cell, site, name);
    return join_handle<T>(cell);
}
}  // namespace detail

/// A cheap, copyable reference to a runtime, usable from any thread (Tokio's Handle).
class runtime_handle {
public:
    /// Another handle to the same runtime.
    runtime_handle(const runtime_handle& o) noexcept : sched_(o.sched_) { detail::scheduler_retain(sched_); }
    /// Drops this reference and takes `o`'s runtime.
    runtime_handle& operator=(runtime_handle o) noexcept {
        std::swap(sched_, o.sched_);
        return *this;
    }
    ~runtime_handle() {
        if (sched_) detail::scheduler_release(sched_);
    }

    /// Spawns `t` onto this runtime from any thread (Tokio's Handle::spawn); the task may start
    /// before this returns.
    template <class T>
    join_handle<T> spawn(task<T> t, spawn_site site = spawn_site::current()) {
        return detail::spawn_on(sched_, std::move(t), site);
    }

    /// Runs `f` on this runtime's blocking pool, from any thread (defined in
    /// <corio/runtime/spawn_blocking.hpp>).
    template <class F>
    auto spawn_blocking(F f, spawn_site site = spawn_site::current());

    /// The runtime whose worker is calling; throws std::logic_error outside a runtime.
    static runtime_handle current();

    /// A snapshot of the runtime's counters and queue levels (corio/runtime/metrics.hpp).
    runtime_metrics metrics() const;

    /// The metrics and, with the task registry on, every live task and what it waits on
    /// (corio/runtime/dump.hpp). Any thread; a task may dump its own runtime.
    runtime_dump dump() const;

private:
    friend class runtime;
    friend class task_builder;
    explicit runtime_handle(detail::scheduler* s) noexcept : sched_(s) { detail::scheduler_retain(sched_); }
    detail::scheduler* sched_;
};

/// A runtime: the scheduler, its worker threads, the timer wheel, the io reactor and the blocking
/// pool (Tokio's Runtime). Destroying it shuts it down: every remaining task is cancelled (its
/// destructors run) and the workers are joined.
class runtime {
public:
    /// Starts the runtime (its worker threads, for multi_thread) as `opts` says.
    explicit runtime(runtime_options opts = {});
    runtime(const runtime&) = delete;
    runtime& operator=(const runtime&) = delete;
    ~runtime();

    /// Runs `t` as a task on this runtime and blocks the calling thread until it finishes.
    /// Returns its value or rethrows its exception; throws join_error if the runtime is shut
    /// down first (current_thread: std::logic_error if the shutdown comes from another thread
    /// while the task is still running). Throws std::logic_error, before running `t`, on a
    /// thread that runs a runtime's tasks: a worker of any runtime, or inside a current_thread
    /// block_on. With current_thread, several threads may be in block_on at once: one at a time
    /// runs the tasks, and each returns as soon as its own task has finished.
    template <class T>
    T block_on(task<T> t, spawn_site site = spawn_site::current()) {
        detail::check_may_block_on();
        join_handle<T> h = spawn(std::move(t), site);
        typename join_handle<T>::awaiter a = std::move(h).operator co_await();
        detail::scheduler_block_on(sched_, a);
        if constexpr (std::is_void_v<T>) a.await_resume().value();
        else return a.await_resume().value();
    }

    /// Spawns `t` onto this runtime from any thread; `co_await` (or blocking_join on) the handle
    /// for its outcome.
    template <class T>
    join_handle<T> spawn(task<T> t, spawn_site site = spawn_site::current()) {
        return detail::spawn_on(sched_, std::move(t), site);
    }

    /// A copyable handle to this runtime, to spawn from other threads.
    runtime_handle handle() const noexcept { return runtime_handle(sched_); }

    /// How many worker threads run tasks (1 for current_thread).
    std::size_t worker_count() const noexcept;

    /// A snapshot of the runtime's counters and queue levels (corio/runtime/metrics.hpp). Any
    /// thread, at any time, as often as you like: it takes two short locks (the timer wheel's and
    /// the blocking pool's) and reads the rest as relaxed atomics.
    runtime_metrics metrics() const;

    /// The metrics and, with the task registry on, every live task and what it waits on
    /// (corio/runtime/dump.hpp). Any thread, at any time; a task may dump its own runtime.
    runtime_dump dump() const;

    /// Cancels all tasks, joins the workers, and waits up to `timeout` for spawn_blocking work.
    /// Idempotent; the destructor calls it with no time limit.
    void shutdown(std::chrono::nanoseconds timeout);

private:
    detail::scheduler* sched_;
};

/// Spawns onto the runtime of the calling worker. Throws std::logic_error outside a runtime
/// (use runtime::spawn or runtime_handle::spawn from other threads).
template <class T>
join_handle<T> spawn(task<T> t, spawn_site site = spawn_site::current()) {
    detail::scheduler* s = detail::current_scheduler();
    if (!s) throw std::logic_error("corio::spawn called outside a corio runtime; use runtime_handle::spawn");
    return detail::spawn_on(s, std::move(t), site);
}

/// Spawns with options, as Tokio's task::Builder: `task_builder().name("writer").spawn(t)`. The
/// name shows in dumps (runtime_options::enable_task_registry); without the registry it is
/// dropped.
class task_builder {
public:
    /// The task's name in dumps.
    task_builder& name(std::string n) & noexcept {
        name_ = std::move(n);
        return *this;
    }
    /// The task's name in dumps (on a temporary builder).
    task_builder&& name(std::string n) && noexcept {
        name_ = std::move(n);
        return std::move(*this);
    }

    /// Onto the calling worker's runtime; throws std::logic_error outside a runtime.
    template <class T>
    join_handle<T> spawn(task<T> t, spawn_site site = spawn_site::current()) const {
        detail::scheduler* s = detail::current_scheduler();
        if (!s) throw std::logic_error("corio::task_builder::spawn called outside a corio runtime; use spawn_on");
        return detail::spawn_on(s, std::move(t), site, name_);
    }
    /// Onto `rt`, from any thread.
    template <class T>
    join_handle<T> spawn_on(const runtime_handle& rt, task<T> t, spawn_site site = spawn_site::current()) const {
        return detail::spawn_on(rt.sched_, std::move(t), site, name_);
    }

private:
    std::string name_;
};

}  // namespace corio

template <>
struct fmt::formatter<corio::runtime_flavor> : fmt::formatter<std::string_view> {
    template <class FormatContext>
    auto format(corio::runtime_flavor f, FormatContext& ctx) const {
        const std::string_view name = f == corio::runtime_flavor::current_thread ? "current_thread" : "multi_thread";
        return fmt::formatter<std::string_view>::format(name, ctx);
    }
};

// The hooks (on_thread_start/stop, unhandled_exception) are code, not settings: not printed.
template <>
struct fmt::formatter<corio::runtime_options> {
    constexpr auto parse(fmt::format_parse_context& ctx) { return ctx.begin(); }

    template <class FormatContext>
    auto format(const corio::runtime_options& o, FormatContext& ctx) const {
        auto out = fmt::format_to(ctx.out(), "flavor={}", o.flavor);
        if (o.flavor == corio::runtime_flavor::multi_thread) {
            if (o.worker_threads == 0) out = fmt::format_to(out, " workers=auto");
            else out = fmt::format_to(out, " workers={}", o.worker_threads);
        }
        out = fmt::format_to(out,
                              " thread_name={} max_blocking_threads={} blocking_keep_alive={} global_queue_interval={}"
                              " event_interval={} lifo_slot={} start_paused={}",
                              o.thread_name, o.max_blocking_threads, corio::readable(o.blocking_keep_alive),
                              o.global_queue_interval, o.event_interval, o.disable_lifo_slot ? "off" : "on",
                              o.start_paused ? "yes" : "no");
        if (o.enable_poll_time_histogram) out = fmt::format_to(out, " poll_time_histogram=on");
        return out;
    }
};
