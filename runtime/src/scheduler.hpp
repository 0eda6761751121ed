// scheduler: the work-stealing multi-thread scheduler (and, with one thread-less worker, the
// current_thread flavour). Tokio's runtime/scheduler/multi_thread/worker.rs, in C++.
//
// Where a notified task goes (schedule):
//   1. Woken or spawned by a task running on one of our workers: that worker's LIFO slot; the
//      previous occupant moves to the back of the local queue, and only then is a parked worker
//      notified (a LIFO hand-off stays on this core, docs/design/platform.md: waking the other core costs ~23 µs).
//   2. A yield (or a wake of the running task itself): the back of the local queue.
//   3. From any other thread, or from a worker that is parked in its driver: the inject queue,
//      then a parked worker is notified.
//
// A worker's loop (worker::run):
//   1. Every global_queue_interval ticks, take from the inject queue first, so it can't starve.
//   2. Otherwise the LIFO slot (at most 3 in a row, so ping-pong pairs can't starve the queue),
//      the local queue, then the inject queue.
//   3. Nothing local: become a searcher (at most half the workers) and steal half of a random
//      victim's queue, then look at the inject queue.
//   4. Nothing anywhere: park in the driver (idle.hpp has the no-lost-wake-up protocol).
//
// Shutdown protocol (scheduler::shutdown):
//   1. Set shutdown_, close the inject queue (later pushes drop their notification) and unpark
//      every worker; each leaves its loop at the next tick.
//   2. Join the worker threads; current_thread: wait for the block_on thread driving worker 0 to
//      leave it (it does at its next tick) and keep it for good. From here no task is running.
//   3. Close the owned list and cancel every task still in it on this thread: its frame is
//      destroyed, its destructors run (they may wake or spawn: wakes are dropped by the closed
//      inject queue, spawns are cancelled by the closed owned list), and its join_handle gets
//      join_error::cancelled.
//   4. Drop the notifications still in local queues and LIFO slots.
//   5. Shut down the blocking pool, waiting up to the timeout.
#pragma once

#include "blocking_pool.hpp"
#include "idle.hpp"
#include "inject_queue.hpp"
#include "local_queue.hpp"
#include "local_owned.hpp"
#include "owned_tasks.hpp"
#include "parker.hpp"
#include "task_registry.hpp"
#include "time/time_driver.hpp"
#include "worker_stats.hpp"

#include <corio/runtime/runtime.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace corio::detail {

namespace io {
class reactor;  // io/reactor.hpp
}  // namespace io

class scheduler;

// The waker of a plain thread blocked in block_on or a blocking_ call. Refcounted: a leaf may keep
// a clone after the wait ended (a join handle's waker lives until the task is freed).
//
// notified_: 0 or 1. Set to 1 by notify() (any thread, seq_cst: it also releases what the waker
//            published before waking); cleared only by the owner thread, which then polls.
// driving_:  written only by the owner: true while it drives a current_thread runtime, i.e. waits
//            for notified_ in worker 0's loop and parks, if at all, in drive_'s driver; false
//            while it waits on the futex of notified_ (or does neither). drive_ is dereferenced
//            only by a notify that read driving_ as true, i.e. during (or racing with the end
//            of) the owner's drive; worker 0's parker lives as long as the scheduler, which the
//            waking leaf (block_on's join handle: its task) keeps alive.
// Ordering:  notify() stores notified_ then loads driving_; the owner stores driving_ then loads
//            (or exchanges) notified_; all seq_cst, a Dekker pair: a notify that reads the old
//            driving_ is seen by the owner's next read of notified_, so it wakes whichever way
//            the owner waits (the futex or the parker); neither can miss it.
class thread_notifier {
public:
    static thread_notifier* create(parker* drive) { return new thread_notifier(drive); }
    static const waker_vtable vtable;
    void notify() noexcept;
    void wait() noexcept;  // owner, not driving: blocks until notified, and clears notified_
    void release() noexcept;

    std::atomic<std::uint32_t> notified_{0};
    std::atomic<bool> driving_{false};
    std::atomic<std::uint32_t> refs_{1};

private:
    explicit thread_notifier(parker* drive) noexcept : drive_(drive) {}
    parker* const drive_;  // current_thread: worker 0's parker, unparked while the owner drives
};

class worker {
public:
    worker(scheduler& s, std::size_t index);

    // This worker's io reactor (the inner driver it parks in); io operations polled on this
    // worker's thread use it (io::current_reactor).
    io::reactor& reactor() const noexcept { return *reactor_; }

    void run();                                      // a multi_thread worker thread's body
    void run_until(const std::atomic<std::uint32_t>& stop);  // current_thread: block_on drives
    void schedule_local(task_header* t, bool is_yield) noexcept;
    void schedule_while_parked(task_header* t) noexcept;
    void drain_for_shutdown() noexcept;
    worker_metrics metrics() const;  // any thread

    scheduler& sched_;
    const std::size_t index_;
    local_queue run_queue_;
    local_owned owned_;  // tasks spawned on this worker (local_owned.hpp)
    io::reactor* const reactor_;  // owned by parker_ (its time_driver's inner driver)
    parker parker_;
    worker_stats stats_;  // written by this worker's thread only (worker_stats.hpp)
    const bool time_polls_;  // runtime_options::enable_poll_time_histogram
    // Owned by this worker's thread:
    task_header* lifo_slot_ = nullptr;
    bool is_searching_ = false;
    bool is_parked_ = false;  // inside the driver: wakes from here are queued without notifying
    std::uint32_t tick_ = 0;
    unsigned budget_ = 0;
    std::int64_t task_refs_ = 0;  // tasks spawned minus freed on this worker (scheduler::refs_)
    std::uint32_t rng_;
    // Tasks that yielded (a wake of the running task itself: yield_now, a spent coop budget),
    // Tokio's `defer`: they wait here, FIFO through queue_next_, not in the run queue, until this
    // worker runs out of local work or reaches a maintenance tick. A yielding producer thus lets
    // the tasks it woke run first on this worker, and another worker cannot steal the producer
    // away meanwhile and turn a hand-off into a cross-core ping-pong (watch_updates).
    task_header* deferred_head_ = nullptr;
    task_header* deferred_tail_ = nullptr;

private:
    worker(scheduler& s, std::size_t index, std::unique_ptr<io::reactor> r);
    bool flush_deferred() noexcept;  // moves deferred tasks to the back of the run queue
    bool tick_once(const std::atomic<std::uint32_t>* stop);
    task_header* next_task() noexcept;
    task_header* next_local_task() noexcept;
    task_header* steal_work() noexcept;
    task_header* spin_for_work(const std::atomic<std::uint32_t>* stop) noexcept;
    void run_task(task_header* t) noexcept;
    void park(const std::atomic<std::uint32_t>* stop, bool spun);
    bool transition_from_parked(const std::atomic<std::uint32_t>* stop);
    void transition_from_searching() noexcept;
    std::uint32_t next_random() noexcept;
    void push_local(task_header* t) noexcept;  // run_queue_.push_back, counting an overflow
    void poll_task(task_header* t) noexcept;   // t->run, counted (and timed if asked)
};

class scheduler final : public scheduler_base {
public:
    explicit scheduler(runtime_options opts);
    ~scheduler();

    void start();
    void spawn(task_header* t, const spawn_site& site, std::string_view name) noexcept;
    void schedule(task_header* t, bool is_yield) noexcept override;
    bool release(task_header* t) noexcept override;
    void report_unhandled(std::exception_ptr e) noexcept override;
    void task_retained() noexcept;
    void task_freed() noexcept override;
    void block_on(leaf& l);  // block_on.cpp
    void shutdown(std::optional<std::chrono::nanoseconds> timeout);

    void notify_parked() noexcept;
    void notify_if_work_pending() noexcept;
    runtime_metrics metrics();  // any thread (metrics.cpp)
    runtime_dump dump();        // any thread (dump.cpp)
    // Every worker parked and no task queued (inject queue, run queues): the paused clock may
    // auto-advance. Any thread. A parked worker's LIFO slot is empty (park() leaves it only with
    // the slot empty, and its driver queues wakes into the run queue, schedule_while_parked).
    bool is_quiescent() const noexcept;
    // The paused clock may auto-advance: quiescent, and no spawn_blocking job queued or running
    // (Tokio's inhibit_auto_advance): the runtime then waits for the job, not for a timer. The
    // pool is read on both sides of the queue scan (blocking_pool.cpp, state::outstanding).
    bool can_auto_advance() const noexcept { return blocking_.is_idle() && is_quiescent() && blocking_.is_idle(); }
    bool is_shutdown() const noexcept { return shutdown_.load(std::memory_order_acquire); }

    void retain() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
    void release_ref() noexcept {
        // Acquire on flushed_ comes with the acq_rel RMW chain on refs_ (see refs_).
        if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1 && flushed_.load(std::memory_order_acquire))
            delete this;
    }
    // Runtime destruction, after shutdown: folds the workers' task counts into refs_ and drops
    // the runtime's reference.
    void release_runtime_ref() noexcept;

    const runtime_options opts_;
    const bool current_thread_;
    time_handle time_;  // the timer wheel and clock; each worker's driver is a time_driver over it
    // State the workers' io drivers share (the epoll backend's readiness set); set by the first.
    std::shared_ptr<void> io_group_;
    std::vector<std::unique_ptr<worker>> workers_;
    inject_queue inject_;
    idle idle_;
    owned_tasks owned_;
    blocking_pool blocking_;
    // runtime_options::enable_task_registry; null when off. Lifetime: the scheduler's, so a task
    // completing after the runtime object is gone still finds it.
    const std::unique_ptr<task_registry> registry_;

private:
    std::atomic<bool> shutdown_{false};
    bool workers_joined_ = false;  // set by shutdown after the join; then this thread owns every local list
    bool shut_down_done_ = false;  // guarded by shutdown_mutex_
    std::mutex shutdown_mutex_;

    // current_thread: the right to run worker 0 (Tokio's Core). One block_on thread at a time
    // holds it: it runs the tasks and parks in worker 0's driver until its own future is ready,
    // then gives it back. Every other block_on thread polls its own future (its task runs on the
    // holder's thread) and waits on its own notifier, listed in core_waiters_ so that it is woken
    // to take the core over when the holder leaves. Shutdown waits for the holder to leave and
    // then keeps the core for good (block_on.cpp has the protocol).
    void block_on_current_thread(leaf& l, thread_notifier& n, context& cx);
    bool drive(leaf& l, thread_notifier& n, context& cx);  // holding the core: true if l is ready
    void release_core() noexcept;
    void take_core_for_shutdown() noexcept;
    std::mutex core_mutex_;
    std::condition_variable core_released_;       // core_taken_ went false (shutdown waits for it)
    bool core_taken_ = false;                     // guarded by core_mutex_
    std::vector<thread_notifier*> core_waiters_;  // guarded by core_mutex_; each notified once when the core is released
    std::vector<std::thread> threads_;
    std::atomic<std::uint64_t> next_id_{1};
    // Completions recorded off the workers (tasks cancelled by shutdown, after the join); a
    // worker's own go to its stats_.completed. Relaxed: a statistic.
    std::atomic<std::uint64_t> completed_elsewhere_{0};
    // Lifetime: the scheduler's memory outlives the runtime object while a join_handle or a
    // runtime_handle still refers to it. Its references are 1 (the runtime) + runtime_handles +
    // live task headers. Tasks spawned and freed on a worker are counted in that worker's
    // task_refs_ (no shared cache line per spawn); those spawned or freed elsewhere in refs_. So
    // refs_ alone may reach zero, or go negative, while the runtime lives: nothing is freed until
    // the runtime, after joining its workers, adds their counts in and sets flushed_. From then on
    // refs_ is exact, and the release that takes it to zero frees the scheduler.
    std::atomic<std::int64_t> refs_{1};
    std::atomic<bool> flushed_{false};
};

// The worker whose thread is calling, or null. Not inline: clang may cache a thread_local's
// address across a coroutine suspension (docs/design/task-model.md, "thread_local across a suspension").
worker* current_worker() noexcept;

}  // namespace corio::detail
