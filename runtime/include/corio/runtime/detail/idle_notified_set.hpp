// corio/runtime/detail/idle_notified_set.hpp — the untyped core of join_set (Tokio's
// util/idle_notified_set.rs).
//
// idle_notified_set: every entry of a join_set sits in exactly one of two intrusive lists, idle
// (its task has not completed, or has not been looked at since it did) or notified (its waker
// fired: its task has completed and join_next should poll it). Each entry has its own waker
// (entry_vtable), registered as the join waker of its task; firing it moves the entry from idle
// to notified and wakes the one task waiting in join_next. join_next therefore never scans: it
// pops the notified list.
//
// Lists:    idle_, notified_ (intrusive_lists through entry_base::hook_), which_ says which
//           one an entry is in, or none once the owner removed it.
// Initial:  both lists empty, no waiter. A new entry goes into idle_, then its task's join waker is
//           registered; if the task had already completed, the owner notifies the entry itself.
// Access:   hook_, which_, the lists and waiter_ are guarded by mutex_. The entry's payload
//           (the join_handle) and the owner list (through all_hook_) belong to the owner of the
//           join_set, which is the only one to insert, pop or remove entries.
// Rules:    1. Only a waker moves an entry idle -> notified; only the owner (pop_notified) moves it
//              notified -> idle, and only the owner sets which_ = none (remove, drain).
//           2. A waker of an entry whose which_ is none does nothing: the owner already removed it.
//           3. waiter_ is taken out (not copied) by the waker that moves an entry to notified, and
//              woken after mutex_ is released. pop_notified stores it under the same lock in which
//              it finds notified_ empty, so a wake that lands after that check sees the new waiter:
//              no lost wake-up.
//           4. Nothing is woken, dropped or destroyed while mutex_ is held (a replaced waiter_ is
//              dropped after unlock), since a waker or destructor may come back to this set.
// Lifetime: an entry is refcounted: one ref for the owner (from insert until the owner removes
//           it) and one per clone of its waker. The lists object is refcounted too: one ref for
//           the join_set and one per live entry, so a waker that fires after the join_set is gone
//           still finds the mutex it locks (and, by rule 2, does nothing).
// Ordering: mutex_ orders list moves. Entry refs follow std::shared_ptr: a ref is only made from
//           a live ref (relaxed increment); the decrement is acq_rel so that the freeing thread
//           sees every write made under the other refs.
// Seam:     the refcounts and mutex_ come from sync_primitives.hpp, model-checked by tests/model.
#pragma once

#include <corio/runtime/detail/intrusive_list.hpp>
#include <corio/runtime/detail/sync_primitives.hpp>
#include <corio/runtime/waker.hpp>

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <utility>

namespace corio::detail {

class idle_notified_set;

class join_set_entry_base {
public:
    join_set_entry_base(const join_set_entry_base&) = delete;
    join_set_entry_base& operator=(const join_set_entry_base&) = delete;

    waker_ref as_waker_ref() noexcept { return {this, &vtable}; }

    void retain() noexcept {
        // Relaxed: a ref is only made from a live ref (the owner's, or a waker clone's).
        refs_.fetch_add(1, std::memory_order_relaxed);
    }
    inline void release() noexcept;
    inline void notify() noexcept;

    static const waker_vtable vtable;

protected:
    explicit join_set_entry_base(idle_notified_set* set) noexcept;
    virtual ~join_set_entry_base() = default;

private:
    friend class idle_notified_set;

    enum class list : std::uint8_t { none, idle, notified };

    detail::atomic<std::size_t> refs_{1};  // the owner's ref
    idle_notified_set* const set_;         // Lifetime: this entry holds one ref on it.

    // Guarded by set_->mutex_.
    list_hook<join_set_entry_base> hook_;
    list which_ = list::none;

public:
    // Owned by the join_set's owner: the list of every entry it has not removed yet, so that
    // abort_all() can walk the entries without taking mutex_ (abort schedules tasks: rule 4).
    list_hook<join_set_entry_base> all_hook_;
};

class idle_notified_set {
public:
    idle_notified_set() = default;
    idle_notified_set(const idle_notified_set&) = delete;
    idle_notified_set& operator=(const idle_notified_set&) = delete;

    void retain() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
    void release() noexcept {
        // acq_rel: the thread that frees the set sees every write made under the other refs.
        if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
    }

    // Owner: links a new entry into idle_ (the entry then holds a ref on this set).
    void insert_idle(join_set_entry_base* e) noexcept {
        std::lock_guard lock(mutex_);
        e->which_ = join_set_entry_base::list::idle;
        idle_.push_back(e);
    }

    // Waker side, any thread (rule 1, 2, 3): idle -> notified, then wake the waiter.
    void notify(join_set_entry_base* e) noexcept {
        waker w;
        {
            std::lock_guard lock(mutex_);
            if (e->which_ != join_set_entry_base::list::idle) return;
            idle_.remove(e);
            e->which_ = join_set_entry_base::list::notified;
            notified_.push_back(e);
            w = std::move(waiter_);
        }
        std::move(w).wake();  // outside the lock (rule 4)
    }

    // Owner: moves the first notified entry to idle_ and returns it (the owner's ref covers it).
    // If there is none, registers `waiter` to be woken by the next notify (rule 3) and returns null.
    join_set_entry_base* pop_notified(waker_ref waiter) noexcept {
        waker old;
        join_set_entry_base* e;
        {
            std::lock_guard lock(mutex_);
            e = notified_.pop_front();
            if (e) {
                e->which_ = join_set_entry_base::list::idle;
                idle_.push_back(e);
            } else if (!waiter_.will_wake(waiter)) {
                old = std::exchange(waiter_, waiter.clone());  // clone only takes a ref
            }
        }
        return e;  // `old` is dropped here, after unlock (rule 4)
    }

    // Owner: puts an entry popped by pop_notified back at the front of notified_ (join_next ran
    // out of coop budget before polling it). Does not wake: the caller's task is already woken.
    void unpop(join_set_entry_base* e) noexcept {
        std::lock_guard lock(mutex_);
        if (e->which_ != join_set_entry_base::list::idle) return;
        idle_.remove(e);
        e->which_ = join_set_entry_base::list::notified;
        notified_.push_front(e);
    }

    // Owner: unlinks the entry for good; later wakes of it do nothing (rule 2).
    void remove(join_set_entry_base* e) noexcept {
        std::lock_guard lock(mutex_);
        assert(e->which_ != join_set_entry_base::list::none);
        (e->which_ == join_set_entry_base::list::idle ? idle_ : notified_).remove(e);
        e->which_ = join_set_entry_base::list::none;
    }

    // Owner: the waiter of a dropped join_set (and any stale waiter) goes, outside the lock.
    void clear_waiter() noexcept {
        waker old;
        {
            std::lock_guard lock(mutex_);
            old = std::move(waiter_);
        }
    }

private:
    using entry_list = intrusive_list<join_set_entry_base, &join_set_entry_base::hook_>;

    detail::atomic<std::size_t> refs_{1};  // the join_set's ref
    detail::mutex mutex_;
    entry_list idle_;      // guarded by mutex_
    entry_list notified_;  // guarded by mutex_
    waker waiter_;        // guarded by mutex_: the task waiting in join_next, if any
};

inline join_set_entry_base::join_set_entry_base(idle_notified_set* set) noexcept : set_(set) { set_->retain(); }

inline void join_set_entry_base::release() noexcept {
    // acq_rel: see the Ordering note at the top of the file.
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        idle_notified_set* s = set_;
        delete this;
        s->release();
    }
}

inline void join_set_entry_base::notify() noexcept { set_->notify(this); }

// Entry wakers: data is the entry, holding one ref.
inline const waker_vtable join_set_entry_base::vtable = {
    [](const void* p) noexcept -> const void* {
        static_cast<join_set_entry_base*>(const_cast<void*>(p))->retain();
        return p;
    },
    [](const void* p) noexcept {
        auto* e = static_cast<join_set_entry_base*>(const_cast<void*>(p));
        e->notify();
        e->release();
    },
    [](const void* p) noexcept { static_cast<join_set_entry_base*>(const_cast<void*>(p))->notify(); },
    [](const void* p) noexcept { static_cast<join_set_entry_base*>(const_cast<void*>(p))->release(); },
};

}  // namespace corio::detail
