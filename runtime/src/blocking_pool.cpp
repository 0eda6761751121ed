#include "blocking_pool.hpp"

#include <pthread.h>

#include <atomic>
#include <thread>

namespace corio::detail {

struct blocking_pool::state {
    std::mutex mutex;
    std::condition_variable work_cv;  // jobs queued or shutdown
    std::condition_variable exit_cv;  // a thread exited
    std::deque<std::unique_ptr<blocking_job>> queue;  // guarded by mutex
    std::size_t threads = 0;                           // guarded by mutex
    std::size_t idle = 0;                              // guarded by mutex
    bool shutdown = false;                             // guarded by mutex
    std::size_t max_threads;
    std::chrono::milliseconds keep_alive;
    std::string thread_name;
    // Jobs accepted by spawn and not yet finished (queued or running). Raised by spawn as it
    // queues the job (under mutex, so before any thread can take it); lowered after the job has
    // run and been destroyed, i.e. after it woke its waiter (blocking_call::run sets the outcome
    // and wakes inside run()). Seq_cst, read by the paused clock's auto-advance
    // (scheduler::can_auto_advance) on both sides of its queue scan: a 0 read before the scan
    // shows the woken task queued (the wake precedes the lowering); a 0 read after it covers a
    // job spawned by a task whose worker has since parked (the raise precedes the park's seq_cst
    // count).
    std::atomic<std::size_t> outstanding{0};
};

blocking_pool::blocking_pool(std::size_t max_threads, std::chrono::milliseconds keep_alive, std::string thread_name)
    : state_(std::make_shared<state>()) {
    state_->max_threads = max_threads == 0 ? 1 : max_threads;
    state_->keep_alive = keep_alive;
    state_->thread_name = std::move(thread_name);
}

blocking_pool::~blocking_pool() { shutdown(std::nullopt); }

bool blocking_pool::spawn(std::unique_ptr<blocking_job> job) {
    std::unique_lock lock(state_->mutex);
    if (state_->shutdown) {
        lock.unlock();
        job.reset();
        return false;
    }
    state_->queue.push_back(std::move(job));
    state_->outstanding.fetch_add(1, std::memory_order_seq_cst);  // under mutex: before any thread pops it
    if (state_->idle > 0) {
        state_->work_cv.notify_one();
    } else if (state_->threads < state_->max_threads) {
        ++state_->threads;
        try {
            std::thread(thread_main, state_).detach();
        } catch (...) {
            // Out of threads: the job waits for a running thread; with none, it runs at shutdown.
            --state_->threads;
        }
    }
    return true;
}

void blocking_pool::thread_main(std::shared_ptr<state> st) {
    pthread_setname_np(pthread_self(), st->thread_name.substr(0, 15).c_str());
    std::unique_lock lock(st->mutex);
    for (;;) {
        if (!st->queue.empty()) {
            auto job = std::move(st->queue.front());
            st->queue.pop_front();
            lock.unlock();
            job->run();
            job.reset();
            st->outstanding.fetch_sub(1, std::memory_order_seq_cst);
            lock.lock();
            continue;
        }
        if (st->shutdown) break;
        ++st->idle;
        bool timed_out = !st->work_cv.wait_for(lock, st->keep_alive,
                                               [&] { return !st->queue.empty() || st->shutdown; });
        --st->idle;
        if (timed_out) break;  // retire after keep_alive without work
    }
    --st->threads;
    st->exit_cv.notify_all();
}

void blocking_pool::shutdown(std::optional<std::chrono::nanoseconds> timeout) {
    std::unique_lock lock(state_->mutex);
    state_->shutdown = true;
    state_->work_cv.notify_all();
    // Jobs queued with no thread to run them (thread creation failed) run here.
    while (state_->threads == 0 && !state_->queue.empty()) {
        auto job = std::move(state_->queue.front());
        state_->queue.pop_front();
        lock.unlock();
        job->run();
        job.reset();
        state_->outstanding.fetch_sub(1, std::memory_order_seq_cst);
        lock.lock();
    }
    auto done = [&] { return state_->threads == 0; };
    if (timeout) state_->exit_cv.wait_for(lock, *timeout, done);
    else state_->exit_cv.wait(lock, done);
}

bool blocking_pool::is_idle() const noexcept { return state_->outstanding.load(std::memory_order_seq_cst) == 0; }

std::size_t blocking_pool::thread_count() const {
    std::lock_guard lock(state_->mutex);
    return state_->threads;
}

blocking_pool::counts blocking_pool::count() const {
    std::lock_guard lock(state_->mutex);
    return {state_->threads, state_->idle, state_->queue.size()};
}

}  // namespace corio::detail
