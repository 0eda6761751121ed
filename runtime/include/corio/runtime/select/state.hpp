// corio/runtime/select/state.hpp — what a select holds per branch while it waits (the branch's
// source slot, handler, and a result taken early), and the result type it yields: the handlers'
// common result, or a std::variant of the branches' values when no branch has a handler.
#pragma once

#include <corio/runtime/select/branch.hpp>
#include <corio/runtime/select/source.hpp>
#include <corio/runtime/task.hpp>

#include <exception>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

namespace corio::detail {

// What a coroutine-mode select hands to its wrapping task: the handler's task, or its value.
template <class R>
struct coro_outcome {
    std::optional<task<R>> handler_task;
    std::optional<stored_value_t<R>> value;
};

template <class R, class X>
task<R> convert_task(task<X> t) {
    co_return co_await std::move(t);
}

// The per-branch state inside a select: the branch's source and leaf, its handler, and for a
// filtered branch the value taken during poll (the filter had to look at it).
template <class B>
struct select_state {
    using value_type = typename B::value_type;
    explicit select_state(B&& b)
        : slot(std::move(b.source_)), handler(std::move(b.handler_)), enabled(b.enabled_), unsent(b.unsent_) {}
    source_slot<typename B::source_type> slot;
    typename B::handler_type handler;
    bool enabled;
    typename B::unsent_type* unsent;
    // The result taken during poll: a filtered branch's (the filter looked at it), or a winner's
    // stashed while the select waits for an aborted task; and the exception take() threw.
    std::optional<stored_value_t<value_type>> value;
    std::exception_ptr error;
};

template <class B>
using branch_raw_result_t = typename handler_raw_result<typename B::handler_type, typename B::value_type>::type;

template <class O>
struct otherwise_raw_result {
    using type = std::invoke_result_t<typename O::handler_type&>;
};

template <class O, class... B>
struct select_types {
    static constexpr bool any_handler = (B::has_handler || ...);
    static constexpr bool handler_mode = any_handler || !std::is_same_v<typename O::handler_type, no_handler>;
    static_assert(!handler_mode || (B::has_handler && ...),
                  "corio::select: give every branch a handler, or none (then select yields a variant)");
    static_assert(!handler_mode || std::is_same_v<O, no_otherwise> || !std::is_same_v<typename O::handler_type, no_handler>,
                  "corio::select: with handlers, otherwise() needs a handler too");
    static_assert(handler_mode || std::is_same_v<O, no_otherwise> || std::is_same_v<typename O::handler_type, no_handler>,
                  "corio::select: without branch handlers, use otherwise() without a handler");
};

template <bool HandlerMode, class O, class... B>
struct select_result;

template <class O, class... B>
struct select_result<false, O, B...> {
    static constexpr bool coro = false;
    using type = std::conditional_t<std::is_same_v<O, no_otherwise>, std::variant<stored_value_t<typename B::value_type>...>,
                                    std::variant<stored_value_t<typename B::value_type>..., std::monostate>>;
    using resume_type = type;
};

template <class O, class... B>
struct select_result<true, O, B...> {
    template <class X>
    using u = unwrap_task<X>;
    static constexpr bool otherwise_coro = [] {
        if constexpr (std::is_same_v<O, no_otherwise>) return false;
        else return u<typename otherwise_raw_result<O>::type>::coro;
    }();
    static constexpr bool coro = (u<branch_raw_result_t<B>>::coro || ...) || otherwise_coro;
    template <class OO>
    struct other {
        using type = typename common_result<typename u<branch_raw_result_t<B>>::type...,
                                            typename u<typename otherwise_raw_result<OO>::type>::type>::type;
    };
    using type = typename std::conditional_t<std::is_same_v<O, no_otherwise>,
                                             common_result<typename u<branch_raw_result_t<B>>::type...>, other<O>>::type;
    using resume_type = std::conditional_t<coro, coro_outcome<type>, type>;
};

template <class O>
using otherwise_state = std::conditional_t<std::is_same_v<O, no_otherwise>, no_otherwise, O>;

}  // namespace corio::detail
