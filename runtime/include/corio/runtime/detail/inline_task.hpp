// corio/runtime/detail/inline_task.hpp — a task<T> operand run inside the task that awaits a
// combinator (Tokio's model of a future inside select!/join!/timeout).
//
// `select(read_request(sock, buf), sleep(5s))`, `timeout(d, fetch())`, `join(a(), b())`: each
// task<T> operand is not spawned. Its frame chain runs on its own run_cell, driven by the
// combinator's poll, on the worker and under the `running` bit of the awaiting task; its leaves
// register the awaiting task's waker (the cx the combinator was polled with), so any of them
// waking re-polls the combinator, which drives the chain again. There is no parallelism between
// operands, and none is needed for waiting: that is the point of a combinator. Work that must run
// in parallel is spawned explicitly (then a temporary join_handle operand is aborted and waited
// for when it loses: select.hpp).
//
// Why inline (docs/design/cancellation.md): an operand borrows the caller's locals (`sock`,
// `buf`). A spawned operand could only be aborted, which takes effect at its next suspension
// point, on whichever worker runs it, after the combinator has returned and the caller has
// perhaps destroyed what it borrowed. An inline operand's frame is destroyed by cancel(), on the
// combinator's thread, before the combinator returns: its destructors run, its pending leaves
// cancel themselves, and it can never run again. It also costs no spawn (header, queue push,
// join waker) per operand.
//
// States: unstarted (frame_ set, not yet resumed) -> running (suspended on a leaf of its chain)
//         -> done (frame_.done(): the result or exception is in the promise) | destroyed (cancel:
//         frame_ null). All of it belongs to the thread polling the combinator.
#pragma once

#include <corio/runtime/leaf.hpp>
#include <corio/runtime/task.hpp>

#include <cassert>
#include <coroutine>
#include <utility>

namespace corio::detail {

template <class T>
class [[nodiscard]] inline_task final : public leaf_awaiter<inline_task<T>>, private run_cell {
public:
    explicit inline_task(task<T>&& t) noexcept : frame_(std::move(t).release()) {}
    inline_task(const inline_task&) = delete;
    inline_task& operator=(const inline_task&) = delete;
    ~inline_task() {
        if (frame_) frame_.destroy();
    }

    /// Runs the chain until it suspends on a leaf (false) or the root frame finishes (true).
    bool poll(context& cx) noexcept override {
        assert(frame_ && "an inline operand polled after it was cancelled");
        if (frame_.done()) return true;
        if (!started_) {
            started_ = true;
            frame_.promise().cell_ = this;  // no continuation: the root's end is seen by done()
            resume_next_ = frame_;
        }
        drive(cx);
        if (frame_.done()) return true;
        assert(pending_leaf_ && "a corio task suspended on an awaiter that is not a corio leaf");
        return false;
    }

    /// Destroys the suspended frame chain: every frame's destructors run now, on this thread, and
    /// each pending leaf in it cancels itself. A finished operand keeps its result.
    void cancel() noexcept override {
        if (!frame_ || frame_.done()) return;
        std::exchange(frame_, {}).destroy();
        resume_next_ = {};
        resume_point_ = {};
        pending_leaf_ = nullptr;
    }

    /// What the operand's own chain waits on.
    void describe(std::string& out) const override {
        if (!pending_leaf_) {
            out += frame_ && frame_.done() ? "a coroutine operand (finished)" : "a coroutine operand (not started)";
            return;
        }
        out += "a coroutine operand waiting on: ";
        pending_leaf_->describe(out);
    }

    /// The operand's value; rethrows its exception.
    T await_resume() { return frame_.promise().take_result(); }

private:
    std::coroutine_handle<task_promise<T>> frame_;  // owned; null once cancelled
    bool started_ = false;
};

}  // namespace corio::detail
