// corio/runtime/detail/select_source.hpp — how select, join and race hold what they wait on.
//
// Every argument of a combinator becomes a *source*: the recipe for one leaf, kept until the
// combinator is built, plus what the combinator must own for that leaf to stay valid. The
// combinator builds each enabled source's leaf in place (leaves are pinned once polled) and polls
// it; when the branch is cancelled it destroys the leaf, then calls cancel() on the source.
//
//   argument                               source                 leaf polled             on cancel
//   lvalue leaf (`auto op = rx.recv()`)    leaf_ptr_source<L,0>   leaf_ref (the caller's)  nothing: the caller's op keeps its registration
//   temporary pinned leaf (`rx.recv()`)    leaf_ptr_source<L,1>   leaf_ref (the temporary) take_value() if it has one (unsent value back);
//                                                                                          the temporary dies at the end of the statement
//   temporary movable leaf (`sleep(1s)`)   leaf_value_source<D>   D, moved into the slot   the slot is destroyed (unregisters)
//   lvalue awaitable (join_handle, oneshot receiver)  awaitable_ptr_source  `a.operator co_await()` in the slot   slot destroyed
//   temporary awaitable                    awaitable_value_source (owns it)  as above     slot destroyed; the awaitable dies with the combinator
//   task<T>                                task_source<T>         join_handle awaiter      the spawned task is aborted
//
// Source interface:
//   using leaf_type, value_type;   make() -> leaf_type (prvalue);   static take(leaf_type&) -> value_type;
//   void cancel() noexcept;        using unsent_type (std::optional<T> for a pending send, else no_unsent).
#pragma once

#include <corio/runtime/join_handle.hpp>
#include <corio/runtime/leaf.hpp>
#include <corio/runtime/runtime.hpp>
#include <corio/runtime/task.hpp>
#include <corio/runtime/time.hpp>

#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

namespace corio::detail {

struct no_unsent {};

template <class L, bool Temporary>
class leaf_ptr_source {
public:
    using leaf_type = leaf_ref<L>;
    using value_type = decltype(std::declval<L&>().await_resume());
    // Only a temporary send can be handed back by select: an lvalue operation is the caller's.
    static constexpr bool gives_back = Temporary && has_take_value<L>;
    using unsent_type = std::conditional_t<gives_back, typename taken_value<L>::type, no_unsent>;

    explicit leaf_ptr_source(L* p) noexcept : p_(p) {}
    leaf_type make() noexcept { return leaf_type(*p_); }
    static value_type take(leaf_type& l) { return l.await_resume(); }
    void cancel() noexcept {}
    // A losing temporary send leaves the capacity queue now (not at the end of the statement) and
    // hands its value back.
    unsent_type take_unsent() noexcept {
        if constexpr (gives_back) return p_->take_value();
        else return {};
    }

private:
    L* p_;  // Lifetime: an lvalue outlives the combinator; a temporary lives to the end of the full-expression.
};

template <class D>
class leaf_value_source {
public:
    using leaf_type = D;
    using value_type = decltype(std::declval<D&>().await_resume());
    static constexpr bool gives_back = false;
    using unsent_type = no_unsent;

    explicit leaf_value_source(D&& d) noexcept(std::is_nothrow_move_constructible_v<D>) : d_(std::move(d)) {}
    leaf_type make() noexcept(std::is_nothrow_move_constructible_v<D>) { return D(std::move(d_)); }
    static value_type take(leaf_type& l) { return l.await_resume(); }
    void cancel() noexcept {}
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
    using unsent_type = no_unsent;

    explicit awaitable_ptr_source(D* p) noexcept : p_(p) {}
    leaf_type make() { return p_->operator co_await(); }
    static value_type take(leaf_type& l) { return l.await_resume(); }
    void cancel() noexcept {}
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
    using unsent_type = no_unsent;

    explicit awaitable_value_source(D&& d) noexcept(std::is_nothrow_move_constructible_v<D>) : d_(std::move(d)) {}
    leaf_type make() { return d_.operator co_await(); }
    static value_type take(leaf_type& l) { return l.await_resume(); }
    void cancel() noexcept {}
    unsent_type take_unsent() noexcept { return {}; }

private:
    D d_;  // Lifetime: the leaf points into it; both live in the combinator, d_ first.
};

// A task<T> argument is spawned on the current runtime when the combinator is built (only if its
// branch is enabled); the combinator owns the join_handle and aborts the task if the branch is
// cancelled or the combinator is destroyed first. Its exception is rethrown by take().
template <class T>
class task_source {
public:
    using leaf_type = typename join_handle<T>::awaiter;
    using value_type = T;
    static constexpr bool gives_back = false;
    using unsent_type = no_unsent;

    explicit task_source(task<T>&& t) noexcept : task_(std::move(t)) {}
    task_source(task_source&&) noexcept = default;
    task_source& operator=(task_source&&) = delete;
    ~task_source() { cancel(); }

    leaf_type make() {
        handle_ = ::corio::spawn(std::move(task_));
        return handle_.operator co_await();
    }
    static T take(leaf_type& l) {
        auto r = l.await_resume();
        if (!r) r.error().throw_as_exception();  // the task threw, or the runtime shut down
        if constexpr (!std::is_void_v<T>) return std::move(*r);
    }
    void cancel() noexcept {
        if (handle_ && !handle_.is_finished()) handle_.abort();
        handle_.detach();
    }
    unsent_type take_unsent() noexcept { return {}; }

private:
    task<T> task_;
    join_handle<T> handle_;
};

// The source for one combinator argument (table above).
template <class A>
auto make_source(A&& a) {
    using D = std::remove_cvref_t<A>;
    if constexpr (leaf_type<D>) {
        if constexpr (std::is_lvalue_reference_v<A>) return leaf_ptr_source<D, false>(&a);
        else if constexpr (!std::is_move_constructible_v<D>) return leaf_ptr_source<D, true>(&a);
        else return leaf_value_source<D>(std::move(a));
    } else if constexpr (is_task<D>::value) {
        static_assert(!std::is_lvalue_reference_v<A>, "corio: pass a task<T> to select/join/race as an rvalue (it is spawned)");
        return task_source<typename D::value_type>(std::move(a));
    } else {
        static_assert(leaf_co_awaitable<D>,
                      "corio::select/join/race: the argument is not a corio leaf operation, an awaitable whose "
                      "operator co_await returns one (join_handle, oneshot receiver), or a task<T>");
        if constexpr (std::is_lvalue_reference_v<A>) return awaitable_ptr_source<D>(&a);
        else return awaitable_value_source<D>(std::move(a));
    }
}

template <class A>
using source_t = decltype(make_source(std::declval<A>()));

// A leaf built from a source, and the source it belongs to. Pinned: it lives in the combinator.
template <class Source>
class source_slot {
public:
    using leaf_type = typename Source::leaf_type;

    explicit source_slot(Source&& s) noexcept(std::is_nothrow_move_constructible_v<Source>) : source_(std::move(s)) {}
    source_slot(const source_slot&) = delete;
    source_slot& operator=(const source_slot&) = delete;

    void start() {
        leaf_.emplace([this] { return source_.make(); });
    }
    bool live() const noexcept { return static_cast<bool>(leaf_); }
    bool poll(context& cx) noexcept { return leaf_->poll(cx); }
    typename Source::value_type take() { return Source::take(*leaf_.get()); }
    // The leaf is destroyed (it unregisters and gives back what it reserved), then the source
    // gives up what it owns (a spawned task is aborted).
    void cancel() noexcept {
        leaf_.reset();
        source_.cancel();
    }
    // As cancel(), first taking back the value of a temporary send that never went out.
    typename Source::unsent_type cancel_and_take_unsent() noexcept {
        auto v = source_.take_unsent();
        cancel();
        return v;
    }
    void finish() noexcept { leaf_.reset(); }

private:
    Source source_;  // declared first: the leaf may point into it
    leaf_slot<leaf_type> leaf_;
};

// void -> std::monostate, for tuples and variants of results.
template <class V>
using stored_value_t = std::conditional_t<std::is_void_v<V>, std::monostate, V>;

// A thread's xorshift32 state for select's random start. Not a coroutine, so the thread_local is
// read on the thread that runs the poll (DESIGN-NOTES §7.10 concerns coroutine frames only).
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
