// Model tests of detail::task_state (runtime/include/corio/runtime/detail/task_state.hpp), driven
// through the real harness (runtime/src/harness.cpp, compiled into model_check), a real
// spawned_task<T> running a real task<T>, and a real join_handle<T>. Only the scheduler is a
// stand-in: a run queue under a mutex, and the owned list reduced to one flag.
//
// The spec is task_state's header comment: the frame belongs to the setter of running; every
// notification holds a reference and sits in one queue; a wake while running makes the runner
// submit the task again; the output belongs to the runner until complete, then to the join
// handle, or, if it was dropped, to whoever sees complete without join_interest; the task is
// freed once, by whoever drops the last reference.
//
// What the checks see: a lost wake-up leaves the task incomplete after the queue is drained; an
// output handed over without a happens-before edge is a race on model_value; a frame or header
// freed twice, used after free or never freed is a Relacy memory error (the frame allocator's
// cache is off, so both come from Relacy's operator new); a reference miscount trips the asserts
// in task_state (they stay on here).
#include "model.hpp"

#include <corio/runtime/join_handle.hpp>
#include <corio/runtime/task.hpp>

#include <mutex>

namespace corio::model {
namespace {

using detail::task_header;

class model_scheduler final : public detail::scheduler_base {
public:
    // A wake after shutdown closed the queue drops its notification, as inject_queue does.
    void schedule(task_header* t, bool) noexcept override {
        {
            std::lock_guard g(m_);
            if (!closed_) {
                MODEL_REQUIRE(n_ < cap, "more notifications queued than the scenario can make");
                q_[(head_ + n_++) % cap] = t;
                return;
            }
        }
        t->drop_notification();
    }
    // The owned list (scheduler::release): the task is still in it unless shutdown popped it.
    // Completed on its owner worker, the list's reference goes with the completion (true);
    // completed elsewhere, the owner drops it later (false, then drain_remote), as local_owned
    // does. Which one is Relacy's choice.
    bool release(task_header*) noexcept override {
        if (!in_list_.exchange(false, std::memory_order_acq_rel)) return false;
        if (rl::rand(2)) return true;
        remote_.store(true, std::memory_order_release);
        return false;
    }
    void report_unhandled(std::exception_ptr) noexcept override { MODEL_REQUIRE(false, "unhandled exception"); }
    void task_freed() noexcept override { freed_.fetch_add(1, std::memory_order_acq_rel); }

    // A worker: runs queued notifications until the queue is empty or `max` have run, then drops
    // the list references of tasks that completed away from it.
    void run_queued(task_header* t, unsigned max) {
        for (unsigned i = 0; i < max; ++i) {
            task_header* next = pop();
            if (!next) break;
            unsigned budget = 128;
            next->run(&budget);
        }
        if (remote_.exchange(false, std::memory_order_acq_rel)) t->drop_reference();
    }
    // Shutdown (scheduler::shutdown, steps 1, 3 and 4): close the queue, pop the task from the
    // owned list and shut it down with the list's reference, drop the queued notifications.
    void shutdown(task_header* t) {
        {
            std::lock_guard g(m_);
            closed_ = true;
        }
        if (in_list_.exchange(false, std::memory_order_acq_rel)) t->shutdown();
        while (task_header* next = pop()) next->drop_notification();
    }
    int freed() const noexcept { return freed_.load(std::memory_order_acquire); }

private:
    task_header* pop() {
        std::lock_guard g(m_);
        if (n_ == 0) return nullptr;
        task_header* t = q_[head_];
        head_ = (head_ + 1) % cap;
        --n_;
        return t;
    }

    static constexpr unsigned cap = 8;
    detail::mutex m_;
    task_header* q_[cap] = {};
    unsigned head_ = 0, n_ = 0;
    bool closed_ = false;
    detail::atomic<bool> in_list_{true};  // spawned tasks start in the owned list
    detail::atomic<bool> remote_{false};
    detail::atomic<int> freed_{0};
};

// What the task waits on: a one-shot event behind a mutex (the shape of most corio leaves: a
// waiter slot under a lock). fire() wakes the registered waker by value; a cancelled or destroyed
// pending wait takes its waker back, as the leaf contract requires.
class event {
public:
    class wait_op : public leaf_awaiter<wait_op> {
    public:
        explicit wait_op(event* e) noexcept : e_(e) {}
        wait_op(const wait_op&) = delete;
        wait_op& operator=(const wait_op&) = delete;
        ~wait_op() { cancel(); }
        bool poll(context& cx) noexcept override {
            pending_ = !e_->poll(cx);
            return !pending_;
        }
        void cancel() noexcept override {
            if (std::exchange(pending_, false)) e_->unregister();
        }
        void await_resume() noexcept {}

    private:
        event* e_;
        bool pending_ = false;
    };

    wait_op wait() noexcept { return wait_op(this); }

    void fire() {
        waker w;
        {
            std::lock_guard g(m_);
            fired_ = true;
            w = std::move(waiter_);
        }
        std::move(w).wake();
    }
    void unregister() {
        waker w;
        std::lock_guard g(m_);
        w = std::move(waiter_);
    }

private:
    bool poll(context& cx) {
        waker old;
        std::lock_guard g(m_);
        if (fired_) return true;
        old = std::exchange(waiter_, cx.waker().clone());
        return false;
    }

    detail::mutex m_;
    bool fired_ = false;
    waker waiter_;
};

task<model_value> wait_for(event& a) {
    co_await a.wait();
    co_return model_value(42);
}

task<model_value> wait_for_both(event& a, event& b) {
    co_await a.wait();
    co_await b.wait();
    co_return model_value(42);
}

using handle = join_handle<model_value>;

// The common part: one spawned task, its handle, and the checks every scenario ends with.
struct spawned {
    model_scheduler sched;
    event a, b;
    handle h;
    task_header* header = nullptr;  // for the scheduler's list-reference bookkeeping

    void spawn(task<model_value> body) {
        // As detail::spawn_on and scheduler_spawn do: the first notification is queued.
        auto* t = new detail::spawned_task<model_value>(std::move(body));
        t->scheduler_ = &sched;
        t->id_ = 1;
        sched.schedule(t, false);
        h = handle(t);
        header = t;
    }

    // After every thread: drain the queue, then the task must have completed (every event fired,
    // or it was aborted), the handle must get its outcome once, and the task must be freed.
    void finish(bool may_be_cancelled) {
        sched.run_queued(header, 8);
        MODEL_REQUIRE(h.is_finished(), "lost wake-up: the task did not complete after its events fired");
        test_waker w;
        context cx = w.cx();
        auto op = h.operator co_await();
        MODEL_REQUIRE(op.poll(cx), "a complete task's handle is not ready");
        result<model_value, join_error> r = op.await_resume();
        if (r) MODEL_REQUIRE(r->get() == 42, "wrong output");
        else MODEL_REQUIRE(may_be_cancelled && r.error().is_cancelled(), "unexpected join error");
        h.detach();
        a.unregister();
        b.unregister();
        MODEL_REQUIRE(sched.freed() == 1, "the task header was not freed exactly once");
    }
};

// A wake racing the run's transition to idle: the task polls its event (pending), and the event
// fires while the worker is between the poll and transition_to_idle (or before, or after).
struct wake_vs_idle : rl::test_suite<wake_vs_idle, 2>, spawned {
    void before() { spawn(wait_for(a)); }
    void thread(unsigned i) {
        if (i == 0) sched.run_queued(header, 3);
        else a.fire();
    }
    void after() { finish(false); }
};

// Two wakes (by value, from two threads) racing each other and the worker's runs: the notified
// bit coalesces them, and the reference each waker held is dropped exactly once.
struct two_wakes_vs_run : rl::test_suite<two_wakes_vs_run, 3>, spawned {
    void before() { spawn(wait_for_both(a, b)); }
    void thread(unsigned i) {
        if (i == 0) sched.run_queued(header, 4);
        else if (i == 1) a.fire();
        else b.fire();
    }
    void after() { finish(false); }
};

// abort() racing the run and the completion: the task either completes with its value or is
// cancelled (its frame destroyed by a worker, its pending wait unregistered), never both.
struct abort_vs_complete : rl::test_suite<abort_vs_complete, 3>, spawned {
    void before() { spawn(wait_for(a)); }
    void thread(unsigned i) {
        if (i == 0) sched.run_queued(header, 3);
        else if (i == 1) a.fire();
        else h.abort();
    }
    void after() { finish(true); }
};

// The join side racing completion: it detaches at once, or awaits once and detaches, or awaits,
// then re-awaits with another waker (the join waker is replaced), or awaits and cancels the await
// (cancel_join_wait) and detaches. The output is destroyed exactly once, by the side that owns
// it; a join waker registered and not withdrawn is woken at completion.
struct join_vs_complete : rl::test_suite<join_vs_complete, 3>, spawned {
    test_waker w1, w2;
    test_waker* last = nullptr;
    bool last_pending = false;
    bool got_output = false;

    void before() { spawn(wait_for(a)); }

    bool poll(handle::awaiter& op, test_waker& w) {
        context cx = w.cx();
        last = &w;
        last_pending = !op.poll(cx);
        if (!last_pending) {
            result<model_value, join_error> r = op.await_resume();
            MODEL_REQUIRE(r && r->get() == 42, "wrong output");
            got_output = true;
        }
        return !last_pending;
    }

    void thread(unsigned i) {
        if (i == 0) {
            sched.run_queued(header, 3);
        } else if (i == 1) {
            a.fire();
        } else {
            const unsigned choice = rl::rand(4);
            if (choice == 0) {
                h.detach();
                return;
            }
            auto op = h.operator co_await();
            if (poll(op, w1) || choice == 1) {
                h.detach();
                return;
            }
            if (choice == 2) {
                poll(op, w2);  // keeps the handle; after() checks the wake
                return;
            }
            op.cancel();
            last_pending = false;
            h.detach();
        }
    }

    void after() {
        sched.run_queued(header, 8);
        if (h && last_pending) MODEL_REQUIRE(last->woken() > 0, "lost wake-up: the join waker was not woken");
        if (h && !got_output) {
            finish(false);
            return;
        }
        h.detach();
        a.unregister();
        MODEL_REQUIRE(sched.freed() == 1, "the task header was not freed exactly once");
    }
};

// Runtime shutdown (the workers are joined: nothing runs the task any more) racing a wake from
// another thread, whose notification the closed queue drops, and the join side aborting or
// detaching: the task is cancelled exactly once, each reference is dropped exactly once.
struct shutdown_vs_wake : rl::test_suite<shutdown_vs_wake, 3>, spawned {
    void before() {
        spawn(wait_for(a));
        sched.run_queued(header, 1);  // the first poll: the task now waits on `a`
    }
    void thread(unsigned i) {
        if (i == 0) {
            sched.shutdown(header);
        } else if (i == 1) {
            a.fire();
        } else if (rl::rand(2)) {
            h.abort();
        } else {
            h.detach();
        }
    }
    void after() {
        if (h) {
            finish(true);
            return;
        }
        a.unregister();
        MODEL_REQUIRE(sched.freed() == 1, "the task header was not freed exactly once");
    }
};

// A dump inspecting the suspended task (task_registry.cpp's inspect: a ref, then
// try_lock_for_inspection, read the pending leaf, end_inspection) racing a wake, an abort or
// neither, and a worker. A wake or abort that lands while the inspector holds `running` must be
// carried out when it lets go: the task still completes (or is cancelled), every reference is
// dropped once, and the header is freed once.
void inspect(task_header* t) {
    t->state_.ref_inc();  // the dump's ref, taken while the registry lists the task
    if (!t->state_.try_lock_for_inspection()) {
        t->drop_reference();
        return;
    }
    MODEL_REQUIRE(t->pending_leaf_ != nullptr, "an inspected task is not suspended on a leaf");
    t->end_inspection();
}

struct inspect_vs_wake_and_abort : rl::test_suite<inspect_vs_wake_and_abort, 3>, spawned {
    void before() {
        spawn(wait_for(a));
        sched.run_queued(header, 1);  // the first poll: the task now waits on `a`
    }
    void thread(unsigned i) {
        if (i == 0) {
            inspect(header);
            sched.run_queued(header, 3);
        } else if (i == 1) {
            a.fire();
        } else if (rl::rand(2)) {
            h.abort();
        }
    }
    void after() { finish(true); }
};

// The inspector racing shutdown (which leaves a running task's cancellation to its runner: here
// the inspector) and a wake whose notification the closed queue drops.
struct inspect_vs_shutdown : rl::test_suite<inspect_vs_shutdown, 3>, spawned {
    void before() {
        spawn(wait_for(a));
        sched.run_queued(header, 1);
    }
    void thread(unsigned i) {
        if (i == 0) inspect(header);
        else if (i == 1) sched.shutdown(header);
        else a.fire();
    }
    void after() {
        MODEL_REQUIRE(h.is_finished(), "shutdown during an inspection left the task unfinished");
        finish(true);
    }
};

const registrar r1 = scenario_of<wake_vs_idle>(
    "task_state", "wake_vs_idle", {search::random(500000), search::bounded(2)});
const registrar r2 = scenario_of<two_wakes_vs_run>(
    "task_state", "two_wakes_vs_run", {search::random(500000), search::bounded(2)});
const registrar r3 = scenario_of<abort_vs_complete>(
    "task_state", "abort_vs_complete", {search::random(500000), search::bounded(2)});
const registrar r4 = scenario_of<join_vs_complete>(
    "task_state", "join_vs_complete", {search::random(1000000), search::bounded(1)});
const registrar r5 = scenario_of<shutdown_vs_wake>(
    "task_state", "shutdown_vs_wake", {search::random(500000), search::bounded(2)});
const registrar r6 = scenario_of<inspect_vs_wake_and_abort>(
    "task_state", "inspect_vs_wake_and_abort", {search::random(500000), search::bounded(2)});
const registrar r7 = scenario_of<inspect_vs_shutdown>(
    "task_state", "inspect_vs_shutdown", {search::random(500000), search::bounded(2)});

}  // namespace
}  // namespace corio::model
