// corio/runtime/join_set.hpp — a set of spawned tasks, joined in the order they complete.
//
//     corio::join_set<int> set;
//     for (int i = 0; i < 10; ++i) set.spawn(work(i));
//     while (auto r = co_await set.join_next()) use(r->value());   // completion order
//
// join_next() yields std::optional<result<T, join_error>>: the outcome of some task of the set
// that has completed (removing it from the set), or std::nullopt once the set is empty. It
// costs O(1) per completed task, never a scan: each task's completion moves its entry to a
// ready list (detail/idle_notified_set.hpp, Tokio's IdleNotifiedSet).
//
// Destroying a join_set aborts every task still in it (as abort_all() does) and detaches them.
// detach_all() instead empties the set and lets the tasks run on.
//
// Cancel safety: `co_await set.join_next()` is cancel safe. If the await is abandoned (select,
// timeout) before it completed, no outcome was taken: every task is still in the set.
// Memory ordering: everything a task did before it completed is visible to the task that
// receives its outcome from join_next.
// Resumption: a task waiting in join_next is re-scheduled on its own runtime by the completing
// task's runtime; never resumed inline.
// Thread safety: the set belongs to one task (or thread) at a time; spawn, join_next, abort_all,
// detach_all, len and is_empty are owner-side and not concurrent with each other. Do not move
// the set while a join_next on it is pending.
// Errors: spawn() outside a runtime throws std::logic_error (use spawn_on from other threads).
#pragma once

#include <corio/result.hpp>
#include <corio/runtime/detail/idle_notified_set.hpp>
#include <corio/runtime/join_handle.hpp>
#include <corio/runtime/leaf.hpp>
#include <corio/runtime/runtime.hpp>
#include <corio/runtime/task.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>

namespace corio {

/// A set of spawned tasks, joined in the order they complete (Tokio's JoinSet): join_next() yields
/// each outcome, O(1) per completed task. Destroying the set aborts the tasks still in it;
/// detach_all() lets them run on instead. join_next() is cancel safe. The set belongs to one task
/// (or thread) at a time, and must not move while a join_next() is pending.
template <class T>
class join_set {
public:
    join_set() : set_(new detail::idle_notified_set) {}
    /// Moves the set and its tasks; `o` is left empty.
    join_set(join_set&& o) noexcept
        : set_(std::exchange(o.set_, nullptr)), all_(std::move(o.all_)), len_(std::exchange(o.len_, 0)) {}
    /// Aborts and detaches this set's tasks, then takes over `o`'s.
    join_set& operator=(join_set&& o) noexcept {
        if (this != &o) {
            drain(true);
            if (set_) set_->release();
            set_ = std::exchange(o.set_, nullptr);
            all_ = std::move(o.all_);  // drain() emptied ours
            len_ = std::exchange(o.len_, 0);
        }
        return *this;
    }
    join_set(const join_set&) = delete;
    join_set& operator=(const join_set&) = delete;

    ~join_set() {
        drain(true);
        if (set_) set_->release();
    }

    /// Spawns `t` onto the calling worker's runtime and adds it to the set; returns its task id.
    /// Throws std::logic_error outside a runtime.
    std::uint64_t spawn(task<T> t, spawn_site site = spawn_site::current()) {
        return insert(corio::spawn(std::move(t), site));
    }

    /// Spawns `t` onto `rt` (from any thread) and adds it to the set; returns its task id.
    std::uint64_t spawn_on(runtime_handle& rt, task<T> t, spawn_site site = spawn_site::current()) {
        return insert(rt.spawn(std::move(t), site));
    }

    /// Adds an already spawned task. Precondition: `h` is non-empty and was never awaited to the end.
    std::uint64_t insert(join_handle<T> h) {
        ensure_set();
        auto* e = new entry(set_, std::move(h));
        all_.push_front(e);
        ++len_;
        set_->insert_idle(e);
        // Registers the entry's waker as the task's join waker. If the task completed already,
        // nothing will fire that waker: notify the entry ourselves.
        context ecx(e->as_waker_ref(), nullptr);
        auto a = e->handle_.operator co_await();
        if (a.poll(ecx)) e->notify();
        return e->handle_.id();
    }

    /// How many tasks the set holds (completed ones not yet joined included).
    std::size_t len() const noexcept { return len_; }
    /// True if len() is 0: join_next() then yields nullopt at once.
    bool is_empty() const noexcept { return len_ == 0; }

    /// Aborts every task in the set; they stay in it, and join_next yields join_error::cancelled
    /// for each one that had not completed yet.
    void abort_all() noexcept {
        for (auto* p = all_.front(); p; p = all_list::next(p)) static_cast<entry*>(p)->handle_.abort();
    }

    /// Empties the set without aborting: the tasks run on, their outcomes are dropped.
    void detach_all() noexcept { drain(false); }

    /// What join_next() returns.
    class [[nodiscard]] join_next_operation : public leaf_awaiter<join_next_operation> {
    public:
        /// Made by join_next(); not called directly.
        explicit join_next_operation(join_set* s) noexcept : set_(s) {}

        /// Takes a completed task's outcome if there is one; else registers the task's waker as the
        /// set's waiter.
        bool poll(context& cx) noexcept override {
            if (set_->len_ == 0) return true;  // empty: std::nullopt
            detail::join_set_entry_base* base = set_->set_->pop_notified(cx.waker());
            if (!base) {
                registered_ = true;  // cx.waker() is registered as the waiter
                return false;
            }
            if (!cx.poll_budget()) {
                // Out of budget: the task is woken and yields; the entry stays first in line.
                set_->set_->unpop(base);
                return false;
            }
            auto* e = static_cast<entry*>(base);
            context ecx(e->as_waker_ref(), nullptr);
            auto a = e->handle_.operator co_await();
            if (!a.poll(ecx)) {
                // Not complete after all (only wakes from completion notify an entry, so this is
                // defensive): the entry's waker is registered again; try later.
                cx.waker().wake_by_ref();
                return false;
            }
            // take_output moves the value once more; a throwing move of T terminates here.
            out_.emplace(a.await_resume());
            set_->remove(e);
            return true;
        }

        /// The outcome of a completed task (removed from the set), or nullopt once the set is
        /// empty.
        std::optional<result<T, join_error>> await_resume() noexcept { return std::move(out_); }

        /// Withdraws the waiter; no completed task is taken (join_next gets it later).
        void cancel() noexcept override {
            if (std::exchange(registered_, false)) set_->set_->clear_waiter();
        }
        ~join_next_operation() { cancel(); }

    private:
        join_set* set_;
        bool registered_ = false;  // our waker is (or was, until a notify took it) the set's waiter
        std::optional<result<T, join_error>> out_;
    };

    /// Owner-side: awaits the next completed task (see the file comment). Not concurrently with
    /// another join_next on the same set.
    [[nodiscard]] join_next_operation join_next() noexcept { return join_next_operation(this); }

private:
    class entry final : public detail::join_set_entry_base {
    public:
        entry(detail::idle_notified_set* s, join_handle<T>&& h) noexcept
            : join_set_entry_base(s), handle_(std::move(h)) {}
        // Owned by the join_set's owner; empty once the owner removed the entry.
        join_handle<T> handle_;
    };

    void ensure_set() {
        if (!set_) set_ = new detail::idle_notified_set;  // a moved-from set being reused
    }

    // Unlinks `e` for good and gives up the owner's ref; the handle (its output already taken,
    // or the task to detach) goes first, outside every lock.
    void remove(entry* e) noexcept {
        set_->remove(e);
        all_.remove(e);
        --len_;
        e->handle_.detach();
        e->release();
    }

    void drain(bool abort) noexcept {
        while (!all_.empty()) {
            auto* e = static_cast<entry*>(all_.front());
            if (abort) e->handle_.abort();
            remove(e);
        }
        if (set_) set_->clear_waiter();
    }

    detail::idle_notified_set* set_;              // one ref; null only when moved from
    using all_list = detail::intrusive_list<detail::join_set_entry_base, &detail::join_set_entry_base::all_hook_>;
    all_list all_;  // every entry not yet removed (owner only)
    std::size_t len_ = 0;
};

}  // namespace corio
