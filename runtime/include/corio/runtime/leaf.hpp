// corio/runtime/leaf.hpp — the leaf contract: every awaiter that suspends a task on a waker.
//
// A leaf is the only thing a corio task ever suspends on (a channel send or receive, a lock, a
// timer, an io operation, a join, and the combinators select / join / race / timeout, which are
// leaves made of leaves). The worker never resumes a suspended frame blindly: each time the task
// runs it polls the leaf, and only a leaf that reports ready lets the frame continue, so a
// spurious or early wake costs a poll, never a resume.
//
// The contract (every leaf, every combinator; docs/design/cancellation.md gives the argument):
//
//   bool poll(context& cx) noexcept
//       true: the operation's effect happened (a message taken, a permit assigned to this
//       leaf, a value queued) and its result is stored for await_resume(). false: nothing
//       happened except that cx.waker() is registered where the event will come from,
//       replacing any older registration of this leaf (the leaf owns one clone of a waker at
//       a time; the waker belongs to whoever polled last). Called only by the thread that holds
//       the polling task's `running` bit (task_state.hpp), so never concurrently with itself or
//       with cancel().
//   void cancel() noexcept
//       Undoes a pending poll. Afterwards the leaf is registered nowhere (no waker of it is
//       left in a waiter list, the timer wheel or the reactor), and whatever was assigned to it
//       since its last poll is given back: a permit or lock grant handed to its queue node goes
//       to the next waiter, a notification is forwarded, reserved capacity is released, bytes a
//       kernel delivered stay buffered for the next read. The leaf keeps its own argument (a
//       send's value, a sleep's deadline, an interval's schedule) and may be polled again as if
//       it had never been polled — except that an operation made of several effects keeps the
//       effects already done (read_exact's filled bytes, write_all's written bytes, copy's
//       progress): polled again it continues, since starting over would lose or repeat bytes.
//       Idempotent; a no-op on a leaf never polled, or one whose
//       last poll returned true (its result belongs to await_resume()). Same thread rule as
//       poll(). The destructor of a pending leaf does what cancel() does.
//       A combinator's cancel() cancels its operands; one that owns coroutine operands destroys
//       their frames, so it cannot start over (nobody polls it again: it is a temporary).
//   bool poll_cancel(context& cx) noexcept
//       After cancel(): true once nothing the leaf started is still running. Only a leaf that
//       owns a spawned task can say false (a combinator given a temporary join_handle aborts the
//       task on cancel and waits here for it to finish), with cx.waker() registered. Every
//       other leaf is done at cancel(): the default returns true.
//   R await_resume()
//       The result stored by the ready poll. Called at most once per completion.
//   void describe(std::string& out) const
//       Appends what the pending leaf waits for, in words, for dumps (corio/runtime/dump.hpp):
//       "recv on mpsc channel (0 of 64 queued, 2 senders alive)". Same thread rule as poll(): a
//       dump calls it holding the task's `running` bit (task_state::try_lock_for_inspection), so
//       the leaf's own fields are stable; state it shares with other threads (a channel's queue)
//       is read only through that state's thread-safe accessors. The default names the leaf's
//       type. Combinators describe their live operands.
//
// Who calls cancel(): a combinator, for every operand that did not win, before it reports
// ready (so before any handler runs and before the awaiting frame resumes); a task being
// aborted destroys its frames instead, which destroys its pending leaves. Nothing else.
//
// The first poll happens in await_suspend, so an operation that is ready at once never leaves
// the task. A polled leaf is pinned (a waiter list, the timer wheel or the reactor points at it),
// which is why most leaves can be neither copied nor moved once polled. Outside a runtime,
// blocking_poll() drives a leaf from a plain thread, parking on a futex; the channels'
// blocking_ twins are built on it.
#pragma once

#include <corio/runtime/waker.hpp>

#include <concepts>
#include <coroutine>
#include <new>
#include <string>
#include <type_traits>
#include <utility>

namespace corio::detail {

class task_promise_base;

class leaf {
public:
    virtual bool poll(context& cx) noexcept = 0;
    virtual void cancel() noexcept = 0;
    // After cancel(): true once nothing the leaf started still runs. Only a leaf that owns a
    // spawned task (a combinator given a temporary join_handle aborts it, then waits for it)
    // or contains such a leaf can return false, with cx.waker() registered.
    virtual bool poll_cancel(context& cx) noexcept {
        (void)cx;
        return true;
    }
    // What the leaf waits for, in words (see the contract above). Out of line
    // (runtime/src/leaf_describe.cpp): the default demangles the dynamic type's name.
    virtual void describe(std::string& out) const;

protected:
    // Virtual only so that destroying a concrete leaf through a slot draws no
    // -Wdelete-non-abstract-non-virtual-dtor; leaves are never deleted through `leaf*` (it stays
    // protected), and a call through the concrete type is devirtualized.
    virtual ~leaf() = default;
};

/// What runs a chain of task frames: a spawned task's header (task_header derives from it), or a
/// coroutine operand that a combinator runs inline inside the awaiting task (inline_task.hpp).
/// Every frame of the chain points to its cell (task_promise_base::cell_).
/// Owned by whoever runs the chain: the holder of the task's `running` bit.
class run_cell {
public:
    std::coroutine_handle<> resume_next_;   // trampoline slot: the next frame to resume
    std::coroutine_handle<> resume_point_;  // the frame suspended on pending_leaf_
    leaf* pending_leaf_ = nullptr;          // the leaf the chain waits on, if any
    context* current_cx_ = nullptr;         // valid while the chain runs

    /// Runs the chain as far as it goes: polls the pending leaf, and if it is ready resumes the
    /// frame suspended on it; then trampolines (task.hpp) until a frame suspends on a leaf or the
    /// root frame finishes. Returns false if the pending leaf was not ready (nothing resumed).
    bool drive(context& cx) noexcept {
        current_cx_ = &cx;
        if (pending_leaf_) {
            if (!pending_leaf_->poll(cx)) {
                current_cx_ = nullptr;
                return false;
            }
            pending_leaf_ = nullptr;
            resume_next_ = std::exchange(resume_point_, {});
        }
        while (std::coroutine_handle<> h = std::exchange(resume_next_, {})) h.resume();
        current_cx_ = nullptr;
        return true;
    }

protected:
    run_cell() noexcept = default;
    ~run_cell() = default;
};

/// Polls `l` from a thread that is not running a task until it is ready, parking in between.
/// Precondition: the calling thread is not a worker of a runtime (it would block that worker).
void blocking_poll(leaf& l);

template <class A>
concept leaf_type = std::derived_from<std::remove_cvref_t<A>, leaf>;

/// A combinator's operand in words: its describe() if it has one (every leaf does).
template <class L>
void describe_operand(const L& l, std::string& out) {
    if constexpr (requires { l.describe(out); }) l.describe(out);
    else out += "an operation";
}

template <class A>
concept leaf_co_awaitable = requires(A& a) {
    { a.operator co_await() } -> leaf_type;
};

// A send's take_value(): the value a pending send hands back when it is abandoned.
template <class L>
concept has_take_value = requires(L& l) { l.take_value(); };

template <class L>
struct taken_value {
    using type = void;
};
template <class L>
    requires has_take_value<L>
struct taken_value<L> {
    using type = std::remove_cvref_t<decltype(std::declval<L&>().take_value())>;
};

/// A leaf that a combinator uses in place without owning it: a named operation of the caller's
/// (`auto op = rx.recv(); select(op, ...)`), or a temporary of the awaiting full-expression that
/// cannot move. The combinator polls it, and cancels it when it loses; its destructor is the
/// caller's (or the language's, at the end of the statement).
template <class L>
class leaf_ref {
public:
    explicit leaf_ref(L& l) noexcept : l_(&l) {}
    bool poll(context& cx) noexcept { return l_->poll(cx); }
    void cancel() noexcept { l_->cancel(); }
    bool poll_cancel(context& cx) noexcept { return l_->poll_cancel(cx); }
    decltype(auto) await_resume() { return l_->await_resume(); }
    void describe(std::string& out) const { l_->describe(out); }
    decltype(auto) take_value()
        requires has_take_value<L>
    {
        return l_->take_value();
    }

private:
    L* l_;
};

/// Storage for a leaf built in place from a factory's prvalue (leaves need not be movable). The
/// owner of a slot destroys the leaf when it is done with it; destroying a pending leaf cancels it.
template <class L>
class leaf_slot {
public:
    leaf_slot() noexcept = default;
    leaf_slot(const leaf_slot&) = delete;
    leaf_slot& operator=(const leaf_slot&) = delete;
    ~leaf_slot() { reset(); }

    template <class F>
    void emplace(F&& make) {
        ::new (static_cast<void*>(buf_)) L(std::forward<F>(make)());  // prvalue: no move
        live_ = true;
    }
    void reset() noexcept {
        if (live_) {
            live_ = false;
            get()->L::~L();  // named: no virtual dispatch, and no -Wdelete-non-abstract-non-virtual-dtor
        }
    }
    explicit operator bool() const noexcept { return live_; }
    L* get() noexcept { return std::launder(reinterpret_cast<L*>(buf_)); }
    const L* get() const noexcept { return std::launder(reinterpret_cast<const L*>(buf_)); }
    L* operator->() noexcept { return get(); }
    const L* operator->() const noexcept { return get(); }

private:
    alignas(L) unsigned char buf_[sizeof(L)];
    bool live_ = false;
};

}  // namespace corio::detail

namespace corio {

/// The base of every leaf awaiter: the first poll happens in await_suspend, and a pending leaf is
/// recorded in the cell of the frame chain that awaits it.
template <class Derived>
class leaf_awaiter : public detail::leaf {
public:
    /// Always false: the first poll happens in await_suspend, so a ready operation never leaves the
    /// task.
    bool await_ready() const noexcept { return false; }

    /// Polls the leaf once; if it is pending, records it in the awaiting chain's cell (so the
    /// worker polls it, not the frame, on each wake) and suspends.
    template <class P>
        requires std::is_base_of_v<detail::task_promise_base, P>
    bool await_suspend(std::coroutine_handle<P> h) noexcept {
        detail::run_cell* cell = h.promise().cell_;
        if (static_cast<Derived*>(this)->poll(*cell->current_cx_)) return false;
        cell->pending_leaf_ = this;
        cell->resume_point_ = h;
        return true;
    }

protected:
    leaf_awaiter() = default;
    ~leaf_awaiter() = default;
};

}  // namespace corio
