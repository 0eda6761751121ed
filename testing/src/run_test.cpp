// run_test: the runner behind CORIO_TEST (corio/testing.hpp). One runtime per test; the body is
// spawned and awaited from block_on, and a watchdog thread on the real clock aborts it at the
// deadline.
#include <corio/testing.hpp>

#include <corio/runtime/join_handle.hpp>

#include <fmt/format.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace corio::testing {
namespace {

// What an exception that ended a task says, or "" if it was a fatal assertion (already reported).
std::string describe(const std::exception_ptr& e) {
    try {
        std::rethrow_exception(e);
    } catch (const assertion_failed&) {
        return {};
    } catch (const std::exception& x) {
        return x.what();
    } catch (...) {
        return "an exception not derived from std::exception";
    }
}

// Waits for the body on the real clock; at the deadline it aborts the body (which ends at its
// pending leaf), and if even that does not end it within `grace`, ends the process: a test that
// spins without suspending cannot be stopped any other way.
class watchdog {
public:
    watchdog(runtime& rt, const join_handle<void>* body, std::chrono::milliseconds deadline)
        : rt_(rt), thread_([this, body, deadline] { watch(body, deadline); }) {}
    watchdog(const watchdog&) = delete;
    watchdog& operator=(const watchdog&) = delete;
    ~watchdog() {
        {
            std::lock_guard lock(mutex_);
            done_ = true;
        }
        cv_.notify_all();
        thread_.join();
    }
    bool fired() const {
        std::lock_guard lock(mutex_);
        return fired_;
    }
    // What every task waited on when the deadline passed; empty if it did not.
    std::string dump() const {
        std::lock_guard lock(mutex_);
        return dump_;
    }

private:
    void watch(const join_handle<void>* body, std::chrono::milliseconds deadline) {
        std::unique_lock lock(mutex_);
        if (cv_.wait_for(lock, deadline, [this] { return done_; })) return;
        fired_ = true;
        // Before the abort, which unwinds the waits the dump is there to show.
        try {
            dump_ = fmt::format("{}", rt_.dump());
        } catch (...) {
            dump_ = "(the dump failed: out of memory)";
        }
        body->abort();  // thread-safe (join_handle.hpp)
        constexpr auto grace = std::chrono::seconds(10);
        if (cv_.wait_for(lock, grace, [this] { return done_; })) return;
        std::fprintf(stderr, "\ncorio::testing: the test body passed its deadline (%lld ms) and did not stop when "
                             "aborted within %lld s: it never suspends. Ending the process.\n",
                     static_cast<long long>(deadline.count()), static_cast<long long>(grace.count()));
        std::fflush(stderr);
        std::abort();
    }

    runtime& rt_;
    mutable std::mutex mutex_;
    std::condition_variable cv_;
    bool done_ = false;
    bool fired_ = false;
    std::string dump_;  // guarded by mutex_
    std::thread thread_;
};

task<result<void, join_error>> await_body(join_handle<void>* body) { co_return co_await *body; }

// After the body: the tasks it spawned that are still alive once a grace period has passed (a
// task that has just finished, or is finishing because the body dropped what it waited on, is
// given time). Empty if none.
std::string leftover_tasks(runtime& rt) {
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    for (;;) {
        if (rt.metrics().alive_tasks == 0) return {};
        if (std::chrono::steady_clock::now() >= give_up) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return fmt::format("{}", rt.dump());
}

}  // namespace

void run_test(task<void> (*body)(), const test_options& options) {
    runtime_options ro;
    ro.flavor = options.flavor;
    ro.worker_threads = options.workers;
    ro.start_paused = options.start_paused;
    ro.thread_name = "corio-test";
    // For the dumps a deadline or a leftover task prints; its cost does not matter in a test.
    ro.enable_task_registry = true;
    // A detached task that throws fails the test (its output has no reader to see it).
    ro.unhandled_exception = [](std::exception_ptr e) {
        std::string what = describe(e);
        if (!what.empty()) ADD_FAILURE() << "a detached task threw: " << what;
    };
    runtime rt(ro);
    join_handle<void> handle = rt.spawn(body());
    std::optional<result<void, join_error>> outcome;
    bool deadline_passed = false;
    std::string deadline_dump;
    {
        watchdog dog(rt, &handle, options.deadline);
        outcome.emplace(rt.block_on(await_body(&handle)));
        deadline_passed = dog.fired();
        deadline_dump = dog.dump();
    }
    if (*outcome) {
        if (options.allow_leftover_tasks) return;
        if (std::string left = leftover_tasks(rt); !left.empty())
            ADD_FAILURE() << "the test body finished, but tasks it spawned are still running (a server loop, a "
                             "receiver whose sender is kept alive?); set .allow_leftover_tasks = true if that is "
                             "meant. The runtime:\n"
                          << left;
        return;
    }
    const join_error& err = outcome->error();
    if (deadline_passed && err.is_cancelled()) {
        ADD_FAILURE() << fmt::format("the test body did not finish within its deadline ({} ms of real time) and was "
                                     "aborted: a wait that nothing will end (a lost wake-up, a channel nobody sends "
                                     "on)? At the deadline:\n{}",
                                     options.deadline.count(), deadline_dump);
    } else if (err.is_cancelled()) {
        ADD_FAILURE() << "the test body was cancelled";
    } else {
        std::string what = describe(err.panic_payload());
        if (!what.empty()) ADD_FAILURE() << "the test body threw: " << what;
    }
}

}  // namespace corio::testing
