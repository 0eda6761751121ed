// corio/runtime/leaf.hpp — the base of every awaiter that waits on a waker.
//
// A leaf operation (channel send/recv, timer, io op, join) derives from leaf_awaiter<Self> and
// implements:
//   bool poll(context& cx) noexcept override;  // see detail::leaf: ready, or cx.waker() registered
//   R await_resume();                           // the result stored by the ready poll
//   ~Self();                                    // if still registered: unregister, give back what
//                                               // was reserved (cancel safety)
// The first poll happens in await_suspend, so an operation that is ready at once never leaves
// the task. A pending leaf is pinned (the waiter list or timer wheel points at it), which is why
// awaiters are neither copyable nor movable once polled.
//
// Outside a runtime, blocking_poll() drives a leaf from a plain thread, parking on a futex; the
// channels' blocking_ twins are built on it.
#pragma once

#include <corio/runtime/detail/task_header.hpp>
#include <corio/runtime/task.hpp>

#include <coroutine>
#include <type_traits>

namespace corio {

template <class Derived>
class leaf_awaiter : public detail::leaf {
public:
    bool await_ready() const noexcept { return false; }

    template <class P>
        requires std::is_base_of_v<detail::task_promise_base, P>
    bool await_suspend(std::coroutine_handle<P> h) noexcept {
        detail::task_header* cell = h.promise().cell_;
        if (static_cast<Derived*>(this)->poll(*cell->current_cx_)) return false;
        cell->pending_leaf_ = this;
        cell->resume_point_ = h;
        return true;
    }

protected:
    leaf_awaiter() = default;
    ~leaf_awaiter() = default;
};

namespace detail {
/// Polls `l` from a thread that is not running a task until it is ready, parking in between.
/// Precondition: the calling thread is not a worker of a runtime (it would block that worker).
void blocking_poll(leaf& l);
}  // namespace detail

}  // namespace corio
