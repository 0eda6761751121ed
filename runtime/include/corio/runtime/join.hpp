// corio/runtime/join.hpp — wait for all of several operations (join, try_join), or for the first
// (race, first_of).
//
//     auto [a, b] = co_await corio::join(rx.recv(), fetch(2));       // std::tuple<optional<int>, int>
//     auto r = co_await corio::try_join(load(1), load(2));           // result<tuple<...>, E>: first error wins
//     auto v = co_await corio::race(rx.recv(), corio::sleep(1s));   // std::variant, index() = winner
//     int x  = co_await corio::first_of(fetch(1), fetch(2));        // the winner's value (common type)
//
// Arguments: as for select (select.hpp): corio leaf operations, awaitables whose operator
//   co_await returns one (join_handle, oneshot receiver), and task<T>. A task<T> argument runs
//   inline, interleaved inside the awaiting task as in Tokio's join! (detail/inline_task.hpp): no
//   spawn, no parallelism; one the combinator gives up on is destroyed before it returns. Its
//   exception is rethrown. For parallelism spawn explicitly and pass the join_handle as a
//   temporary: a task the combinator gives up on is then aborted and waited for.
// join: polls every operation that has not completed, each time the task is woken, until all
//   have; yields std::tuple of their results (void as std::monostate). An exception from one
//   (a task that threw) cancels the others and is rethrown.
// try_join: every argument yields corio::result<T, E> with the same E, or every one yields
//   std::optional<T>. The first error (nullopt) cancels the others and is returned:
//   result<std::tuple<T...>, E> (std::optional<std::tuple<T...>>).
// race: the first operation to complete wins; the others are cancelled as select's losers are
//   (docs/select.md); yields std::variant<R...> (void as std::monostate), index() = winner.
//   Simultaneously ready operations are taken in argument order (race is select_biased without
//   handlers; use select for a fair choice in a loop).
// first_of: as race, when every argument yields the same type: yields that value.
// Cancel safety: cancelling a pending join/try_join/race (an enclosing select or timeout)
//   cancels every pending operation (they unregister and give back what they reserved; coroutine
//   operands are destroyed; tasks given as temporary join_handles are aborted and waited for). Results already taken by a join (a received message) are lost with
//   it: a join is not cancel safe as a whole unless each of its operations completed or none did.
// Allocation: none (a task<T> argument's frame is its own, as when it is awaited directly). Await the combinator in the
//   full-expression that creates it (it may point at temporaries of that expression).
#pragma once

#include <corio/runtime/select/source.hpp>
#include <corio/runtime/leaf.hpp>
#include <corio/runtime/select.hpp>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>

namespace corio {

namespace detail {

template <class V>
struct try_traits {
    static_assert(is_optional<V>::value || is_result<V>::value,
                  "corio::try_join: every argument must yield a corio::result<T, E> or a std::optional<T>");
};
template <class T, class E>
struct try_traits<result<T, E>> {
    using value_type = T;
    using error_type = E;
    static constexpr bool is_optional = false;
};
template <class T>
struct try_traits<std::optional<T>> {
    using value_type = T;
    using error_type = std::nullopt_t;
    static constexpr bool is_optional = true;
};

template <bool Try, class V>
struct join_value {
    using type = V;
};
template <class V>
struct join_value<true, V> {
    using type = typename try_traits<V>::value_type;
};

template <class S, bool Try>
struct join_state {
    using raw_type = typename S::value_type;
    using value_type = typename join_value<Try, raw_type>::type;
    explicit join_state(S&& s) : slot(std::move(s)) {}
    source_slot<S> slot;
    std::optional<stored_value_t<value_type>> value;
};

template <bool Try, class... S>
struct join_result {
    using type = std::tuple<stored_value_t<typename join_state<S, false>::raw_type>...>;
    using tuple_type = type;
    using error_type = void;
    static constexpr bool optional_mode = false;
};
template <class S0, class... S>
struct join_result<true, S0, S...> {
    using tuple_type = std::tuple<stored_value_t<typename try_traits<typename S0::value_type>::value_type>,
                                  stored_value_t<typename try_traits<typename S::value_type>::value_type>...>;
    using error_type = typename try_traits<typename S0::value_type>::error_type;
    static_assert((std::is_same_v<error_type, typename try_traits<typename S::value_type>::error_type> && ...),
                  "corio::try_join: every argument must have the same error type (or all be std::optional)");
    static constexpr bool optional_mode = try_traits<typename S0::value_type>::is_optional;
    using type = std::conditional_t<optional_mode, std::optional<tuple_type>, result<tuple_type, error_type>>;
};

}  // namespace detail

/// The leaf behind co_await join(...) (Try = false) and try_join(...) (Try = true). Pinned.
template <bool Try, class... Sources>
class [[nodiscard]] join_operation : public leaf_awaiter<join_operation<Try, Sources...>> {
    static constexpr std::size_t n = sizeof...(Sources);
    static_assert(n >= 1 && n <= 64, "corio::join: 1 to 64 operations");
    using res = detail::join_result<Try, Sources...>;

public:
    /// What `co_await` yields: join: a tuple of the operations' results; try_join: the tuple, or
    /// the first error (std::nullopt in optional mode).
    using result_type = typename res::type;

    /// Made by join() or try_join(); not called directly. Starts every operation.
    explicit join_operation(Sources&&... s) : states_(std::move(s)...) { start(std::make_index_sequence<n>{}); }
    join_operation(const join_operation&) = delete;
    join_operation& operator=(const join_operation&) = delete;

    /// Polls every operation not done yet; ready when all are done (try_join: or when one failed,
    /// after cancelling the others).
    bool poll(context& cx) noexcept override {
        if (done_) return drain(cx);
        poll_all(cx, std::make_index_sequence<n>{});
        if (stop_) {
            cancel_all(std::make_index_sequence<n>{});
            done_ = true;
            return drain(cx);
        }
        if (pending_ == 0) done_ = true;
        return done_;
    }

    /// The join itself is abandoned: every operation still pending is cancelled (results already
    /// taken are dropped with the join). Final.
    void cancel() noexcept override {
        done_ = true;
        cancel_all(std::make_index_sequence<n>{});
    }
    /// After cancel(): ready once nothing the operations started still runs (a spawned task they
    /// aborted has finished).
    bool poll_cancel(context& cx) noexcept override { return drain(cx); }

    /// "join { … & … }": the operations still pending.
    void describe(std::string& out) const override {
        if (done_) {
            out += "join, waiting for its cancelled operations to finish";
            return;
        }
        out += "join {";
        bool first = true;
        describe_pending(out, first, std::make_index_sequence<n>{});
        out += " }";
    }

    /// The results (see result_type); rethrows what an operation threw.
    result_type await_resume() {
        if (error_) std::rethrow_exception(error_);
        if constexpr (Try) {
            if (stop_) {
                if constexpr (res::optional_mode) return std::nullopt;
                else return unexpected(std::move(*failure_));
            }
        }
        return take_all(std::make_index_sequence<n>{});
    }

private:
    template <std::size_t... I>
    void describe_pending(std::string& out, bool& first, std::index_sequence<I...>) const {
        (describe_one<I>(out, first), ...);
    }
    template <std::size_t I>
    void describe_one(std::string& out, bool& first) const {
        if (!(pending_ & (std::uint64_t{1} << I))) return;
        out += first ? " " : " & ";
        first = false;
        std::get<I>(states_).slot.describe(out);
    }

    template <std::size_t... I>
    void start(std::index_sequence<I...>) {
        (std::get<I>(states_).slot.start(), ...);
        pending_ = n == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << n) - 1;
    }

    template <std::size_t... I>
    void poll_all(context& cx, std::index_sequence<I...>) noexcept {
        // In order; stops at the first failure (an exception, or a try_join error).
        (void)(poll_one<I>(cx) && ...);
    }

    // False: stop (stop_ is set).
    template <std::size_t I>
    bool poll_one(context& cx) noexcept {
        constexpr std::uint64_t bit = std::uint64_t{1} << I;
        if (!(pending_ & bit)) return true;
        auto& s = std::get<I>(states_);
        if (!s.slot.poll(cx)) return true;
        pending_ &= ~bit;
        try {
            using V = typename std::remove_reference_t<decltype(s)>::raw_type;
            if constexpr (std::is_void_v<V>) {
                s.slot.take();
                s.value.emplace();
            } else if constexpr (!Try) {
                s.value.emplace(s.slot.take());
            } else {
                auto r = s.slot.take();
                if (!r) {
                    if constexpr (!res::optional_mode) failure_.emplace(std::move(r).error());
                    stop_ = true;
                } else if constexpr (std::is_void_v<typename std::remove_reference_t<decltype(s)>::value_type>) {
                    s.value.emplace();
                } else {
                    s.value.emplace(std::move(*r));
                }
            }
        } catch (...) {
            error_ = std::current_exception();
            stop_ = true;
        }
        s.slot.finish();
        return !stop_;
    }

    template <std::size_t... I>
    void cancel_all(std::index_sequence<I...>) noexcept {
        (std::get<I>(states_).slot.cancel(), ...);
        draining_ |= pending_;
        pending_ = 0;
    }

    // After cancel_all: true once no cancelled operation still runs (an aborted task given as a
    // temporary join_handle is waited for; its awaiter registers our waker).
    bool drain(context& cx) noexcept {
        if (draining_ != 0) drain_all(cx, std::make_index_sequence<n>{});
        return draining_ == 0;
    }
    template <std::size_t... I>
    void drain_all(context& cx, std::index_sequence<I...>) noexcept {
        ((void)((draining_ & (std::uint64_t{1} << I)) && std::get<I>(states_).slot.poll_cancel(cx) &&
                (draining_ &= ~(std::uint64_t{1} << I), true)),
         ...);
    }

    template <std::size_t... I>
    auto take_all(std::index_sequence<I...>) {
        using tuple_type = typename res::tuple_type;
        return tuple_type(std::move(*std::get<I>(states_).value)...);
    }

    struct no_error {};
    using failure_type = std::conditional_t<Try && !std::is_void_v<typename res::error_type> &&
                                                !std::is_same_v<typename res::error_type, std::nullopt_t>,
                                            typename res::error_type, no_error>;

    std::tuple<detail::join_state<Sources, Try>...> states_;
    std::uint64_t pending_ = 0;   // bit i: operation i has not completed
    std::uint64_t draining_ = 0;  // bit i: operation i was cancelled and may still be running
    bool stop_ = false;          // an exception or a try_join error ended the join early
    bool done_ = false;
    std::exception_ptr error_;
    std::optional<failure_type> failure_;
};

namespace detail {
template <bool Try, class... S>
join_operation<Try, S...> make_join(S&&... s) {
    return join_operation<Try, S...>(std::move(s)...);
}

// first_of's handler: hands the result through.
struct forward_result {
    template <class V>
    std::remove_cvref_t<V> operator()(V&& v) const {
        return std::forward<V>(v);
    }
    void operator()() const noexcept {}
};
}  // namespace detail

/// Waits for every operation; yields the tuple of their results. See the file comment.
template <class... A>
auto join(A&&... ops) {
    return detail::make_join<false>(detail::make_source(std::forward<A>(ops))...);
}

/// Waits for every operation unless one fails: the first error cancels the rest and is returned.
template <class... A>
auto try_join(A&&... ops) {
    return detail::make_join<true>(detail::make_source(std::forward<A>(ops))...);
}

/// The first operation to complete wins (argument order among simultaneously ready ones); the
/// others are cancelled. Yields std::variant of the results, index() = winner.
template <class... A>
auto race(A&&... ops) {
    return detail::make_select<true>(branch(std::forward<A>(ops))...);
}

/// As race, yielding the winner's value (the operations' common result type).
template <class... A>
auto first_of(A&&... ops) {
    return detail::make_select<true>(branch(std::forward<A>(ops), detail::forward_result{})...);
}

}  // namespace corio
