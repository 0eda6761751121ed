#include "scheduler.hpp"

#include "io/reactor.hpp"

#include <corio/runtime/spawn_blocking.hpp>

#include <fmt/format.h>
#include <pthread.h>
#include <sys/prctl.h>

#include <cstdio>
#include <stdexcept>

namespace corio::detail {

namespace {

thread_local worker* t_current_worker = nullptr;

// How many LIFO-slot tasks a worker runs in a row before it takes from its queue again:
// ping-pong pairs would otherwise starve every other task (tokio#5712).
constexpr unsigned max_lifo_polls = 3;
// Leaf polls a task may complete per run before it is made to yield (tokio coop.rs).
constexpr unsigned coop_budget = 128;
// How long the searching worker keeps looking for work before it parks: rounds of
// search_spin_pauses pauses and one steal attempt, ~8 µs here (a pause is ~27 ns on these EPYC
// vCPUs, ~40 ns on recent Intel). Parking and being woken costs ~23 µs (docs/design/platform.md); spinning for
// less than that wins whenever work arrives within it and wastes at most the spin otherwise.
constexpr unsigned search_spin_rounds = 16;
constexpr unsigned search_spin_pauses = 16;

class current_worker_scope {
public:
    explicit current_worker_scope(worker* w) noexcept : prev_(t_current_worker) { t_current_worker = w; }
    ~current_worker_scope() { t_current_worker = prev_; }

private:
    worker* prev_;
};

}  // namespace

[[gnu::noinline]] worker* current_worker() noexcept { return t_current_worker; }

// --- worker -------------------------------------------------------------------------------

worker::worker(scheduler& s, std::size_t index) : worker(s, index, io::make_reactor(s.current_thread_, s.io_group_)) {}

// The reactor is the inner driver of the worker's parker, which owns it; reactor_ is read before
// the move (it is declared, so initialized, before parker_).
worker::worker(scheduler& s, std::size_t index, std::unique_ptr<io::reactor> r)
    : sched_(s), index_(index), reactor_(r.get()), parker_(std::make_unique<time_driver>(s.time_, std::move(r))),
      time_polls_(s.opts_.enable_poll_time_histogram),
      rng_(static_cast<std::uint32_t>(0x9E3779B9u * (index + 1))) {}

std::uint32_t worker::next_random() noexcept {
    // xorshift32: the steal start only needs to differ between workers and over time.
    rng_ ^= rng_ << 13;
    rng_ ^= rng_ >> 17;
    rng_ ^= rng_ << 5;
    return rng_;
}

void worker::run() {
    current_worker_scope scope(this);
    // Timer slack: a parked worker's timed wait would otherwise fire up to 50 µs late.
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
    if (sched_.opts_.on_thread_start) sched_.opts_.on_thread_start();
    while (!sched_.is_shutdown()) tick_once(nullptr);
    if (sched_.opts_.on_thread_stop) sched_.opts_.on_thread_stop();
}

void worker::run_until(const std::atomic<std::uint32_t>& stop) {
    current_worker_scope scope(this);
    while (!stop.load(std::memory_order_acquire) && !sched_.is_shutdown()) tick_once(&stop);
}

bool worker::tick_once(const std::atomic<std::uint32_t>* stop) {
    ++tick_;
    if (owned_.has_remote()) owned_.drain_remote();
    if (tick_ % sched_.opts_.event_interval == 0) {
        // Maintenance: let the driver process timers and io without blocking, so they are not
        // starved by a worker that always has tasks.
        parker_.get_driver().park(std::chrono::nanoseconds(0));
        flush_deferred();
    }
    if (task_header* t = next_task()) {
        run_task(t);
        return true;
    }
    // Out of local work: tasks that yielded run now, before we steal or park.
    if (flush_deferred()) return true;
    if (task_header* t = steal_work()) {
        run_task(t);
        return true;
    }
    const bool spun = is_searching_;
    if (task_header* t = spin_for_work(stop)) {
        run_task(t);
        return true;
    }
    park(stop, spun);
    return false;
}

task_header* worker::next_local_task() noexcept {
    if (lifo_slot_) return std::exchange(lifo_slot_, nullptr);
    return run_queue_.pop();
}

task_header* worker::next_task() noexcept {
    if (tick_ % sched_.opts_.global_queue_interval == 0) {
        if (task_header* t = sched_.inject_.pop()) return t;
        return next_local_task();
    }
    if (task_header* t = next_local_task()) return t;
    return sched_.inject_.pop();
}

task_header* worker::steal_work() noexcept {
    const std::size_t n = sched_.workers_.size();
    if (n > 1) {
        if (!is_searching_) is_searching_ = sched_.idle_.transition_worker_to_searching();
        if (!is_searching_) return nullptr;
        const std::size_t start = next_random() % n;
        for (std::size_t i = 0; i < n; ++i) {
            const std::size_t victim = (start + i) % n;
            if (victim == index_) continue;
            const std::uint32_t before = run_queue_.len();
            if (task_header* t = sched_.workers_[victim]->run_queue_.steal_into(run_queue_)) {
                stats_.steal_operations.add();
                stats_.stolen_tasks.add(1 + run_queue_.len() - before);
                return t;
            }
        }
    }
    return sched_.inject_.pop();
}

task_header* worker::spin_for_work(const std::atomic<std::uint32_t>* stop) noexcept {
    // Only the searcher spins (at most half the workers: idle.hpp rule 1), and it spins while
    // still counted as searching: meanwhile a worker that queues work skips the idle mutex and
    // the unpark (idle.hpp rule 2), and the work crosses over by a steal. Spinning in the parker
    // instead (counted as parked) made every hand-off pay the mutex, the unpark and a park cycle:
    // select_two and spawn_many ran ~1.5x slower.
    if (!is_searching_ || parker_.get_driver().io_pending()) return nullptr;
    for (unsigned round = 0; round < search_spin_rounds; ++round) {
        for (unsigned i = 0; i < search_spin_pauses; ++i) cpu_relax();
        if (sched_.is_shutdown() || (stop && stop->load(std::memory_order_acquire))) return nullptr;
        if (task_header* t = steal_work()) return t;
    }
    return nullptr;
}

void worker::transition_from_searching() noexcept {
    if (!is_searching_) return;
    is_searching_ = false;
    // The last searcher found work: wake another worker to search in its place, so that work
    // arriving meanwhile is picked up (idle.hpp rule 3).
    if (sched_.idle_.transition_worker_from_searching()) sched_.notify_parked();
}

void worker::poll_task(task_header* t) noexcept {
    stats_.polls.add();
    if (!time_polls_) [[likely]] {
        t->run(&budget_);
        return;
    }
    const auto start = std::chrono::steady_clock::now();
    t->run(&budget_);
    stats_.record_poll_time(std::chrono::steady_clock::now() - start);
}

void worker::push_local(task_header* t) noexcept {
    if (run_queue_.push_back(t, sched_.inject_)) stats_.overflows.add();
}

void worker::run_task(task_header* t) noexcept {
    transition_from_searching();
    budget_ = coop_budget;
    poll_task(t);
    // The LIFO slot shares the budget of the task that filled it: a ping-pong pair cannot
    // reset its budget by bouncing through the slot.
    for (unsigned polls = 0; lifo_slot_; ++polls) {
        task_header* next = std::exchange(lifo_slot_, nullptr);
        if (budget_ == 0 || polls >= max_lifo_polls) {
            // To the back of our own queue, without waking another worker (as Tokio): this worker
            // runs it next tick, and a chain of hand-offs (chained spawns, ping-pong) would
            // otherwise pay a cross-core unpark every few links.
            push_local(next);
            break;
        }
        stats_.lifo_polls.add();
        poll_task(next);
    }
}

bool worker::flush_deferred() noexcept {
    if (!deferred_head_) return false;
    task_header* t = std::exchange(deferred_head_, nullptr);
    deferred_tail_ = nullptr;
    while (t) {
        task_header* next = std::exchange(t->queue_next_, nullptr);
        push_local(t);
        t = next;
    }
    // Other workers may take some of them now.
    sched_.notify_parked();
    return true;
}

void worker::schedule_local(task_header* t, bool is_yield) noexcept {
    stats_.local_schedules.add();
    bool should_notify;
    if (is_yield) {
        t->queue_next_ = nullptr;
        if (deferred_tail_) deferred_tail_->queue_next_ = t;
        else deferred_head_ = t;
        deferred_tail_ = t;
        return;
    }
    if (sched_.opts_.disable_lifo_slot) {
        push_local(t);
        should_notify = true;
    } else {
        task_header* prev = std::exchange(lifo_slot_, t);
        should_notify = prev != nullptr;
        if (prev) push_local(prev);
    }
    if (should_notify) sched_.notify_parked();
}

void worker::schedule_while_parked(task_header* t) noexcept {
    // A wake from this worker's own driver (an io completion, a timer) while it parks. Queued
    // here, without notifying anyone per task: the worker runs it as soon as the driver returns,
    // and then notifies once if it has more than one task (park below; Tokio's
    // should_notify_others). Notifying per wake made an http server write an eventfd to the other
    // worker for nearly every request. FIFO, not the LIFO slot: the timers and completions of
    // one park run in the order they fired (as they did through the inject queue).
    push_local(t);
}

void worker::park(const std::atomic<std::uint32_t>* stop, bool spun) {
    if (lifo_slot_ || run_queue_.has_tasks() || deferred_head_) return;
    // Tasks of ours that completed elsewhere: free them before sleeping (local_owned.hpp rule 2).
    owned_.drain_remote();
    const bool last_searcher = sched_.idle_.transition_worker_to_parked(index_, is_searching_);
    is_searching_ = false;
    // The last searcher re-checks every queue (idle.hpp rule 3). So does a lone worker (one
    // worker, or current_thread), which never searches: a task pushed to the inject queue while
    // it was on its way here saw it still unparked and notified nobody.
    if (last_searcher || sched_.workers_.size() == 1) sched_.notify_if_work_pending();
    is_parked_ = true;
    // A worker that just spun searching does not spin again in the parker.
    for (bool spin = !spun; !sched_.is_shutdown(); spin = true) {
        stats_.parking();
        parker_.park(std::nullopt, spin);
        stats_.unparked();
        if (transition_from_parked(stop)) break;
        stats_.unparks_without_work.add();
    }
    is_parked_ = false;
    // Work for more than this worker (queued by its driver meanwhile): one notification.
    if (!is_searching_ && (lifo_slot_ ? 1 : 0) + run_queue_.len() > 1) sched_.notify_parked();
}

bool worker::transition_from_parked(const std::atomic<std::uint32_t>* stop) {
    const bool stopping = stop && stop->load(std::memory_order_acquire);
    if (stopping || lifo_slot_ || run_queue_.has_tasks()) {
        // Woken for our own reasons (our driver queued tasks here): count ourselves unparked,
        // unless worker_to_notify picked us meanwhile, which counted us unparked and searching.
        if (sched_.idle_.unpark_worker_by_id(index_)) return true;
    } else if (sched_.idle_.is_parked(index_)) {
        return false;  // spurious, or a timer: park again
    }
    // worker_to_notify picked us and counted us as searching: we are, until we run a task
    // (transition_from_searching). Leaving the count would keep num_searching above 0 for good,
    // and idle.hpp rule 2 would then silence every later notification.
    is_searching_ = sched_.workers_.size() > 1;
    if (!is_searching_) sched_.idle_.transition_worker_from_searching();
    return true;
}

void worker::drain_for_shutdown() noexcept {
    for (task_header* t = std::exchange(deferred_head_, nullptr); t;) {
        task_header* next = std::exchange(t->queue_next_, nullptr);
        t->drop_notification();
        t = next;
    }
    deferred_tail_ = nullptr;
    if (task_header* t = std::exchange(lifo_slot_, nullptr)) t->drop_notification();
    while (task_header* t = run_queue_.pop()) t->drop_notification();
}

// --- scheduler ----------------------------------------------------------------------------

namespace {
std::size_t worker_count_for(const runtime_options& o) {
    if (o.flavor == runtime_flavor::current_thread) return 1;
    if (o.worker_threads > 0) return o.worker_threads;
    unsigned n = std::thread::hardware_concurrency();
    return n == 0 ? 1 : n;
}

runtime_options validated(runtime_options o) {
    if (o.global_queue_interval == 0) o.global_queue_interval = 1;
    if (o.event_interval == 0) o.event_interval = 1;
    return o;
}
}  // namespace

scheduler::scheduler(runtime_options opts)
    : opts_(validated(std::move(opts))),
      current_thread_(opts_.flavor == runtime_flavor::current_thread),
      time_(opts_.start_paused, this),
      idle_(worker_count_for(opts_)),
      blocking_(opts_.max_blocking_threads, opts_.blocking_keep_alive, opts_.thread_name + "-blk"),
      registry_(opts_.enable_task_registry ? std::make_unique<task_registry>() : nullptr) {
    const std::size_t n = worker_count_for(opts_);
    workers_.reserve(n);
    for (std::size_t i = 0; i < n; ++i) workers_.push_back(std::make_unique<worker>(*this, i));
}

scheduler::~scheduler() = default;

void scheduler::start() {
    if (current_thread_) return;
    threads_.reserve(workers_.size());
    for (auto& w : workers_) {
        threads_.emplace_back([this, wp = w.get()] {
            std::string name = fmt::format("{}-{}", opts_.thread_name, wp->index_);
            if (name.size() > 15) name.resize(15);
            pthread_setname_np(pthread_self(), name.c_str());
            wp->run();
        });
    }
}

void scheduler::spawn(task_header* t, const spawn_site& site, std::string_view name) noexcept {
    t->scheduler_ = this;
    t->id_ = next_id_.fetch_add(1, std::memory_order_relaxed);
    task_retained();  // released by task_freed()
    if (registry_) {
        try {
            registry_->add(t, site, name);
        } catch (...) {
            // Out of memory for the record: the task runs, unlisted in dumps.
        }
    }
    worker* w = current_worker();
    if (w && &w->sched_ == this && !is_shutdown()) {
        t->owner_ = static_cast<std::int32_t>(w->index_);
        w->owned_.bind(t);
        schedule(t, false);
        return;
    }
    if (!owned_.bind(t)) {
        // Shutting down: the task is cancelled before it ever runs. It has the initial 3 refs:
        // drop the first notification's, then shut it down with the owned list's.
        t->drop_notification();
        t->shutdown();
        return;
    }
    schedule(t, false);
}

void scheduler::schedule(task_header* t, bool is_yield) noexcept {
    worker* w = current_worker();
    if (w && &w->sched_ == this && !is_shutdown()) {
        if (w->is_parked_) w->schedule_while_parked(t);
        else w->schedule_local(t, is_yield);
        return;
    }
    if (w && &w->sched_ == this) {
        // One of our workers, shutting down: the scheduler outlives its workers.
        if (inject_.push(t)) notify_parked();
        return;
    }
    // Any other thread (a blocking-pool job, the signal dispatcher, a plain thread). Once pushed,
    // the task's notification belongs to the queue, and a concurrent shutdown may drop it, free
    // the last task and with it the scheduler, while we still notify: hold a reference for the
    // duration. A refused push (queue closed) dropped the notification already.
    retain();
    if (inject_.push(t)) notify_parked();
    release_ref();
}

bool scheduler::release(task_header* t) noexcept {
    if (t->record_) registry_->remove(t);
    // One call per completed task: metrics' alive_tasks is spawned minus these.
    worker* w = current_worker();
    if (w && &w->sched_ == this) w->stats_.completed.add();
    else completed_elsewhere_.fetch_add(1, std::memory_order_relaxed);
    if (t->owner_ < 0) return owned_.remove(t);
    worker& owner = *workers_[static_cast<std::size_t>(t->owner_)];
    if (t->owned_index_ == local_owned::unbound) return false;  // popped by shutdown
    if (w == &owner || workers_joined_) {
        owner.owned_.unbind(t);
        return true;
    }
    // Completed away from its owner: the owner unbinds it and drops the list's reference.
    owner.owned_.push_remote(t);
    return false;
}

void scheduler::task_retained() noexcept {
    worker* w = current_worker();
    if (w && &w->sched_ == this) ++w->task_refs_;
    else retain();
}

void scheduler::task_freed() noexcept {
    worker* w = current_worker();
    if (w && &w->sched_ == this) --w->task_refs_;
    else release_ref();
}

void scheduler::release_runtime_ref() noexcept {
    std::int64_t local = 0;
    for (auto& w : workers_) local += std::exchange(w->task_refs_, 0);
    refs_.fetch_add(local, std::memory_order_relaxed);
    flushed_.store(true, std::memory_order_release);
    release_ref();
}

void scheduler::notify_parked() noexcept {
    if (auto w = idle_.worker_to_notify()) workers_[*w]->parker_.unpark();
}

bool scheduler::is_quiescent() const noexcept {
    // Queues first, then the parked count. A parked worker whose driver queued a task counts
    // itself unparked (seq_cst RMW) before it pops the task (acq_rel CAS), so a reader that sees
    // the queue emptied by that pop sees the count raised too. In the other order a reader could
    // see the count before the raise and the queue after the pop: "quiescent" while the task
    // runs (the paused clock then jumped past a timer that task was about to set or log).
    if (!inject_.is_empty()) return false;
    for (const auto& w : workers_)
        if (w->run_queue_.has_tasks()) return false;
    std::atomic_thread_fence(std::memory_order_seq_cst);
    return idle_.num_unparked() == 0;
}

void scheduler::notify_if_work_pending() noexcept {
    // Pairs with the fence in idle::notify_should_wakeup (idle.hpp, Ordering).
    std::atomic_thread_fence(std::memory_order_seq_cst);
    for (auto& w : workers_) {
        if (w->run_queue_.has_tasks()) {
            notify_parked();
            return;
        }
    }
    if (!inject_.is_empty()) notify_parked();
}

void scheduler::report_unhandled(std::exception_ptr e) noexcept {
    if (opts_.unhandled_exception) {
        try {
            opts_.unhandled_exception(e);
        } catch (...) {
        }
        return;
    }
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& ex) {
        fmt::print(stderr, "corio: unhandled exception in a detached task: {}\n", ex.what());
    } catch (...) {
        fmt::print(stderr, "corio: unhandled exception in a detached task (not a std::exception)\n");
    }
}

void scheduler::shutdown(std::optional<std::chrono::nanoseconds> timeout) {
    if (worker* w = current_worker(); w && &w->sched_ == this)
        throw std::logic_error("corio: runtime::shutdown called from one of the runtime's own workers (it would wait for itself)");
    std::lock_guard lock(shutdown_mutex_);
    if (shut_down_done_) return;
    shut_down_done_ = true;
    // 1.
    shutdown_.store(true, std::memory_order_release);
    inject_.close();
    for (auto& w : workers_) w->parker_.unpark();
    // 2.
    for (auto& t : threads_) t.join();
    threads_.clear();
    if (current_thread_) take_core_for_shutdown();
    // 3.
    workers_joined_ = true;
    owned_.close();
    for (auto& w : workers_) w->owned_.drain_remote();
    for (auto& w : workers_)
        while (task_header* t = w->owned_.pop_any()) t->shutdown();
    while (task_header* t = owned_.pop_front()) t->shutdown();
    // 4.
    for (auto& w : workers_) w->drain_for_shutdown();
    while (task_header* t = inject_.pop()) t->drop_notification();
    // The drivers finish their in-flight io (cancelled above): each completion drops a waker,
    // i.e. a task reference, and a task reference keeps this scheduler alive.
    for (auto& w : workers_) w->parker_.get_driver().shutdown();
    // 5.
    blocking_.shutdown(timeout);
}

}  // namespace corio::detail

// --- the public face ------------------------------------------------------------------------

namespace corio {

namespace detail {
void scheduler_spawn(scheduler* s, task_header* t, const spawn_site& site, std::string_view name) noexcept {
    s->spawn(t, site, name);
}
scheduler* current_scheduler() noexcept {
    worker* w = current_worker();
    return w ? &w->sched_ : nullptr;
}
void scheduler_retain(scheduler* s) noexcept { s->retain(); }
void scheduler_release(scheduler* s) noexcept { s->release_ref(); }
void scheduler_block_on(scheduler* s, leaf& l) { s->block_on(l); }
bool scheduler_spawn_blocking(scheduler* s, std::unique_ptr<blocking_job> job) { return s->blocking_.spawn(std::move(job)); }

}  // namespace detail

runtime::runtime(runtime_options opts) : sched_(new detail::scheduler(std::move(opts))) { sched_->start(); }

runtime::~runtime() {
    sched_->shutdown(std::nullopt);
    sched_->release_runtime_ref();
}

void runtime::shutdown(std::chrono::nanoseconds timeout) { sched_->shutdown(timeout); }

std::size_t runtime::worker_count() const noexcept { return sched_->workers_.size(); }

runtime_handle runtime_handle::current() {
    detail::scheduler* s = detail::current_scheduler();
    if (!s) throw std::logic_error("corio::runtime_handle::current called outside a corio runtime");
    return runtime_handle(s);
}

}  // namespace corio
