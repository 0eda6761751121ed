/// \file
/// corio/channels/watch/ref.hpp — watch::ref, the read guard that borrow() returns: a shared lock
/// on the value, or (seqlock mode) a copy of it.
#pragma once

#include <corio/channels/detail/rw_lock.hpp>
#include <corio/channels/watch/detail/shared.hpp>
#include <corio/channels/watch/fwd.hpp>

#include <shared_mutex>
#include <type_traits>
#include <utility>

namespace corio::watch {

/// A read guard on the value: a shared lock. Do not hold it across a co_await
/// (corio/channels/watch.hpp, "Borrowing").
template <class T>
class ref {
public:
    /// Moves the guard (and its lock or copy).
    ref(ref&&) noexcept = default;
    /// Releases this guard's lock, then takes over `o`'s.
    ref& operator=(ref&&) noexcept = default;
    ref(const ref&) = delete;
    ref& operator=(const ref&) = delete;

    /// The value, read-only.
    const T& operator*() const noexcept { return get(); }
    /// Pointer access to the value, read-only.
    const T* operator->() const noexcept { return &get(); }
    /// The value, read-only: under the shared lock, or the guard's own copy in seqlock mode.
    const T& get() const noexcept {
        if constexpr (snapshot) return hold_;
        else return *value_;
    }
    /// Whether the value is a version the borrowing receiver had not seen (false from the sender).
    bool has_changed() const noexcept { return has_changed_; }

private:
    friend class sender<T>;
    friend class receiver<T>;
    static constexpr bool snapshot = detail::watch_snapshot<T>;
    // Lock mode: the shared lock, and the value it guards. Seqlock mode: a copy of the value.
    using hold_type = std::conditional_t<snapshot, T, std::shared_lock<detail::rw_lock>>;
    ref(hold_type hold, const T* v, bool changed) noexcept : hold_(std::move(hold)), value_(v), has_changed_(changed) {}

    hold_type hold_;
    const T* value_;  // lock mode only
    bool has_changed_;
};

}  // namespace corio::watch
