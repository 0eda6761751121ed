// block_on: a plain thread waiting for a future (runtime::block_on, and the blocking_ twins through
// blocking_poll), and the thread_notifier that wakes it.
//
// Refusal: both wait by blocking their thread, so both refuse to run on a thread that runs some
// runtime's tasks (a worker of any runtime, or a thread inside a current_thread block_on, which
// drives that runtime's worker 0): blocking it would stall that runtime's other tasks, or deadlock
// it (Tokio: "Cannot start a runtime from within a runtime"). A spawn_blocking job's thread is not
// a worker: it may block_on.
//
// multi_thread: the workers run the task; block_on polls its join handle and waits on the futex.
//
// current_thread (Tokio's CoreGuard / take_core protocol): worker 0 has no thread; whoever holds
// the core (scheduler::core_taken_) runs it. block_on loops:
//   1. Poll the future; ready: return.
//   2. Under core_mutex_: shut down: refuse (below). Core free: take it, go to 3. Otherwise list
//      this thread's notifier in core_waiters_, wait on it (woken by its own future, or by the
//      holder giving the core back), unlist it, and go to 1.
//   3. Holding the core: driving_ = true, run worker 0 until the notifier fires (the future's
//      waker unparks worker 0's parker), poll, repeat until ready or shut down; driving_ = false;
//      give the core back, waking every listed waiter (one of them takes it over; the others,
//      and those whose futures are ready by now, go back to 1 or return). All of them, not one:
//      a single woken waiter whose future is ready would return and leave the others asleep with
//      tasks queued and nobody driving.
// So only one thread at a time runs tasks or parks in worker 0's driver; the others never wait
// for the holder to leave unless they need the driver.
//
// Shutdown from another thread (scheduler::shutdown step 2): the holder leaves worker 0's loop at
// its next tick (shutdown_ is set and its parker unparked), polls once more and gives the core
// back; shutdown waits for that (core_released_), then keeps the core for good and wakes the
// waiters. Only then does it drain worker 0's queues and owned list, which the holder's thread
// was using (draining them while the holder still ran tasks was the data race). A block_on whose
// future is not ready when it finds the runtime shut down throws std::logic_error (docs/runtime.md);
// one whose task the shutdown cancelled first returns, and runtime::block_on throws join_error.
#include "scheduler.hpp"

#include <algorithm>
#include <stdexcept>

namespace corio::detail {

namespace {
[[noreturn]] void throw_shut_down() {
    throw std::logic_error("corio: runtime shut down during block_on (current_thread): the future did not finish");
}
}  // namespace

void check_may_block_on() {
    if (current_worker())
        throw std::logic_error(
            "corio: Cannot start a runtime from within a runtime: block_on was called on a thread that runs a "
            "corio runtime's tasks (one of its workers, or a thread inside a current_thread block_on), which it "
            "would block; co_await the task instead");
}

void scheduler::block_on(leaf& l) {
    check_may_block_on();
    thread_notifier* n = thread_notifier::create(current_thread_ ? &workers_[0]->parker_ : nullptr);
    waker w(n, &thread_notifier::vtable);  // adopts the creation ref
    context cx(w.as_ref(), nullptr);
    if (current_thread_) {
        block_on_current_thread(l, *n, cx);
        return;
    }
    while (!l.poll(cx)) n->wait();
}

void scheduler::block_on_current_thread(leaf& l, thread_notifier& n, context& cx) {
    for (;;) {
        // 1.
        if (l.poll(cx)) return;
        // 2.
        enum class next { drive, wait, shut_down } what;
        {
            std::lock_guard lock(core_mutex_);
            // Read under core_mutex_: shutdown sets shutdown_ before it takes the core under this
            // mutex, so either we see it here, or we are listed before shutdown wakes the list.
            if (is_shutdown()) {
                what = next::shut_down;
            } else if (!core_taken_) {
                core_taken_ = true;
                what = next::drive;
            } else {
                core_waiters_.push_back(&n);
                what = next::wait;
            }
        }
        if (what == next::shut_down) {
            if (l.poll(cx)) return;  // its task was cancelled (or finished) meanwhile
            throw_shut_down();
        }
        if (what == next::wait) {
            n.wait();
            std::lock_guard lock(core_mutex_);
            std::erase(core_waiters_, &n);  // unless the holder's release took it out already
            continue;
        }
        // 3.
        if (drive(l, n, cx)) return;
        throw_shut_down();
    }
}

bool scheduler::drive(leaf& l, thread_notifier& n, context& cx) {
    // Gives the core back however we leave (an exception included): a core left taken would
    // hang every later block_on and the shutdown.
    struct core_guard {
        scheduler& s;
        thread_notifier& n;
        ~core_guard() {
            // Before the core goes: from here a notify futex-wakes us (the Dekker pair with
            // wait's exchange).
            n.driving_.store(false, std::memory_order_seq_cst);
            s.release_core();
        }
    } guard{*this, n};
    n.driving_.store(true, std::memory_order_seq_cst);
    // The owner's half of the Dekker pair (thread_notifier): a notify that read driving_ as false
    // stored notified_ before this load in the seq_cst order, so run_until's first check sees it
    // (read-read coherence); a later one reads driving_ as true and unparks worker 0's parker.
    (void)n.notified_.load(std::memory_order_seq_cst);
    for (;;) {
        workers_[0]->run_until(n.notified_);
        n.notified_.store(0, std::memory_order_relaxed);
        const bool ready = l.poll(cx);
        if (ready || is_shutdown()) return ready;
    }
}

void scheduler::release_core() noexcept {
    std::lock_guard lock(core_mutex_);
    core_taken_ = false;
    // Each listed notifier belongs to a thread inside block_on_current_thread, which unlists it
    // under this mutex before it can return: notifying under the mutex keeps it alive.
    for (thread_notifier* w : core_waiters_) w->notify();
    core_waiters_.clear();
    core_released_.notify_all();
}

void scheduler::take_core_for_shutdown() noexcept {
    std::unique_lock lock(core_mutex_);
    core_released_.wait(lock, [this] { return !core_taken_; });
    core_taken_ = true;  // for good: no block_on drives worker 0 again
    for (thread_notifier* w : core_waiters_) w->notify();
    core_waiters_.clear();
}

// --- thread_notifier --------------------------------------------------------------------------

const waker_vtable thread_notifier::vtable = {
    [](const void* p) noexcept -> const void* {
        static_cast<thread_notifier*>(const_cast<void*>(p))->refs_.fetch_add(1, std::memory_order_relaxed);
        return p;
    },
    [](const void* p) noexcept {
        auto* n = static_cast<thread_notifier*>(const_cast<void*>(p));
        n->notify();
        n->release();
    },
    [](const void* p) noexcept { static_cast<thread_notifier*>(const_cast<void*>(p))->notify(); },
    [](const void* p) noexcept { static_cast<thread_notifier*>(const_cast<void*>(p))->release(); },
};

void thread_notifier::notify() noexcept {
    notified_.store(1, std::memory_order_seq_cst);
    if (drive_ && driving_.load(std::memory_order_seq_cst)) drive_->unpark();
    else futex_wake(notified_, 1);
}

void thread_notifier::wait() noexcept {
    // Seq_cst exchange: the owner's half of the Dekker pair after driving_ went false.
    while (notified_.exchange(0, std::memory_order_seq_cst) == 0) futex_wait(notified_, 0);
}

void thread_notifier::release() noexcept {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
}

// --- the blocking_ twins ----------------------------------------------------------------------

void blocking_poll(leaf& l) {
    if (current_worker())
        throw std::logic_error(
            "corio: a blocking_ call (blocking_join, blocking_recv, ...) was made on a thread that runs a corio "
            "runtime's tasks (one of its workers, or a thread inside a current_thread block_on), which it would "
            "block; co_await the operation instead");
    thread_notifier* n = thread_notifier::create(nullptr);
    waker w(n, &thread_notifier::vtable);
    context cx(w.as_ref(), nullptr);
    while (!l.poll(cx)) n->wait();
}

}  // namespace corio::detail
