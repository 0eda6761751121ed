// corio/runtime/yield_now.hpp — let other tasks run.
//
// `co_await corio::yield_now();` lets every other task of this worker run first: the task is
// deferred (Tokio's `defer`) until its worker has run out of local work or reaches its next
// maintenance tick (every event_interval polls), then goes to the back of the run queue. A
// deferred task cannot be stolen by another worker meanwhile, so a producer that yields to the
// consumers it woke lets them run on this worker instead of racing them from another core.
//
// Cancel safety: trivially cancel safe; it holds nothing.
#pragma once

#include <corio/runtime/leaf.hpp>

namespace corio {

/// The operation yield_now() returns: pending once (the task is deferred until its worker has run
/// its other local work), then ready.
class [[nodiscard]] yield_operation : public leaf_awaiter<yield_operation> {
public:
    /// Defers the task and reports pending the first time; ready the second.
    bool poll(context& cx) noexcept override {
        if (yielded_) return true;
        yielded_ = true;
        // Waking the running task marks it notified: the worker re-queues it at the back after
        // this poll (task_state's to_idle -> ok_notified).
        cx.waker().wake_by_ref();
        return false;
    }
    /// The wake happened at the poll, so nothing is registered; a later poll yields again.
    void cancel() noexcept override { yielded_ = false; }
    /// What the pending operation waits for, in words, for runtime::dump() (corio/runtime/dump.hpp).
    void describe(std::string& out) const override { out += "yield_now (queued to run again)"; }
    /// Nothing.
    void await_resume() const noexcept {}

private:
    bool yielded_ = false;
};

/// `co_await corio::yield_now()`: lets every other task of this worker run first (Tokio's
/// yield_now). For a long computation that never waits; cancel safe.
inline yield_operation yield_now() noexcept { return {}; }

}  // namespace corio
