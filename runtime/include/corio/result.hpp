// corio/result.hpp — a small expected-style result for outcomes that are not exceptional.
//
// C++20 has no std::expected, so corio carries its own: `result<T, E>` holds either a value
// or an error, `unexpected<E>` builds the error side. Channel operations, joins and io return
// these; none of them throws on the hot path. `value()` on an error throws the error: a
// `join_error` carrying a task's exception rethrows that exception, everything else throws
// `bad_result_access<E>`.
#pragma once

#include <exception>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

namespace corio {

/// The error side of a result: `return unexpected(e);` from a function returning result<T, E>
/// (std::unexpected's role, which C++20 lacks).
template <class E>
class unexpected {
public:
    /// Wraps the error `e`.
    explicit unexpected(E e) noexcept(std::is_nothrow_move_constructible_v<E>) : error_(std::move(e)) {}
    /// The error.
    E& error() & noexcept { return error_; }
    /// The error, moved out.
    E&& error() && noexcept { return std::move(error_); }
    /// The error.
    const E& error() const& noexcept { return error_; }

private:
    E error_;
};

/// Deduces unexpected<E> from the error's type.
template <class E>
unexpected(E) -> unexpected<E>;

/// Thrown by result<T, E>::value() when the result holds an error.
template <class E>
class bad_result_access : public std::exception {
public:
    /// Carries the error `e` of the result whose value() was asked for.
    explicit bad_result_access(E e) : error_(std::move(e)) {}
    /// "corio::result holds an error".
    const char* what() const noexcept override { return "corio::result holds an error"; }
    /// The error the result held.
    const E& error() const noexcept { return error_; }

private:
    E error_;
};

namespace detail {
// Customisation point: an error type may say how it is thrown by defining
// `[[noreturn]] void throw_as_exception() const`.
template <class E>
[[noreturn]] void throw_result_error(const E& e) {
    if constexpr (requires { e.throw_as_exception(); }) {
        e.throw_as_exception();
        std::terminate();  // unreachable: throw_as_exception is [[noreturn]]
    } else {
        throw bad_result_access<E>(e);
    }
}
}  // namespace detail

/// Either a value of type T or an error of type E (std::expected's role, which C++20 lacks).
/// Channel operations, joins and io return it: a closed or empty channel is an outcome, not an
/// exception. value() on an error throws: a join_error carrying a task's exception rethrows that
/// exception, anything else throws bad_result_access<E>.
template <class T, class E>
class [[nodiscard]] result {
public:
    /// The value's type.
    using value_type = T;
    /// The error's type.
    using error_type = E;

    /// Holds the value `v` (anything T is constructible from).
    template <class U = T>
        requires std::is_constructible_v<T, U&&> && (!std::is_same_v<std::remove_cvref_t<U>, result>) &&
                 (!std::is_same_v<std::remove_cvref_t<U>, unexpected<E>>)
    result(U&& v) : storage_(std::in_place_index<0>, std::forward<U>(v)) {}
    /// Holds the error.
    result(unexpected<E> e) : storage_(std::in_place_index<1>, std::move(e).error()) {}

    /// True if the result holds a value.
    bool has_value() const noexcept { return storage_.index() == 0; }
    /// True if the result holds a value.
    explicit operator bool() const noexcept { return has_value(); }

    /// The value. Precondition: has_value().
    T& operator*() & noexcept { return *std::get_if<0>(&storage_); }
    /// The value, moved out. Precondition: has_value().
    T&& operator*() && noexcept { return std::move(*std::get_if<0>(&storage_)); }
    /// The value. Precondition: has_value().
    const T& operator*() const& noexcept { return *std::get_if<0>(&storage_); }
    /// Pointer access to the value. Precondition: has_value().
    T* operator->() noexcept { return std::get_if<0>(&storage_); }
    /// Pointer access to the value. Precondition: has_value().
    const T* operator->() const noexcept { return std::get_if<0>(&storage_); }

    /// The value; throws the error (see the class) if there is none.
    T& value() & {
        if (!has_value()) detail::throw_result_error(error());
        return **this;
    }
    /// The value, moved out; throws the error (see the class) if there is none.
    T&& value() && {
        if (!has_value()) detail::throw_result_error(error());
        return std::move(**this);
    }
    /// The value; throws the error (see the class) if there is none.
    const T& value() const& {
        if (!has_value()) detail::throw_result_error(error());
        return **this;
    }
    /// The value, moved out, or `fallback` converted to T if the result holds an error.
    template <class U>
    T value_or(U&& fallback) && {
        return has_value() ? std::move(**this) : static_cast<T>(std::forward<U>(fallback));
    }

    /// The error. Precondition: !has_value().
    E& error() & noexcept { return *std::get_if<1>(&storage_); }
    /// The error, moved out. Precondition: !has_value().
    E&& error() && noexcept { return std::move(*std::get_if<1>(&storage_)); }
    /// The error. Precondition: !has_value().
    const E& error() const& noexcept { return *std::get_if<1>(&storage_); }

private:
    std::variant<T, E> storage_;
};

/// Success (no value) or an error of type E: what an operation that only succeeds or fails returns.
template <class E>
class [[nodiscard]] result<void, E> {
public:
    /// void: success carries nothing.
    using value_type = void;
    /// The error's type.
    using error_type = E;

    result() noexcept = default;
    /// Holds the error.
    result(unexpected<E> e) : error_(std::in_place, std::move(e).error()) {}

    /// True on success.
    bool has_value() const noexcept { return !error_.has_value(); }
    /// True on success.
    explicit operator bool() const noexcept { return has_value(); }
    /// Nothing on success; throws the error (as result<T, E>::value()) otherwise.
    void value() const {
        if (!has_value()) detail::throw_result_error(*error_);
    }
    /// The error. Precondition: !has_value().
    E& error() & noexcept { return *error_; }
    /// The error. Precondition: !has_value().
    const E& error() const& noexcept { return *error_; }
    /// The error, moved out. Precondition: !has_value().
    E&& error() && noexcept { return std::move(*error_); }

private:
    std::optional<E> error_;
};

}  // namespace corio
