// corio/runtime/select/source.hpp — how select, join, race and timeout hold their operands.
//
// Every operand of a combinator becomes a *source*: the recipe for one leaf, plus whatever the
// combinator must own for that leaf to stay valid. The combinator builds each enabled source's
// leaf in place in a source_slot (leaves are pinned once polled), polls it, and when the operand
// loses cancels it (the leaf contract, corio/runtime/leaf.hpp) before the combinator reports
// ready, so before any handler runs.
//
//   operand                                   source                 leaf polled                 when it loses
//   named leaf (`auto op = rx.recv()`)        leaf_ptr_source<L,0>   leaf_ref (the caller's)     op.cancel(): unregistered, grants back; the
//                                                                                                op keeps its argument and can be awaited again
//   pinned temporary leaf (`m.lock()`)        leaf_ptr_source<L,1>   leaf_ref (the temporary)    op.cancel(); a send's value goes to unsent_into
//   movable temporary leaf (`sleep(1s)`)      leaf_value_source<D>   D, moved into the slot      destroyed (its destructor cancels)
//   named awaitable (join_handle, oneshot rx) awaitable_ptr_source   its operator co_await()     cancelled; the handle keeps the outcome
//   temporary awaitable (oneshot receiver)    awaitable_value_source as above, owning it         cancelled, and dies with the combinator
//   temporary join_handle (`spawn(f())`)      owned_join_source<T>   the handle's awaiter        the task is aborted, and the combinator waits
//                                                                                                until it has finished (poll_cancel)
//   task<T> (`fetch(1)`)                      inline_task_source<T>  inline_task<T>: the frame   the frame chain is destroyed
//                                                                    runs inside the awaiting task
//
// Source interface: leaf_type, value_type, unsent_type, gives_back, owns_task;
//   leaf_type make() (a prvalue);  static value_type take(leaf_type&);  unsent_type take_unsent();
//   void abort() noexcept (owns_task only: the spawned task is aborted).
#pragma once

#include <corio/runtime/detail/inline_task.hpp>
#include <corio/runtime/join_handle.hpp>
#include <corio/runtime/leaf.hpp>
#include <corio/runtime/task.hpp>

#include <cstdint>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

namespace corio::detail {

struct no_unsent {};

template <class D>
struct is_task : std::false_type {};
template <class T>
struct is_task<task<T>> : std::true_type {};

template <class D>
struct is_join_handle : std::false_type {};
template <class T>
struct is_join_handle<join_handle<T>> : std::true_type {
    using output = T;
};

template <class L, bool Temporary>
class leaf_ptr_source {
public:
    using leaf_type = leaf_ref<L>;
    using value_type = decltype(std::declval<L&>().await_resume());
    // Only a temporary send hands its value to unsent_into: a named one keeps it (take_value()).
    static constexpr bool gives_back = Temporary && has_take_value<L>;
    static constexpr bool owns_task = false;
    using unsent_type = std::conditional_t<gives_back, typename taken_value<L>::type, no_unsent>;

    explicit leaf_ptr_source(L* p) noexcept : p_(p) {}
    leaf_type make() noexcept { return leaf_type(*p_); }
    static value_type take(leaf_type& l) { return l.await_resume(); }
    unsent_type take_unsent() noexcept {
        if constexpr (gives_back) return p_->take_value();
        else return {};
    }

private:
    L* p_;  // Lifetime: a named operation outlives the combinator; a temporary lives to the end of the full-expression.
};

template <class D>
class leaf_value_source {
public:
    using leaf_type = D;
    using value_type = decltype(std::declval<D&>().await_resume());
    static constexpr bool gives_back = false;
    static constexpr bool owns_task = false;
    using unsent_type = no_unsent;

    explicit leaf_value_source(D&& d) noexcept(std::is_nothrow_move_constructible_v<D>) : d_(std::move(d)) {}
    leaf_type make() noexcept(std::is_nothrow_move_constructible_v<D>) { return D(std::move(d_)); }
    static value_type take(leaf_type& l) { return l.await_resume(); }
    unsent_type take_unsent() noexcept { return {}; }

private:
    D d_;  // moved into the combinator's slot before the first poll
};

template <class D>
class awaitable_ptr_source {
public:
    using leaf_type = std::remove_cvref_t<decltype(std::declval<D&>().operator co_await())>;
    using value_type = decltype(std::declval<leaf_type&>().await_resume());
    static constexpr bool gives_back = false;
    static constexpr bool owns_task = false;
    using unsent_type = no_unsent;

    explicit awaitable_ptr_source(D* p) noexcept : p_(p) {}
    leaf_type make() { return p_->operator co_await(); }
    static value_type take(leaf_type& l) { return l.await_resume(); }
    unsent_type take_unsent() noexcept { return {}; }

private:
    D* p_;
};

template <class D>
class awaitable_value_source {
public:
    using leaf_type = std::remove_cvref_t<decltype(std::declval<D&>().operator co_await())>;
    using value_type = decltype(std::declval<leaf_type&>().await_resume());
    static constexpr bool gives_back = false;
    static constexpr bool owns_task = false;
    using unsent_type = no_unsent;

    explicit awaitable_value_source(D&& d) noexcept(std::is_nothrow_move_constructible_v<D>) : d_(std::move(d)) {}
    leaf_type make() { return d_.operator co_await(); }
    static value_type take(leaf_type& l) { return l.await_resume(); }
    unsent_type take_unsent() noexcept { return {}; }

private:
    D d_;  // Lifetime: the leaf points into it; both live in the combinator, d_ first.
};

// A temporary join_handle: the task was spawned by the caller to run in parallel, and its handle
// given to the combinator. If its outcome is not delivered (the branch loses, the join stops
// early), the task is aborted and the combinator does not report ready until it has finished:
// nothing the task touches is still in use when the combinator returns. If the combinator is
// destroyed instead (its own task aborted), the task is aborted and left to finish on its own.
template <class T>
class owned_join_source {
public:
    using leaf_type = typename join_handle<T>::awaiter;
    using value_type = result<T, join_error>;
    static constexpr bool gives_back = false;
    static constexpr bool owns_task = true;
    using unsent_type = no_unsent;

    explicit owned_join_source(join_handle<T>&& h) noexcept : handle_(std::move(h)) {}
    owned_join_source(owned_join_source&&) noexcept = default;
    owned_join_source& operator=(owned_join_source&&) = delete;
    ~owned_join_source() { abort(); }

    leaf_type make() { return handle_.operator co_await(); }
    static value_type take(leaf_type& l) { return l.await_resume(); }
    unsent_type take_unsent() noexcept { return {}; }
    void abort() noexcept {
        if (handle_ && !handle_.is_finished()) handle_.abort();
    }

private:
    join_handle<T> handle_;
};

// A task<T> operand runs inline in the awaiting task (inline_task.hpp); never started if its
// branch is disabled (the unstarted frame is destroyed with the source).
template <class T>
class inline_task_source {
public:
    using leaf_type = inline_task<T>;
    using value_type = T;
    static constexpr bool gives_back = false;
    static constexpr bool owns_task = false;
    using unsent_type = no_unsent;

    explicit inline_task_source(task<T>&& t) noexcept : task_(std::move(t)) {}
    leaf_type make() noexcept { return leaf_type(std::move(task_)); }
    static T take(leaf_type& l) { return l.await_resume(); }
    unsent_type take_unsent() noexcept { return {}; }

private:
    task<T> task_;
};

// The source for one combinator operand (table above).
template <class A>
auto make_source(A&& a) {
    using D = std::remove_cvref_t<A>;
    if constexpr (leaf_type<D>) {
        if constexpr (std::is_lvalue_reference_v<A>) return leaf_ptr_source<D, false>(&a);
        else if constexpr (!std::is_move_constructible_v<D>) return leaf_ptr_source<D, true>(&a);
        else return leaf_value_source<D>(std::move(a));
    } else if constexpr (is_task<D>::value) {
        static_assert(!std::is_lvalue_reference_v<A>,
                      "corio: pass a task<T> to select/join/race/timeout as an rvalue (the combinator runs it and owns it)");
        return inline_task_source<typename D::value_type>(std::move(a));
    } else if constexpr (is_join_handle<D>::value && !std::is_lvalue_reference_v<A>) {
        return owned_join_source<typename is_join_handle<D>::output>(std::move(a));
    } else {
        static_assert(leaf_co_awaitable<D>,
                      "corio::select/join/race/timeout: the operand is not a corio leaf operation, an awaitable whose "
                      "operator co_await returns one (join_handle, oneshot receiver), or a task<T>");
        if constexpr (std::is_lvalue_reference_v<A>) return awaitable_ptr_source<D>(&a);
        else return awaitable_value_source<D>(std::move(a));
    }
}

template <class A>
using source_t = decltype(make_source(std::declval<A>()));

// A leaf built from a source, and the source it belongs to. Pinned: it lives in the combinator.
//   start() builds the leaf; poll() polls it; take() moves the result out of a ready leaf.
//   cancel(): the operand lost — its leaf is cancelled (a named operation or pinned temporary
//     too: it is the caller's object, but what it holds goes back now) and a spawned task aborted.
//   poll_cancel(): after cancel(), true once nothing of the operand still runs; the leaf is gone.
//   finish(): the leaf is no longer needed (its result was taken, or it reported its end).
template <class Source>
class source_slot {
public:
    using leaf_type = typename Source::leaf_type;

    explicit source_slot(Source&& s) noexcept(std::is_nothrow_move_constructible_v<Source>) : source_(std::move(s)) {}
    source_slot(const source_slot&) = delete;
    source_slot& operator=(const source_slot&) = delete;
    // The combinator is destroyed (its task aborted, or it completed): a live operand is
    // cancelled, also when the leaf is the caller's; an owned task is aborted by ~Source.
    ~source_slot() {
        if (leaf_) leaf_->cancel();
    }

    void start() {
        leaf_.emplace([this] { return source_.make(); });
    }
    bool live() const noexcept { return static_cast<bool>(leaf_); }
    bool poll(context& cx) noexcept { return leaf_->poll(cx); }
    typename Source::value_type take() { return Source::take(*leaf_.get()); }

    void cancel() noexcept {
        if (!leaf_) return;
        leaf_->cancel();
        if constexpr (Source::owns_task) source_.abort();
    }
    // As cancel(), then hands back the value of a temporary send that never went out.
    typename Source::unsent_type cancel_and_take_unsent() noexcept {
        cancel();
        return source_.take_unsent();
    }
    bool poll_cancel(context& cx) noexcept {
        if (!leaf_) return true;
        bool done;
        // An aborted task's awaiter is ready once the task has completed (cancelled, or finished
        // first: its output is dropped with the handle).
        if constexpr (Source::owns_task) done = leaf_->poll(cx);
        else done = leaf_->poll_cancel(cx);
        if (done) leaf_.reset();
        return done;
    }
    void finish() noexcept { leaf_.reset(); }
    leaf_type& leaf() noexcept { return *leaf_.get(); }
    // For dumps (leaf.hpp, describe): the operand's leaf in words.
    void describe(std::string& out) const {
        if (leaf_) describe_operand(*leaf_.get(), out);
        else out += "(finished)";
    }

private:
    Source source_;  // declared first: the leaf may point into it
    leaf_slot<leaf_type> leaf_;
};

// void -> std::monostate, for tuples and variants of results.
template <class V>
using stored_value_t = std::conditional_t<std::is_void_v<V>, std::monostate, V>;

// A thread's xorshift32 state for select's random start. Not a coroutine, so the thread_local is
// read on the thread that runs the poll (a coroutine that reads a thread_local across a suspension
// may resume on another worker, and clang 14 may cache its address: docs/runtime.md, "g++ 12 /
// clang 14 coroutine pitfalls").
inline std::uint32_t select_random(std::uint32_t n) noexcept {
    thread_local std::uint32_t state = 0;
    std::uint32_t s = state;
    if (s == 0) {
        // Any non-zero seed that differs between threads.
        s = static_cast<std::uint32_t>(reinterpret_cast<std::uintptr_t>(&state) >> 4) * 2654435761u | 1u;
    }
    s ^= s << 13;
    s ^= s >> 17;
    s ^= s << 5;
    state = s;
    return static_cast<std::uint32_t>((static_cast<std::uint64_t>(s) * n) >> 32);
}

}  // namespace corio::detail
