// corio/runtime/waker.hpp — the one way anything in corio wakes a waiting task.
//
// A waker is a type-erased handle {data, vtable} in the manner of Rust's RawWaker. Channels,
// timers, io completions, join handles and the blocking bridge (a plain thread parked on a
// futex) all wake their waiter through it; none of them ever calls coroutine_handle::resume().
// A task waker holds a reference on the task's header, never a pointer into a coroutine frame,
// so it stays valid after the task was aborted or completed: waking such a task does nothing.
//
// Contract (docs/architecture.md has the long form):
// - wake() / wake_by_ref() may be called from any thread, any number of times, concurrently.
//   Each call guarantees that the task is polled at least once after the call; calls that land
//   while the task is already queued coalesce.
// - Waking never runs the task inline: it is queued on its runtime.
// - Never wake while holding a lock that the woken side might take (collect, unlock, then wake).
// - will_wake(other) is true when both wake the same task; leaves use it to skip re-cloning.
#pragma once

#include <corio/runtime/detail/sync_primitives.hpp>

#include <utility>

namespace corio {

/// The functions behind a waker, in the manner of Rust's RawWakerVTable: a runtime (or the blocking
/// bridge) supplies one per kind of waiter.
struct waker_vtable {
    /// Takes another reference to `data` and returns the data for the new waker.
    const void* (*clone)(const void* data) noexcept;
    /// Wakes the target and consumes the reference.
    void (*wake)(const void* data) noexcept;         // consumes the reference
    /// Wakes the target and keeps the reference.
    void (*wake_by_ref)(const void* data) noexcept;  // keeps the reference
    /// Gives up the reference without waking.
    void (*drop)(const void* data) noexcept;
};

class waker;
/// A borrowed waker: what a poll sees. Cheap to copy; clone() it to keep it past the poll.
class waker_ref {
public:
    /// Borrows `data` with its vtable; takes no reference.
    constexpr waker_ref(const void* data, const waker_vtable* vt) noexcept : data_(data), vt_(vt) {}
    /// An owned waker for the same target (takes a reference).
    [[nodiscard]] waker clone() const noexcept;
    /// Wakes the target (queues the task on its runtime; never runs it inline).
    void wake_by_ref() const noexcept { vt_->wake_by_ref(data_); }
    /// The type-erased target.
    const void* data() const noexcept { return data_; }
    /// The functions that act on it.
    const waker_vtable* vtable() const noexcept { return vt_; }

private:
    const void* data_;
    const waker_vtable* vt_;
};

/// An owned waker. Copying clones, destroying drops the reference.
// Seam: a waker in a slot is plain data handed between threads by the slot's protocol; each use
// is marked for the model checker (CORIO_MODEL_*, sync_primitives.hpp: nothing in normal builds).
class waker {
public:
    waker() noexcept = default;
    /// Adopts one reference to `data`.
    waker(const void* data, const waker_vtable* vt) noexcept : data_(data), vt_(vt) {}
    /// Another waker for the same target (takes a reference); an empty one stays empty.
    waker(const waker& o) noexcept : data_(o.vt_ ? o.vt_->clone(o.data_) : nullptr), vt_(o.vt_) {
        CORIO_MODEL_READ(o.access_);
    }
    /// Moves the reference; `o` is left empty.
    waker(waker&& o) noexcept : data_(std::exchange(o.data_, nullptr)), vt_(std::exchange(o.vt_, nullptr)) {
        CORIO_MODEL_WRITE(o.access_);
    }
    /// Replaces this waker (dropping its reference) by `o`.
    waker& operator=(waker o) noexcept {
        CORIO_MODEL_WRITE(access_);
        std::swap(data_, o.data_);
        std::swap(vt_, o.vt_);
        return *this;
    }
    ~waker() { reset(); }

    /// True unless empty (default-constructed, moved from, woken by wake() or reset()).
    explicit operator bool() const noexcept {
        CORIO_MODEL_READ(access_);
        return vt_ != nullptr;
    }

    /// Wakes the target and gives up the reference: the waker is empty afterwards.
    void wake() && noexcept {
        CORIO_MODEL_WRITE(access_);
        if (auto* vt = std::exchange(vt_, nullptr)) vt->wake(std::exchange(data_, nullptr));
    }
    /// Wakes the target and keeps the reference.
    void wake_by_ref() const noexcept {
        CORIO_MODEL_READ(access_);
        if (vt_) vt_->wake_by_ref(data_);
    }
    /// Drops the reference without waking; the waker is empty afterwards.
    void reset() noexcept {
        CORIO_MODEL_WRITE(access_);
        if (auto* vt = std::exchange(vt_, nullptr)) vt->drop(std::exchange(data_, nullptr));
    }
    /// True if both wake the same target; leaves use it to skip re-cloning when re-registered.
    bool will_wake(waker_ref r) const noexcept {
        CORIO_MODEL_READ(access_);
        return data_ == r.data() && vt_ == r.vtable();
    }
    /// True if both wake the same target.
    bool will_wake(const waker& o) const noexcept {
        CORIO_MODEL_READ(access_);
        CORIO_MODEL_READ(o.access_);
        return data_ == o.data_ && vt_ == o.vt_;
    }
    /// Borrows this waker.
    waker_ref as_ref() const noexcept {
        CORIO_MODEL_READ(access_);
        return {data_, vt_};
    }

    /// Stores a clone of `r` unless this already wakes the same target (leaf rule L6, docs/design/task-model.md: one
    /// waker per leaf, re-registration replaces it).
    void set(waker_ref r) noexcept {
        if (!will_wake(r)) *this = r.clone();
    }

private:
    const void* data_ = nullptr;
    const waker_vtable* vt_ = nullptr;
    CORIO_MODEL_ACCESS(access_)
};

inline waker waker_ref::clone() const noexcept { return waker(vt_->clone(data_), vt_); }

/// What a leaf operation sees when it is polled: whom to wake, and the cooperative budget.
class context {
public:
    /// A context whose waker is `w`; `budget` is the task's remaining cooperative budget (null:
    /// unlimited, as on a plain thread).
    constexpr context(waker_ref w, unsigned* budget) noexcept : waker_(w), budget_(budget) {}

    /// The waker of the task being polled: a leaf that reports pending clones it (or calls
    /// waker::set) where the event will come from.
    waker_ref waker() const noexcept { return waker_; }

    /// Cooperative scheduling: every leaf that finds its operation ready calls this first. When the
    /// task has used up its budget (128 ready leaves per run) it returns false after waking the
    /// task, and the leaf must report pending: the task yields to others and is polled again.
    bool poll_budget() noexcept {
        if (!budget_) return true;
        if (*budget_ == 0) {
            waker_.wake_by_ref();
            return false;
        }
        --*budget_;
        return true;
    }

private:
    waker_ref waker_;
    unsigned* budget_;  // null outside a worker (blocking bridge): unlimited
};

}  // namespace corio
