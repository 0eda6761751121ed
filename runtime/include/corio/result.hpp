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

template <class E>
class unexpected {
public:
    explicit unexpected(E e) noexcept(std::is_nothrow_move_constructible_v<E>) : error_(std::move(e)) {}
    E& error() & noexcept { return error_; }
    E&& error() && noexcept { return std::move(error_); }
    const E& error() const& noexcept { return error_; }

private:
    E error_;
};

template <class E>
unexpected(E) -> unexpected<E>;

/// Thrown by result<T, E>::value() when the result holds an error.
template <class E>
class bad_result_access : public std::exception {
public:
    explicit bad_result_access(E e) : error_(std::move(e)) {}
    const char* what() const noexcept override { return "corio::result holds an error"; }
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

template <class T, class E>
class [[nodiscard]] result {
public:
    using value_type = T;
    using error_type = E;

    template <class U = T>
        requires std::is_constructible_v<T, U&&> && (!std::is_same_v<std::remove_cvref_t<U>, result>) &&
                 (!std::is_same_v<std::remove_cvref_t<U>, unexpected<E>>)
    result(U&& v) : storage_(std::in_place_index<0>, std::forward<U>(v)) {}
    result(unexpected<E> e) : storage_(std::in_place_index<1>, std::move(e).error()) {}

    bool has_value() const noexcept { return storage_.index() == 0; }
    explicit operator bool() const noexcept { return has_value(); }

    T& operator*() & noexcept { return *std::get_if<0>(&storage_); }
    T&& operator*() && noexcept { return std::move(*std::get_if<0>(&storage_)); }
    const T& operator*() const& noexcept { return *std::get_if<0>(&storage_); }
    T* operator->() noexcept { return std::get_if<0>(&storage_); }
    const T* operator->() const noexcept { return std::get_if<0>(&storage_); }

    T& value() & {
        if (!has_value()) detail::throw_result_error(error());
        return **this;
    }
    T&& value() && {
        if (!has_value()) detail::throw_result_error(error());
        return std::move(**this);
    }
    const T& value() const& {
        if (!has_value()) detail::throw_result_error(error());
        return **this;
    }
    template <class U>
    T value_or(U&& fallback) && {
        return has_value() ? std::move(**this) : static_cast<T>(std::forward<U>(fallback));
    }

    E& error() & noexcept { return *std::get_if<1>(&storage_); }
    E&& error() && noexcept { return std::move(*std::get_if<1>(&storage_)); }
    const E& error() const& noexcept { return *std::get_if<1>(&storage_); }

private:
    std::variant<T, E> storage_;
};

template <class E>
class [[nodiscard]] result<void, E> {
public:
    using value_type = void;
    using error_type = E;

    result() noexcept = default;
    result(unexpected<E> e) : error_(std::in_place, std::move(e).error()) {}

    bool has_value() const noexcept { return !error_.has_value(); }
    explicit operator bool() const noexcept { return has_value(); }
    void value() const {
        if (!has_value()) detail::throw_result_error(*error_);
    }
    E& error() & noexcept { return *error_; }
    const E& error() const& noexcept { return *error_; }
    E&& error() && noexcept { return std::move(*error_); }

private:
    std::optional<E> error_;
};

}  // namespace corio
