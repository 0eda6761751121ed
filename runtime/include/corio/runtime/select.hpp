// corio/runtime/select.hpp — wait on several operations at once, run the handler of the first
// to complete (Tokio's select!).
//
//     co_await corio::select(
//         corio::branch(rx.recv()).when_some([&](int v) { use(v); }),      // closed: branch drops out
//         corio::branch(tx.send(next), [&](auto r) { sent(r); }).if_(have_next),
//         corio::branch(corio::sleep(1s), [&] { tick(); }),
//         corio::otherwise([&] { done = true; }));                          // every branch disabled
//
//     auto r = co_await corio::select(rx.recv(), corio::sleep(1s));         // no handlers: a variant
//     if (r.index() == 0) use(std::get<0>(r));                              // std::optional<T>
//
// Branches: any corio leaf operation (channel send/recv/reserve, oneshot/broadcast/watch
//   receives, sleep, notify, cancellation_token::cancelled, semaphore acquire, mutex lock, io
//   operations), an awaitable whose operator co_await returns one (join_handle, oneshot
//   receiver), or a task<T>, which runs inline in the selecting task (no spawn: its leaves wake
//   the selecting task; detail/inline_task.hpp). A raw argument is a branch without handler.
//   branch(op, handler) runs `handler(result)` (or `handler()`) when op wins.
//   .when_some(): a std::optional result that is nullopt disables the branch instead of winning
//     (Tokio's `Some(v) = rx.recv()`); the handler gets the value. .when_ok(): the same for a
//     corio::result that holds an error. .if_(cond): the branch is disabled before waiting when
//     cond is false (its operation is never polled, a task<T> never started). otherwise(h) runs
//     when every branch is disabled (Tokio's `else`).
// Result: with handlers (every branch has one), the handlers' common result type (void allowed);
//   a handler returning task<R> makes select a task<R> that awaits that handler (one frame for
//   select plus the handler's frame per select). Without handlers, std::variant<V0, ..., Vn-1>
//   (void results as std::monostate), plus a trailing std::monostate for otherwise(); index()
//   is the winner. Every branch disabled and no otherwise(): the co_await throws
//   corio::all_branches_disabled (Tokio panics).
// Fairness: select polls the enabled branches from a random start (a thread-local xorshift), so
//   a branch that is always ready cannot starve the others; select_biased polls in written order.
// Cancellation (the rule: no operand outlives the co_await that owns it; docs/select.md has the
//   table per operation): exactly one branch wins. poll stops at the first branch whose operation
//   completed, so no other branch is polled after an effect happened. Before select reports ready
//   — so before any handler runs — every other branch is cancelled: its leaf unregisters and
//   gives back what it was granted (a lock, permits, capacity), whether the select owns it (a
//   movable temporary), uses it in place (a pinned temporary such as `m.lock()`) or borrows it
//   (a named operation, which keeps its argument and can be awaited again); a task<T> operand's
//   frame is destroyed; a task given as a temporary join_handle (`spawn(f())`) is aborted, and the
//   select waits until it has finished. A losing temporary `tx.send(v)` hands v to
//   .unsent_into(opt) if given.
// Allocation: none per select with plain handlers; select is a leaf awaiter living in the frame.
// Preconditions: await a select in the full-expression that creates it (it may point at
//   temporaries of that expression); at most 64 branches.
#pragma once

#include <corio/runtime/select/state.hpp>
#include <corio/runtime/leaf.hpp>
#include <corio/runtime/task.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <optional>
#include <stdexcept>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>

namespace corio {

/// The leaf behind co_await select(...): polls the enabled branches, cancels the losers, runs the
/// winner's handler in await_resume. Pinned (it holds the branches' leaves).
template <bool Biased, class Otherwise, class... Branches>
class [[nodiscard]] select_operation : public leaf_awaiter<select_operation<Biased, Otherwise, Branches...>> {
    static constexpr std::size_t n = sizeof...(Branches);
    static_assert(n >= 1, "corio::select: at least one branch");
    static_assert(n <= 64, "corio::select: at most 64 branches");
    using types = detail::select_types<Otherwise, Branches...>;
    using res = detail::select_result<types::handler_mode, Otherwise, Branches...>;

public:
    /// What co_await yields (in coroutine mode, what the wrapping task yields).
    using result_type = typename res::type;
    /// What await_resume returns: result_type, or in coroutine mode the task<result_type> that runs
    /// the winner's coroutine handler.
    using resume_type = typename res::resume_type;
    /// True when a handler returns task<R>: `co_await select(...)` then yields that task's result.
    static constexpr bool coroutine_mode = res::coro;

    /// Made by select() and select_biased(); not called directly.
    explicit select_operation(Otherwise&& o, Branches&&... b)
        : otherwise_(std::move(o)), states_(std::move(b)...) {
        start(std::make_index_sequence<n>{});
    }
    select_operation(const select_operation&) = delete;
    select_operation& operator=(const select_operation&) = delete;

    /// Polls the enabled branches (from a random start, or in written order if biased); when one is
    /// ready, cancels the others and is ready. Ready at once through `otherwise` when every branch
    /// is disabled.
    bool poll(context& cx) noexcept override {
        if (winner_ != pending) return drain(cx);
        if (live_ != 0) {
            const std::uint32_t first = Biased || n == 1 ? 0 : detail::select_random(static_cast<std::uint32_t>(n));
            for (std::size_t k = 0; k < n; ++k) {
                std::size_t i = first + k;
                if (i >= n) i -= n;
                // Stop at the first branch that completed: its effect happened, so no other branch
                // may run after it (that is what keeps a message from being taken twice).
                if ((this->*poll_table()[i])(cx)) {
                    winner_ = i;
                    cancel_losers(std::make_index_sequence<n>{});
                    if (drain(cx)) return true;
                    // A loser's aborted task is still running: keep the winner's result in the
                    // select, so that if the select is destroyed meanwhile (its task aborted) the
                    // result is destroyed with it (a lock guard unlocks) rather than left
                    // untaken in the leaf.
                    stash_winner(std::make_index_sequence<n>{});
                    return false;
                }
            }
            if (live_ != 0) return false;
        }
        winner_ = n;  // every branch is disabled
        cancel_losers(std::make_index_sequence<n>{});
        return drain(cx);
    }

    /// The select lost (an enclosing select or timeout, or its task's abort): every live branch
    /// is cancelled. Final: a select does not start over.
    void cancel() noexcept override {
        if (winner_ == pending) winner_ = cancelled;
        cancel_losers(std::make_index_sequence<n>{});
    }
    /// After cancel(): ready once nothing the branches started still runs (a spawned task they
    /// aborted has finished).
    bool poll_cancel(context& cx) noexcept override { return drain(cx); }

    /// "select { recv on … | sleep until … }": the branches still pending.
    void describe(std::string& out) const override {
        if (winner_ != pending) {
            out += "select, waiting for its losing branches to finish cancelling";
            return;
        }
        out += "select {";
        bool first = true;
        describe_live(out, first, std::make_index_sequence<n>{});
        out += " }";
    }

    /// The winner's result, or its handler's; the `otherwise` handler's if every branch was
    /// disabled.
    resume_type await_resume() {
        if (winner_ == n) return resume_otherwise();
        return (this->*resume_table()[winner_])();
    }

    /// The index of the winning branch (n: every branch was disabled); valid after completion.
    std::size_t winner() const noexcept { return winner_; }

private:
    static constexpr std::size_t pending = static_cast<std::size_t>(-1);
    static constexpr std::size_t cancelled = static_cast<std::size_t>(-2);
    template <std::size_t I>
    using branch_t = std::tuple_element_t<I, std::tuple<Branches...>>;

    template <std::size_t... I>
    void start(std::index_sequence<I...>) {
        (start_one<I>(), ...);
    }
    template <std::size_t... I>
    void describe_live(std::string& out, bool& first, std::index_sequence<I...>) const {
        (describe_one<I>(out, first), ...);
    }
    template <std::size_t I>
    void describe_one(std::string& out, bool& first) const {
        if (!(live_ & (std::uint64_t{1} << I))) return;
        out += first ? " " : " | ";
        first = false;
        std::get<I>(states_).slot.describe(out);
    }
    template <std::size_t I>
    void start_one() {
        auto& s = std::get<I>(states_);
        if (!s.enabled) return;
        s.slot.start();
        live_ |= std::uint64_t{1} << I;
    }

    template <std::size_t I>
    bool poll_one(context& cx) noexcept {
        constexpr std::uint64_t bit = std::uint64_t{1} << I;
        if (!(live_ & bit)) return false;
        auto& s = std::get<I>(states_);
        if (!s.slot.poll(cx)) return false;
        if constexpr (branch_t<I>::is_filtered) {
            using F = typename branch_t<I>::filter_type;
            try {
                auto r = s.slot.take();
                if (!r) {
                    // The operation reported its end (closed, nullopt): the branch drops out and
                    // the others keep waiting. Nothing was taken that someone else could miss.
                    s.slot.finish();
                    live_ &= ~bit;
                    return false;
                }
                if constexpr (std::is_same_v<F, detail::filter_ok> && std::is_void_v<typename branch_t<I>::value_type>)
                    s.value.emplace();
                else
                    s.value.emplace(std::move(*r));
            } catch (...) {
                s.error = std::current_exception();  // rethrown by await_resume: this branch won
            }
        }
        return true;
    }

    template <std::size_t... I>
    void cancel_losers(std::index_sequence<I...>) noexcept {
        (cancel_one<I>(), ...);
    }
    template <std::size_t... I>
    void stash_winner(std::index_sequence<I...>) noexcept {
        (stash_one<I>(), ...);
    }
    template <std::size_t I>
    void stash_one() noexcept {
        if constexpr (!branch_t<I>::is_filtered) {  // a filtered winner's value is stashed already
            if (I != winner_) return;
            auto& s = std::get<I>(states_);
            try {
                if constexpr (std::is_void_v<typename branch_t<I>::value_type>) {
                    s.slot.take();
                    s.value.emplace();
                } else {
                    s.value.emplace(s.slot.take());
                }
            } catch (...) {
                s.error = std::current_exception();
            }
            s.slot.finish();
        }
    }

    template <std::size_t I>
    void cancel_one() noexcept {
        if (I == winner_) return;
        auto& s = std::get<I>(states_);
        constexpr std::uint64_t bit = std::uint64_t{1} << I;
        // A disabled branch that was never started still hands back its temporary send's value.
        if (live_ & bit) draining_ |= bit;
        live_ &= ~bit;
        if constexpr (branch_t<I>::source_type::gives_back) {
            auto v = s.slot.cancel_and_take_unsent();
            if (s.unsent && v) *s.unsent = std::move(v);
        } else {
            s.slot.cancel();
        }
    }

    // After the losers were cancelled: true once none of them still runs (only an aborted task
    // given as a temporary join_handle can take a while; its awaiter registers our waker).
    bool drain(context& cx) noexcept {
        if (draining_ != 0) drain_all(cx, std::make_index_sequence<n>{});
        return draining_ == 0;
    }
    template <std::size_t... I>
    void drain_all(context& cx, std::index_sequence<I...>) noexcept {
        (drain_one<I>(cx), ...);
    }
    template <std::size_t I>
    void drain_one(context& cx) noexcept {
        constexpr std::uint64_t bit = std::uint64_t{1} << I;
        if ((draining_ & bit) && std::get<I>(states_).slot.poll_cancel(cx)) draining_ &= ~bit;
    }

    // Calls f(value) or f() (void) with the winner's result.
    template <std::size_t I, class F>
    decltype(auto) with_value(F&& f) {
        auto& s = std::get<I>(states_);
        using V = typename branch_t<I>::value_type;
        auto stashed = [&]() -> decltype(auto) {
            if (s.error) std::rethrow_exception(s.error);
            if constexpr (std::is_void_v<V>) return f();
            else return f(std::move(*s.value));
        };
        // Taken during poll: a filtered branch's value (the filter looked at it), or a winner's
        // stashed while the select waited for an aborted task.
        if constexpr (branch_t<I>::is_filtered) {
            return stashed();
        } else {
            if (s.value || s.error) return stashed();
            if constexpr (std::is_void_v<V>) {
                s.slot.take();
                return f();
            } else {
                return f(s.slot.take());
            }
        }
    }

    template <class X, class Call>
    static resume_type deliver(Call&& call) {
        using R = result_type;
        if constexpr (!coroutine_mode) {
            if constexpr (std::is_void_v<R>) call();
            else return static_cast<R>(call());
        } else if constexpr (detail::unwrap_task<X>::coro) {
            resume_type out;
            if constexpr (std::is_same_v<X, task<R>>) out.handler_task.emplace(call());
            else out.handler_task.emplace(detail::convert_task<R>(call()));
            return out;
        } else {
            resume_type out;
            if constexpr (std::is_void_v<R>) {
                call();
                out.value.emplace();
            } else {
                out.value.emplace(call());
            }
            return out;
        }
    }

    template <std::size_t I>
    resume_type resume_one() {
        if constexpr (!types::handler_mode) {
            return with_value<I>([](auto&&... v) { return resume_type(std::in_place_index<I>, std::forward<decltype(v)>(v)...); });
        } else {
            using X = detail::branch_raw_result_t<branch_t<I>>;
            auto& s = std::get<I>(states_);
            return with_value<I>([&s](auto&&... v) -> resume_type {
                return deliver<X>([&] { return detail::call_handler(s.handler, std::forward<decltype(v)>(v)...); });
            });
        }
    }

    resume_type resume_otherwise() {
        if constexpr (std::is_same_v<Otherwise, detail::no_otherwise>) {
            throw all_branches_disabled();
        } else if constexpr (!types::handler_mode) {
            return resume_type(std::in_place_index<n>);
        } else {
            using X = typename detail::otherwise_raw_result<Otherwise>::type;
            return deliver<X>([this] { return std::invoke(otherwise_.handler_); });
        }
    }

    using poll_fn = bool (select_operation::*)(context&) noexcept;
    using resume_fn = resume_type (select_operation::*)();
    template <std::size_t... I>
    static constexpr std::array<poll_fn, n> make_poll_table(std::index_sequence<I...>) {
        return {&select_operation::template poll_one<I>...};
    }
    template <std::size_t... I>
    static constexpr std::array<resume_fn, n> make_resume_table(std::index_sequence<I...>) {
        return {&select_operation::template resume_one<I>...};
    }
    // Function-local: the class is complete here (an in-class static constexpr would not be).
    static const std::array<poll_fn, n>& poll_table() noexcept {
        static constexpr std::array<poll_fn, n> table = make_poll_table(std::make_index_sequence<n>{});
        return table;
    }
    static const std::array<resume_fn, n>& resume_table() noexcept {
        static constexpr std::array<resume_fn, n> table = make_resume_table(std::make_index_sequence<n>{});
        return table;
    }

    detail::otherwise_state<Otherwise> otherwise_;
    std::tuple<detail::select_state<Branches>...> states_;
    std::uint64_t live_ = 0;      // bit i: branch i is enabled and its leaf is live
    std::uint64_t draining_ = 0;  // bit i: branch i was cancelled and may still be running
    std::size_t winner_ = pending;
};

namespace detail {

template <class Op, class O, class... B>
task<typename Op::result_type> select_coro(O o, B... b) {
    Op op(std::move(o), std::move(b)...);
    coro_outcome<typename Op::result_type> out = co_await op;
    if constexpr (std::is_void_v<typename Op::result_type>) {
        if (out.handler_task) co_await std::move(*out.handler_task);
    } else {
        if (out.handler_task) co_return co_await std::move(*out.handler_task);
        co_return std::move(*out.value);
    }
}

template <bool Biased, class O, class... B>
auto build_select(O&& o, B&&... b) {
    using op = select_operation<Biased, O, B...>;
    if constexpr (op::coroutine_mode) return select_coro<op>(std::move(o), std::move(b)...);
    else return op(std::move(o), std::move(b)...);
}

template <bool Biased, class... Args>
auto make_select(Args&&... args) {
    constexpr std::size_t count = sizeof...(Args);
    static_assert(count >= 1, "corio::select: at least one branch");
    using last = std::remove_cvref_t<std::tuple_element_t<count - 1, std::tuple<Args...>>>;
    if constexpr (is_otherwise<last>::value) {
        auto refs = std::forward_as_tuple(std::forward<Args>(args)...);
        return [&]<std::size_t... I>(std::index_sequence<I...>) {
            return build_select<Biased>(last(std::move(std::get<count - 1>(refs))), as_branch(std::get<I>(std::move(refs)))...);
        }(std::make_index_sequence<count - 1>{});
    } else {
        return build_select<Biased>(no_otherwise{}, as_branch(std::forward<Args>(args))...);
    }
}

}  // namespace detail

/// Waits for the first of the branches, polled from a random start (fair). See the file comment.
template <class... Args>
auto select(Args&&... args) {
    return detail::make_select<false>(std::forward<Args>(args)...);
}

/// As select(), polling the branches in the order written: an earlier ready branch always wins.
template <class... Args>
auto select_biased(Args&&... args) {
    return detail::make_select<true>(std::forward<Args>(args)...);
}

}  // namespace corio
