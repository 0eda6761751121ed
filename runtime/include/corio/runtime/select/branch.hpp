// corio/runtime/select/branch.hpp — the branches of a select: corio::branch(op[, handler]) with
// its modifiers (.when_some, .when_ok, .if_, .unsent_into), corio::otherwise(), and the traits
// that work out what a handler returns. The select itself is corio/runtime/select.hpp, which
// documents what each modifier means.
#pragma once

#include <corio/result.hpp>
#include <corio/runtime/select/source.hpp>
#include <corio/runtime/task.hpp>

#include <functional>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace corio {

/// Thrown by a select whose every branch is disabled and that has no otherwise().
class all_branches_disabled : public std::logic_error {
public:
    all_branches_disabled() : std::logic_error("corio::select: all branches are disabled and there is no otherwise()") {}
};

struct no_handler {};

namespace detail {

struct filter_none {};
struct filter_some {};
struct filter_ok {};

template <class V>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};
template <class V>
struct is_result : std::false_type {};
template <class T, class E>
struct is_result<result<T, E>> : std::true_type {};

template <class V, class F>
struct filtered {
    using type = V;
};
template <class V>
struct filtered<V, filter_some> {
    static_assert(is_optional<V>::value, "corio::branch(...).when_some(): the operation does not yield a std::optional");
    using type = typename V::value_type;
};
template <class V>
struct filtered<V, filter_ok> {
    static_assert(is_result<V>::value, "corio::branch(...).when_ok(): the operation does not yield a corio::result");
    using type = typename V::value_type;
};

// What a handler returns when called with a V (or with nothing: V is void, or the handler takes
// no argument and ignores the result).
template <class H, class V>
struct handler_raw_result {
    static_assert(std::is_invocable_v<H&>, "corio::select: a handler must accept the branch's result, or nothing");
    using type = std::invoke_result_t<H&>;
};
template <class H, class V>
    requires(!std::is_void_v<V> && std::is_invocable_v<H&, V &&>)
struct handler_raw_result<H, V> {
    using type = std::invoke_result_t<H&, V&&>;
};

template <class H, class... V>
decltype(auto) call_handler(H& h, V&&... v) {
    if constexpr (sizeof...(V) == 1 && std::is_invocable_v<H&, V&&...>) return std::invoke(h, std::forward<V>(v)...);
    else return std::invoke(h);
}

template <class X>
struct unwrap_task {
    using type = X;
    static constexpr bool coro = false;
};
template <class T>
struct unwrap_task<task<T>> {
    using type = T;
    static constexpr bool coro = true;
};

template <class... X>
struct common_result {
    static constexpr bool all_void = (std::is_void_v<X> && ...);
    static_assert(all_void || (!std::is_void_v<X> && ...),
                  "corio::select: handlers must all return void, or all return values of a common type");
    using type = typename std::conditional_t<all_void, std::type_identity<void>, std::common_type<X...>>::type;
};

struct no_otherwise {
    using handler_type = no_handler;
};

// g++ 12 destroys a closure temporary of a co_await full-expression twice (docs/design/compilers.md;
// reproduced with `branch(op, [s](int) {...})`, s a std::string: ASan double free). A handler
// passed as a temporary must therefore be trivially destructible there (`[&]` captures are).
template <class H>
constexpr void check_handler_temporary() {
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ < 13
    static_assert(std::is_lvalue_reference_v<H> || std::is_trivially_destructible_v<std::remove_cvref_t<H>>,
                  "corio::select on g++ 12: a handler that owns resources (captures by value) must be passed as a "
                  "named lvalue: `auto h = [s](int v) {...}; corio::branch(op, h)` (g++ 12 destroys a temporary "
                  "closure in a co_await expression twice)");
#endif
}

}  // namespace detail

/// One branch of a select: an operation, an optional handler, and how its result is filtered.
/// Made by corio::branch(); the modifiers are called on the temporary (`branch(...).if_(c)`).
template <class Source, class Handler = no_handler, class Filter = detail::filter_none>
class [[nodiscard]] select_branch {
public:
    /// The operation's source adapter.
    using source_type = Source;
    /// The handler's type (no_handler if none).
    using handler_type = Handler;
    /// The filter when_some/when_ok set (none by default).
    using filter_type = Filter;
    /// What the branch's operation yields, after the filter (when_some: the optional's value type).
    using value_type = typename detail::filtered<typename Source::value_type, Filter>::type;
    /// The value a temporary send hands back when it does not win (void for other operations).
    using unsent_type = typename Source::unsent_type;
    /// True if a handler was given.
    static constexpr bool has_handler = !std::is_same_v<Handler, no_handler>;
    /// True if when_some or when_ok was applied.
    static constexpr bool is_filtered = !std::is_same_v<Filter, detail::filter_none>;

    /// Made by corio::branch(); not called directly.
    template <class H>
    select_branch(Source&& s, H&& h, bool enabled = true, unsent_type* unsent = nullptr)
        : source_(std::move(s)), handler_(std::forward<H>(h)), enabled_(enabled), unsent_(unsent) {}
    /// Moves the branch (it is moved into the select).
    select_branch(select_branch&&) = default;
    select_branch& operator=(select_branch&&) = delete;

    /// Precondition (Tokio's `, if cond`): false disables the branch; its operation is never
    /// polled (a task<T> is never spawned).
    // Returns the branch itself (it lives to the end of the full-expression): every copy of a
    // branch costs the select in a loop (store-forwarding stalls on the freshly built fields).
    select_branch&& if_(bool condition) && {
        enabled_ = enabled_ && condition;
        return std::move(*this);
    }

    /// A nullopt result disables the branch (select keeps waiting on the others); a value wins and
    /// is passed to the handler unwrapped (Tokio's `Some(v) = rx.recv()`).
    select_branch<Source, Handler, detail::filter_some> when_some() && { return refilter<detail::filter_some>(); }
    /// when_some() with a handler, which gets the unwrapped value.
    template <class H>
    auto when_some(H&& h) && {
        static_assert(!has_handler, "corio::branch: the handler is given twice");
        detail::check_handler_temporary<H>();
        return std::move(*this).template with<detail::filter_some>(std::forward<H>(h));
    }
    /// A corio::result holding an error disables the branch; a value wins, passed unwrapped.
    select_branch<Source, Handler, detail::filter_ok> when_ok() && { return refilter<detail::filter_ok>(); }
    /// when_ok() with a handler, which gets the unwrapped value.
    template <class H>
    auto when_ok(H&& h) && {
        static_assert(!has_handler, "corio::branch: the handler is given twice");
        detail::check_handler_temporary<H>();
        return std::move(*this).template with<detail::filter_ok>(std::forward<H>(h));
    }

    /// For a temporary send operation (`tx.send(v)`): if the branch does not win (it loses, is
    /// disabled, or every branch is), the value that was not sent is moved into `out`.
    select_branch&& unsent_into(unsent_type& out) &&
        requires(Source::gives_back)
    {
        unsent_ = &out;
        return std::move(*this);
    }

    /// The operation.
    /// For the combinators.
    Source source_;
    /// The handler.
    Handler handler_;
    /// False once if_() disabled the branch.
    bool enabled_;
    /// Where unsent_into() moves an unsent value, or null.
    unsent_type* unsent_;

private:
    template <class F>
    select_branch<Source, Handler, F> refilter() {
        static_assert(!is_filtered, "corio::branch: only one of when_some()/when_ok()");
        return select_branch<Source, Handler, F>(std::move(source_), std::move(handler_), enabled_, unsent_);
    }
    template <class F, class H>
    select_branch<Source, std::decay_t<H>, F> with(H&& h) {
        static_assert(!is_filtered, "corio::branch: only one of when_some()/when_ok()");
        return select_branch<Source, std::decay_t<H>, F>(std::move(source_), std::forward<H>(h), enabled_, unsent_);
    }
};

/// A branch of `op` without handler (select yields a variant; or add one with when_some/when_ok).
template <class A>
auto branch(A&& op) {
    using S = detail::source_t<A&&>;
    return select_branch<S>(detail::make_source(std::forward<A>(op)), no_handler{});
}

/// A branch that runs `handler(result)` (or `handler()`) when `op` wins. A handler may return
/// task<R> (a coroutine handler: then select itself is a task<R>).
template <class A, class H>
auto branch(A&& op, H&& handler) {
    using S = detail::source_t<A&&>;
    detail::check_handler_temporary<H>();
    return select_branch<S, std::decay_t<H>>(detail::make_source(std::forward<A>(op)), std::forward<H>(handler));
}

/// Tokio's `else`: runs when every branch is disabled (by if_, or by when_some/when_ok results).
template <class Handler = no_handler>
class [[nodiscard]] otherwise_branch {
public:
    /// The handler's type (no_handler if none).
    using handler_type = Handler;
    /// Made by corio::otherwise(); not called directly.
    explicit otherwise_branch(Handler&& h) : handler_(std::move(h)) {}
    /// Moves the branch into the select.
    otherwise_branch(otherwise_branch&&) = default;
    /// Runs when every branch is disabled.
    Handler handler_;
};

/// `otherwise()`: a select whose branches are all disabled completes at once with nothing (instead
/// of never).
inline otherwise_branch<no_handler> otherwise() { return otherwise_branch<no_handler>(no_handler{}); }
/// `otherwise(handler)`: a select whose branches are all disabled runs `handler()` and yields its
/// result.
template <class H>
otherwise_branch<std::decay_t<H>> otherwise(H&& handler) {
    detail::check_handler_temporary<H>();
    std::decay_t<H> h(std::forward<H>(handler));
    return otherwise_branch<std::decay_t<H>>(std::move(h));
}

namespace detail {

template <class X>
struct is_select_branch : std::false_type {};
template <class S, class H, class F>
struct is_select_branch<select_branch<S, H, F>> : std::true_type {};
template <class X>
struct is_otherwise : std::false_type {};
template <class H>
struct is_otherwise<otherwise_branch<H>> : std::true_type {};

// A branch passes through by reference (the temporary lives to the end of the select's
// full-expression); the select_operation moves it once, into its state.
template <class A>
decltype(auto) as_branch(A&& a) {
    if constexpr (is_select_branch<std::remove_cvref_t<A>>::value) {
        static_assert(!std::is_lvalue_reference_v<A>, "corio::select: pass branches as temporaries (corio::branch(...))");
        return static_cast<std::remove_cvref_t<A>&&>(a);
    } else {
        static_assert(!is_otherwise<std::remove_cvref_t<A>>::value, "corio::select: otherwise() must be the last argument");
        return branch(std::forward<A>(a));
    }
}

}  // namespace detail
}  // namespace corio
