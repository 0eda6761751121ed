// corio/runtime/join_handle.hpp — owning handle to a spawned task's outcome.
//
// `co_await handle` yields result<T, join_error>: the task's value, or a join_error that says
// the task was cancelled (abort(), runtime shutdown) or threw (is_panic(); the exception is
// kept). `(co_await h).value()` rethrows the task's own exception, or throws the join_error if
// it was cancelled.
//
// Destroying a join_handle detaches the task (as in Tokio): it keeps running and its output is
// destroyed when it finishes; an exception nobody will read goes to the runtime's
// unhandled-exception hook.
//
// fmt: fmt::format("{}", err) reads as Tokio's JoinError: "task 7 was cancelled", "task 7 panicked
// with message \"boom\"" (the what() of a std::exception), or "task 7 panicked" (anything else).
//
// Cancel safety: awaiting a join_handle is cancel safe. If the await is abandoned (select,
// timeout), the handle still owns the outcome and can be awaited again.
// Thread safety: a handle is used by one task at a time; abort() and is_finished() may be called
// from any thread.
#pragma once

#include <corio/result.hpp>
#include <corio/runtime/detail/frame_allocator.hpp>
#include <corio/runtime/leaf.hpp>
#include <corio/runtime/task.hpp>

// format.h, not core.h: in fmt 9 formatter<string_view>::format, which the formatters below
// inherit, is defined only there (with core.h alone a user gets an undefined reference).
#include <fmt/format.h>

#include <cstdint>
#include <exception>
#include <iterator>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace corio {

/// Why a spawned task has no value (Tokio's JoinError): it was cancelled (abort(), runtime
/// shutdown) or it threw (a "panic"; the exception is kept). result<T, join_error>::value()
/// rethrows the task's own exception, or throws this error if the task was cancelled. fmt prints
/// "task 7 was cancelled" or "task 7 panicked ...".
class join_error : public std::exception {
public:
    /// cancelled or panic.
    enum class kind { cancelled, panic };

    /// The task with id `id` was cancelled.
    static join_error cancelled(std::uint64_t id) noexcept { return join_error(id, nullptr); }
    /// The task with id `id` threw `e`.
    static join_error panic(std::uint64_t id, std::exception_ptr e) noexcept { return join_error(id, std::move(e)); }

    /// True if the task was cancelled (aborted, or its runtime shut down).
    bool is_cancelled() const noexcept { return !exception_; }
    /// True if the task threw.
    bool is_panic() const noexcept { return static_cast<bool>(exception_); }
    /// cancelled or panic.
    kind what_kind() const noexcept { return exception_ ? kind::panic : kind::cancelled; }
    /// The id of the task (as join_handle::id()).
    std::uint64_t task_id() const noexcept { return id_; }
    /// The exception the task threw (null if it was cancelled).
    const std::exception_ptr& panic_payload() const noexcept { return exception_; }
    /// "task was cancelled" or "task threw an exception".
    const char* what() const noexcept override { return exception_ ? "task threw an exception" : "task was cancelled"; }

    /// result<T, join_error>::value(): rethrow the task's exception, or throw this error.
    [[noreturn]] void throw_as_exception() const {
        if (exception_) std::rethrow_exception(exception_);
        throw *this;
    }

private:
    join_error(std::uint64_t id, std::exception_ptr e) noexcept : id_(id), exception_(std::move(e)) {}
    std::uint64_t id_;
    std::exception_ptr exception_;
};

/// Tokio's text for a JoinError. Rethrows the payload to read a std::exception's what(): this is
/// for reports and logs, not a hot path.
inline std::string to_string(const join_error& e) {
    if (e.is_cancelled()) return fmt::format("task {} was cancelled", e.task_id());
    try {
        std::rethrow_exception(e.panic_payload());
    } catch (const std::exception& x) {
        return fmt::format("task {} panicked with message \"{}\"", e.task_id(), x.what());
    } catch (...) {
    }
    return fmt::format("task {} panicked", e.task_id());
}

namespace detail {

struct cancelled_tag {};

template <class T>
using stored_t = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

// The header plus the output. output_ belongs to the holder of `running`, then (after
// complete) to the join side: see task_state's Access rule.
template <class T>
class spawned_task final : public task_header {
public:
    explicit spawned_task(task<T>&& t) noexcept {
        auto h = std::move(t).release();
        h.promise().cell_ = this;
        root_prefix_ = h.promise().prefix_;
        if (root_prefix_) root_prefix_->defer_to = this;
        root_ = h;
        resume_next_ = h;
    }

    void store_output_and_destroy_frame() noexcept override {
        auto h = std::coroutine_handle<task_promise<T>>::from_address(root_.address());
        root_ = {};
        auto& p = h.promise();
        if (p.exception_) {
            output_.template emplace<2>(p.exception_);
        } else if constexpr (std::is_void_v<T>) {
            output_.template emplace<1>();
        } else {
            try {
                output_.template emplace<1>(p.take_result());
            } catch (...) {
                output_.template emplace<2>(std::current_exception());
            }
        }
        h.destroy();
    }

    static void* operator new(std::size_t size) { return allocate_frame(size); }
    static void operator delete(void* p, std::size_t size) noexcept { deallocate_frame(p, size); }

    ~spawned_task() override {
        if (root_) {
            if (root_prefix_) root_prefix_->defer_to = nullptr;  // the header is going: free now
            root_.destroy();
        }
    }

    void cancel_and_destroy_frame() noexcept override {
        // Lifetime: destroying the root destroys every nested frame (each awaited task<T> is a
        // temporary in its parent's frame) and every pending leaf, which unregisters itself.
        if (auto h = std::exchange(root_, {})) h.destroy();
        resume_next_ = {};
        resume_point_ = {};
        pending_leaf_ = nullptr;
        output_.template emplace<3>();
    }

    void drop_output() noexcept override {
        if (output_.index() == 2) scheduler_->report_unhandled(std::get<2>(output_));
        output_.template emplace<0>();
    }

    result<T, join_error> take_output() {
        auto out = std::move(output_);
        output_.template emplace<0>();
        switch (out.index()) {
            case 1:
                if constexpr (std::is_void_v<T>) return {};
                else return std::move(std::get<1>(out));
            case 2: return unexpected(join_error::panic(id_, std::get<2>(out)));
            default: return unexpected(join_error::cancelled(id_));
        }
    }

private:
    std::variant<std::monostate, stored_t<T>, std::exception_ptr, cancelled_tag> output_;
};

}  // namespace detail

/// Owns the outcome of a spawned task (Tokio's JoinHandle): `co_await h` yields result<T,
/// join_error>. Destroying the handle detaches the task: it runs on, and an exception nobody will
/// read goes to the runtime's unhandled-exception hook. Awaiting is cancel safe: an abandoned await
/// leaves the outcome in the handle. Used by one task at a time; abort() and is_finished() may be
/// called from any thread.
template <class T>
class [[nodiscard]] join_handle {
public:
    join_handle() noexcept = default;
    /// Takes ownership of the task's outcome (what spawn does; not called directly).
    explicit join_handle(detail::spawned_task<T>* t) noexcept : task_(t) {}
    /// Moves the handle; `o` is left empty.
    join_handle(join_handle&& o) noexcept : task_(std::exchange(o.task_, nullptr)) {}
    /// Detaches this handle's task, then takes over `o`'s.
    join_handle& operator=(join_handle&& o) noexcept {
        if (this != &o) {
            detach();
            task_ = std::exchange(o.task_, nullptr);
        }
        return *this;
    }
    join_handle(const join_handle&) = delete;
    join_handle& operator=(const join_handle&) = delete;
    ~join_handle() { detach(); }

    /// False for a default-constructed, moved-from or detached handle.
    explicit operator bool() const noexcept { return task_ != nullptr; }
    /// The task's id, unique within its runtime (0 for an empty handle).
    std::uint64_t id() const noexcept { return task_ ? task_->id_ : 0; }

    /// Cancels the task at its next suspension point: its frame is destroyed on a worker, and the
    /// handle then yields join_error::cancelled. No effect once the task has completed.
    void abort() const noexcept {
        if (task_) task_->remote_abort();
    }

    /// True once the task has completed (with a value, an exception, or cancelled); then `co_await`
    /// does not wait.
    bool is_finished() const noexcept { return task_ && task_->state_.load().is_complete(); }

    /// Lets the task run on without a handle.
    void detach() noexcept {
        if (auto* t = std::exchange(task_, nullptr)) t->drop_join_handle();
    }

    /// What `co_await h` returns: waits for the task's outcome. Cancel safe.
    class awaiter : public leaf_awaiter<awaiter> {
    public:
        /// Made by operator co_await.
        explicit awaiter(detail::spawned_task<T>* t) noexcept : task_(t) {}
        /// Ready once the task has completed; else leaves the task's waker as the task's join
        /// waker.
        bool poll(context& cx) noexcept override {
            if (!cx.poll_budget()) return false;
            registered_ = !task_->poll_join(cx.waker());
            return !registered_;
        }
        /// Takes the join waker back (the handle keeps the outcome and can be awaited again).
        void cancel() noexcept override {
            if (std::exchange(registered_, false)) task_->cancel_join_wait();
        }
        /// The task's value, or join_error (cancelled, or the exception it threw).
        result<T, join_error> await_resume() { return task_->take_output(); }
        /// What the pending operation waits for, in words, for runtime::dump() (corio/runtime/dump.hpp).
        void describe(std::string& out) const override {
            fmt::format_to(std::back_inserter(out), "join of task {}", task_->id_);
        }

    private:
        detail::spawned_task<T>* task_;
        bool registered_ = false;  // the last poll left our waker as the task's join waker
    };

    /// Awaits the outcome. Precondition: the handle is non-empty and not yet awaited to the end.
    awaiter operator co_await() & noexcept { return awaiter{task_}; }
    /// `co_await std::move(h)`: the same as `co_await h`.
    awaiter operator co_await() && noexcept { return awaiter{task_}; }

    /// Blocking twin of `co_await h`, for threads outside the runtime (not on a worker).
    result<T, join_error> blocking_join() {
        awaiter a{task_};
        detail::blocking_poll(a);
        return a.await_resume();
    }

private:
    detail::spawned_task<T>* task_ = nullptr;
};

}  // namespace corio

template <>
struct fmt::formatter<corio::join_error> : fmt::formatter<std::string_view> {
    template <class FormatContext>
    auto format(const corio::join_error& e, FormatContext& ctx) const {
        return fmt::formatter<std::string_view>::format(corio::to_string(e), ctx);
    }
};
