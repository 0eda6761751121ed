// corio/runtime/spawn_blocking.hpp — run blocking code off the workers.
//
//     auto h = corio::spawn_blocking([] { return read_config_file(); });
//     auto text = (co_await h).value();
//
// The function runs on the runtime's blocking pool (threads apart from the workers; the pool
// grows on demand up to runtime_options::max_blocking_threads and idle threads retire after
// blocking_keep_alive). An exception it throws comes back through the join_handle.
//
// Guidance: a task must never block its worker (a blocking syscall, a long computation, a
// std::mutex held for long): the worker's other tasks stall with it. Wrap such work in
// spawn_blocking. corio has no block_in_place: a C++ coroutine cannot move to another thread
// in the middle of a call, so hand the blocking part to spawn_blocking and co_await it.
//
// Cancellation: abort() on the handle cancels the wait, not the function: once started, it runs
// to the end (as in Tokio). A job not yet started when the runtime shuts down still runs.
#pragma once

#include <corio/runtime/detail/blocking_job.hpp>
#include <corio/runtime/join_handle.hpp>
#include <corio/runtime/leaf.hpp>
#include <corio/runtime/runtime.hpp>
#include <corio/runtime/task.hpp>

#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <variant>

namespace corio {

namespace detail {

// Queues the job on the scheduler's blocking pool; false if the runtime is shut down.
bool scheduler_spawn_blocking(scheduler* s, std::unique_ptr<blocking_job> job);

template <class R>
class blocking_outcome {
public:
    void set(std::variant<std::monostate, stored_t<R>, std::exception_ptr> v) noexcept {
        waker w;
        {
            std::lock_guard lock(mutex_);
            outcome_ = std::move(v);
            done_ = true;
            w = std::move(waker_);
        }
        std::move(w).wake();  // outside the lock
    }
    bool poll(waker_ref w) noexcept {
        std::lock_guard lock(mutex_);
        if (done_) return true;
        waker_.set(w);
        return false;
    }
    // The waiter goes away (a cancelled await): no waker of it stays behind.
    void clear_waker() noexcept {
        waker old;
        {
            std::lock_guard lock(mutex_);
            old = std::move(waker_);
        }
    }
    R take() {
        std::lock_guard lock(mutex_);
        if (outcome_.index() == 2) std::rethrow_exception(std::get<2>(outcome_));
        if (outcome_.index() == 0) throw std::runtime_error("corio: blocking job dropped unrun (runtime shut down)");
        if constexpr (!std::is_void_v<R>) return std::move(std::get<1>(outcome_));
    }

private:
    std::mutex mutex_;
    bool done_ = false;                                                       // guarded by mutex_
    std::variant<std::monostate, stored_t<R>, std::exception_ptr> outcome_;   // guarded by mutex_
    waker waker_;                                                             // guarded by mutex_
};

template <class R, class F>
class blocking_call final : public blocking_job {
public:
    blocking_call(std::shared_ptr<blocking_outcome<R>> out, F&& f) : out_(std::move(out)), f_(std::move(f)) {}
    ~blocking_call() override {
        if (out_) out_->set({});  // dropped unrun: the waiter sees monostate
    }
    void run() noexcept override {
        auto out = std::move(out_);
        try {
            if constexpr (std::is_void_v<R>) {
                f_();
                out->set(std::variant<std::monostate, stored_t<R>, std::exception_ptr>(std::in_place_index<1>));
            } else {
                out->set(std::variant<std::monostate, stored_t<R>, std::exception_ptr>(std::in_place_index<1>, f_()));
            }
        } catch (...) {
            out->set(std::current_exception());
        }
    }

private:
    std::shared_ptr<blocking_outcome<R>> out_;
    F f_;
};

template <class R>
class blocking_wait final : public leaf_awaiter<blocking_wait<R>> {
public:
    explicit blocking_wait(std::shared_ptr<blocking_outcome<R>> out) noexcept : out_(std::move(out)) {}
    bool poll(context& cx) noexcept override { return out_->poll(cx.waker()); }
    void cancel() noexcept override { out_->clear_waker(); }
    ~blocking_wait() { cancel(); }
    R await_resume() { return out_->take(); }

private:
    std::shared_ptr<blocking_outcome<R>> out_;
};

template <class R>
task<R> await_blocking(std::shared_ptr<blocking_outcome<R>> out) {
    co_return co_await blocking_wait<R>(std::move(out));
}

}  // namespace detail

namespace detail {
template <class F, class R = std::invoke_result_t<F&>>
join_handle<R> spawn_blocking_on(scheduler* s, F f, const spawn_site& site) {
    auto out = std::make_shared<blocking_outcome<R>>();
    scheduler_spawn_blocking(s, std::make_unique<blocking_call<R, F>>(out, std::move(f)));
    return spawn_on(s, await_blocking<R>(std::move(out)), site, "spawn_blocking");
}
}  // namespace detail

/// Runs `f` on the blocking pool of the calling worker's runtime. Outside a runtime, use
/// runtime_handle::spawn_blocking.
template <class F, class R = std::invoke_result_t<F&>>
join_handle<R> spawn_blocking(F f, spawn_site site = spawn_site::current()) {
    detail::scheduler* s = detail::current_scheduler();
    if (!s) throw std::logic_error("corio::spawn_blocking called outside a corio runtime; use runtime_handle::spawn_blocking");
    return detail::spawn_blocking_on(s, std::move(f), site);
}

template <class F>
auto runtime_handle::spawn_blocking(F f, spawn_site site) {
    return detail::spawn_blocking_on(sched_, std::move(f), site);
}

}  // namespace corio
