// Pitfall — a std::mutex held across co_await.
//
// A task that suspends while holding a std::mutex keeps it locked for as long as it is
// suspended, and in the meantime its worker thread runs other tasks. If one of those calls
// lock() on the same mutex, it blocks the WORKER THREAD, not just the task: on a current_thread
// runtime (or once every worker is stuck like this) nothing is left to resume the holder, so it
// never unlocks: a deadlock. On a multi_thread runtime the holder may also resume on another
// worker and unlock the mutex from a thread that does not own it: undefined behaviour.
//
// The wrong mode shows the hazard without deadlocking: task B uses try_lock() where real code
// would call lock(), and reports what lock() would have done. The right mode shows the two
// fixes: corio::sync::mutex, whose lock() is awaited (the task waits, the thread does not), for
// when the lock really must span a co_await; or a std::mutex scoped so that it is released
// before the co_await (copy out, unlock, then suspend), which is cheaper when that is possible.
//
// current_thread with a paused clock: one thread, so the danger is real, and the run is instant.
//
//     lock_across_await            # both, side by side
//     lock_across_await --wrong    # std::mutex held across co_await (detected with try_lock)
//     lock_across_await --right    # corio::sync::mutex, and a scoped std::mutex guard
#include <corio/channels/sync/mutex.hpp>
#include <corio/runtime/join_handle.hpp>
#include <corio/runtime/runtime.hpp>
#include <corio/runtime/task.hpp>
#include <corio/runtime/time.hpp>

#include "common/log.hpp"

#include <fmt/core.h>

#include <chrono>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <utility>

using namespace std::chrono_literals;

namespace {

// State shared by several tasks lives in a std::shared_ptr: each task owns a reference.
struct shared_counter {
    std::mutex m;
    int value = 0;
};

corio::task<void> save_to_disk(int /*value*/) { co_await corio::sleep(10ms); }  // stands in for slow io

// --- wrong ---------------------------------------------------------------------------------

// Task A: updates the counter and "saves" it while still holding the std::mutex.
corio::task<void> wrong_holder(std::shared_ptr<shared_counter> c) {
    std::lock_guard<std::mutex> guard(c->m);
    ++c->value;
    co_await save_to_disk(c->value);  // WRONG: suspends for 10 ms with c->m locked
}

// Task B: runs on the same thread while A is suspended. Real code would call c->m.lock() here.
corio::task<void> wrong_contender(std::shared_ptr<shared_counter> c) {
    co_await corio::sleep(1ms);  // A is now suspended inside save_to_disk, holding the lock
    if (c->m.try_lock()) {
        ++c->value;
        c->m.unlock();
        fmt::print("wrong: B got the lock (A had already released it)\n");
        co_return;
    }
    fmt::print("wrong: B found the std::mutex held by task A, which is suspended in co_await\n");
    fmt::print("wrong: a plain lock() here would block this thread, the only one that can resume A:\n"
               "wrong: A would never unlock it: DEADLOCK (this demo used try_lock and gave up instead)\n");
}

corio::task<void> run_wrong() {
    auto c = std::make_shared<shared_counter>();
    corio::join_handle<void> a = corio::spawn(wrong_holder(c));
    corio::join_handle<void> b = corio::spawn(wrong_contender(c));
    (co_await a).value();
    (co_await b).value();
}

// --- right, fix 1: corio::sync::mutex ------------------------------------------------------

corio::task<void> holder(std::shared_ptr<corio::sync::mutex<int>> m) {
    auto guard = co_await m->lock();
    ++*guard;
    co_await save_to_disk(*guard);  // fine: an async mutex is made to be held across co_await
}

corio::task<void> contender(std::shared_ptr<corio::sync::mutex<int>> m) {
    co_await corio::sleep(1ms);
    const corio::time::instant asked = corio::time::now();
    auto guard = co_await m->lock();  // the TASK waits; the thread runs other tasks meanwhile
    auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(corio::time::now() - asked);
    ++*guard;
    fmt::print("right (sync::mutex): B waited {} ms in co_await m.lock() and got the lock when A released it; "
               "value {}\n",
               waited.count(), *guard);
}

corio::task<void> ticker(std::shared_ptr<int> ticks) {
    for (int i = 0; i < 5; ++i) {
        co_await corio::sleep(1ms);
        ++*ticks;
    }
}

corio::task<void> run_async_mutex() {
    // On the heap, shared: a sync::mutex is not movable, and tasks take a reference each.
    auto m = std::make_shared<corio::sync::mutex<int>>(0);
    auto ticks = std::make_shared<int>(0);
    corio::join_handle<void> a = corio::spawn(holder(m));
    corio::join_handle<void> b = corio::spawn(contender(m));
    corio::join_handle<void> t = corio::spawn(ticker(ticks));
    (co_await a).value();
    (co_await b).value();
    (co_await t).value();
    fmt::print("right (sync::mutex): meanwhile another task on the same thread ticked {} times: nothing blocked\n",
               *ticks);
}

// --- right, fix 2: scope the std::mutex guard so it ends before the co_await ------------------

corio::task<void> scoped_holder(std::shared_ptr<shared_counter> c) {
    int snapshot = 0;
    {
        std::lock_guard<std::mutex> guard(c->m);
        snapshot = ++c->value;
    }  // unlocked here, before suspending
    co_await save_to_disk(snapshot);
}

corio::task<void> scoped_contender(std::shared_ptr<shared_counter> c) {
    co_await corio::sleep(1ms);  // A is suspended in save_to_disk, but holds no lock
    if (c->m.try_lock()) {
        ++c->value;
        c->m.unlock();
        fmt::print("right (scoped std::mutex): B locked at once while A was suspended: A held no lock across "
                   "its co_await\n");
    } else {
        fmt::print("right (scoped std::mutex): UNEXPECTED: the lock was held\n");
    }
}

corio::task<void> run_scoped_guard() {
    auto c = std::make_shared<shared_counter>();
    corio::join_handle<void> a = corio::spawn(scoped_holder(c));
    corio::join_handle<void> b = corio::spawn(scoped_contender(c));
    (co_await a).value();
    (co_await b).value();
    fmt::print("right (scoped std::mutex): both updates applied, value {}\n", c->value);
}

}  // namespace

int main(int argc, char** argv) {
    bool wrong = true, right = true;
    if (argc == 2 && std::strcmp(argv[1], "--wrong") == 0) {
        right = false;
    } else if (argc == 2 && std::strcmp(argv[1], "--right") == 0) {
        wrong = false;
    } else if (argc != 1) {
        fmt::print(stderr, "usage: {} [--wrong | --right]\n", argv[0]);
        return 2;
    }
    try {
        fmt::print("lock_across_await: task A updates a shared counter and saves it (10 ms); task B wants the lock "
                   "1 ms later\n");
        corio::runtime rt({.flavor = corio::runtime_flavor::current_thread, .start_paused = true});
        if (wrong) rt.block_on(run_wrong());
        if (right) {
            rt.block_on(run_async_mutex());
            rt.block_on(run_scoped_guard());
        }
        if (wrong && right)
            fmt::print("contrast: never hold a std::mutex across co_await; await a corio::sync::mutex, or unlock "
                       "before suspending\n");
        return 0;
    } catch (const std::exception& e) {
        corio_samples::log::error("lock_across_await: {}", e.what());
        return 1;
    }
}
