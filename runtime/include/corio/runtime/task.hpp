// corio/runtime/task.hpp — task<T>: a lazy coroutine, awaited once, or spawned.
//
// A task<T> does nothing until it is awaited (`co_await make_task()`) or spawned
// (`corio::spawn(make_task())`). It owns its frame; destroying an unstarted task destroys it.
// An exception thrown in a task propagates to its awaiter (and, for a spawned task, to whoever
// awaits its join_handle).
//
// Control transfer: awaiting a task transfers control straight to it, and its completion
// straight back to its awaiter, without passing through a run queue: symmetric transfer. It is
// implemented with a trampoline in the task's header (resume_next_) rather than by returning a
// coroutine_handle from await_suspend, because g++ 12 compiles the latter as a nested call, not a
// tail call, at -O0/-O1 and under ASan/TSan (docs/design/compilers.md, "Symmetric transfer is not a tail call"), which overflows the stack
// after a few million synchronous co_awaits. With the trampoline neither a 1,000,000-deep
// recursion of tasks nor an unbounded loop of synchronous awaits grows the native stack, on any
// compiler, at any optimisation level. The cost is one return to the worker's loop per transfer.
//
// A task may only be awaited from another corio::task (its promise carries the task header);
// a task runs only on a runtime (spawn it, or runtime::block_on it).
#pragma once

#include <corio/runtime/detail/frame_allocator.hpp>
#include <corio/runtime/detail/task_header.hpp>

#include <cassert>
#include <coroutine>
#include <exception>
#include <type_traits>
#include <utility>
#include <variant>

namespace corio {

template <class T = void>
class task;

namespace detail {

class task_promise_base {
public:
    // Lifetime: set when the frame starts to run (spawn, the awaiter's await_suspend, or a
    // combinator running the task inline); every frame of one chain points to the same cell
    // (the spawned task's header, or an inline operand's) and runs under the task's `running` bit.
    run_cell* cell_ = nullptr;
    std::coroutine_handle<> continuation_;

    static void* operator new(std::size_t size) { return allocate_task_frame(size); }
    static void operator delete(void* p, std::size_t size) noexcept { deallocate_task_frame(p, size); }

    // Lifetime: the prefix of this frame's allocation (frame_allocator.hpp); null if the compiler
    // elided the allocation.
    frame_prefix* prefix_ = take_last_frame_prefix();

    std::suspend_always initial_suspend() noexcept { return {}; }

    struct final_awaiter {
        bool await_ready() noexcept { return false; }
        template <class P>
        void await_suspend(std::coroutine_handle<P> h) noexcept {
            task_promise_base& p = h.promise();
            // Hand control back to the awaiter through the trampoline. A root task has no
            // continuation: the worker sees root_.done() and completes the spawned task.
            if (p.continuation_) p.cell_->resume_next_ = p.continuation_;
        }
        void await_resume() noexcept {}
    };
    final_awaiter final_suspend() noexcept { return {}; }

    void unhandled_exception() noexcept { exception_ = std::current_exception(); }

    std::exception_ptr exception_;
};

template <class T>
class task_promise final : public task_promise_base {
public:
    task<T> get_return_object() noexcept;

    template <class U = T>
        requires std::is_convertible_v<U&&, T>
    void return_value(U&& v) noexcept(std::is_nothrow_constructible_v<T, U&&>) {
        value_.template emplace<1>(std::forward<U>(v));
    }

    T take_result() {
        if (exception_) std::rethrow_exception(exception_);
        return std::move(std::get<1>(value_));
    }

private:
    std::variant<std::monostate, T> value_;
};

template <>
class task_promise<void> final : public task_promise_base {
public:
    task<void> get_return_object() noexcept;
    void return_void() noexcept {}
    void take_result() {
        if (exception_) std::rethrow_exception(exception_);
    }
};

}  // namespace detail

/// A lazy coroutine yielding T: it does nothing until it is awaited (`co_await make_task()`, from
/// another task) or spawned (corio::spawn, runtime::block_on). It owns its frame; destroying an
/// unstarted task destroys the frame. An exception thrown in it propagates to its awaiter (for a
/// spawned task, through its join_handle). Awaiting transfers control straight to the task and back
/// (symmetric transfer, through a trampoline, so deep chains of co_awaits never grow the stack).
template <class T>
class [[nodiscard]] task {
public:
    /// The coroutine's promise: it makes a coroutine returning task<T> a corio task.
    using promise_type = detail::task_promise<T>;
    /// What `co_await` on the task yields.
    using value_type = T;

    task() noexcept = default;
    /// Takes ownership of the frame `h` (what the promise does; not called directly).
    explicit task(std::coroutine_handle<promise_type> h) noexcept : handle_(h) {}
    /// Moves the frame; `o` is left empty.
    task(task&& o) noexcept : handle_(std::exchange(o.handle_, {})) {}
    /// Destroys this task's frame (if any), then takes over `o`'s.
    task& operator=(task&& o) noexcept {
        if (this != &o) {
            reset();
            handle_ = std::exchange(o.handle_, {});
        }
        return *this;
    }
    task(const task&) = delete;
    task& operator=(const task&) = delete;
    ~task() { reset(); }

    /// True if the task holds a frame (not default-constructed, moved from or released).
    bool valid() const noexcept { return static_cast<bool>(handle_); }

    /// What `co_await std::move(t)` returns; not used directly.
    /// Awaiting: the child runs inside the awaiting task, under the same header.
    class awaiter {
    public:
        /// Made by operator co_await.
        explicit awaiter(std::coroutine_handle<promise_type> h) noexcept : child_(h) {}
        /// Always false: awaiting always starts the child.
        bool await_ready() const noexcept { return false; }
        /// Starts the child inside the awaiting task: the child resumes next, and resumes the
        /// parent when it completes.
        template <class P>
            requires std::is_base_of_v<detail::task_promise_base, P>
        void await_suspend(std::coroutine_handle<P> parent) noexcept {
            promise_type& c = child_.promise();
            c.cell_ = parent.promise().cell_;
            c.continuation_ = parent;
            c.cell_->resume_next_ = child_;
        }
        /// The child's result; rethrows its exception.
        T await_resume() { return child_.promise().take_result(); }

    private:
        std::coroutine_handle<promise_type> child_;
    };

    /// `co_await make_task()` (or `co_await std::move(t)`): runs the task to completion inside the
    /// awaiting task and yields its result. Awaited once.
    awaiter operator co_await() && noexcept {
        assert(handle_ && "awaiting an empty or moved-from task");
        return awaiter{handle_};
    }

    /// For the runtime (spawn, block_on): gives up ownership of the frame. Not called directly.
    std::coroutine_handle<promise_type> release() noexcept { return std::exchange(handle_, {}); }

private:
    void reset() noexcept {
        if (auto h = std::exchange(handle_, {})) h.destroy();
    }

    std::coroutine_handle<promise_type> handle_;
};

namespace detail {
template <class T>
task<T> task_promise<T>::get_return_object() noexcept {
    return task<T>(std::coroutine_handle<task_promise<T>>::from_promise(*this));
}
inline task<void> task_promise<void>::get_return_object() noexcept {
    return task<void>(std::coroutine_handle<task_promise<void>>::from_promise(*this));
}
}  // namespace detail

}  // namespace corio
