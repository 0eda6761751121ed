// corio/runtime/detail/task_state.hpp — the one atomic word that every spawned task is run by.
//
// task_state: one atomic word per task (Tokio's runtime/task/state.rs, bit for bit).
//
// Bits:     running (0):       held by the thread that runs the task; it is the lock for the task's
//                              frame (root_, resume_next_, resume_point_, pending_leaf_).
//           complete (1):      set once, never cleared; never set together with running.
//           notified (2):      a notification reference exists: the task sits in exactly one run queue
//                              (or is about to), or is running and must be run again afterwards.
//           join_interest (3): the join_handle is alive and will read the output.
//           join_waker (4):    join_waker_ holds a waker. While set and not complete, the waker
//                              belongs to the runtime (it may read it); while clear, to the join_handle.
//           cancelled (5):     abort() or shutdown asked for the frame to be destroyed.
//           bits 6..:          reference count. Each reference keeps the task_header allocation alive.
// Initial:  3 refs (owned list, first notification, join_handle) | join_interest | notified.
// Access:   the frame belongs to the setter of running. The output belongs to the setter of
//           running until complete is set, then to the join_handle (join_interest) or, if
//           join_interest was already cleared, to whoever observes complete without it.
// Ordering: every transition is one read-modify-write (CAS loop or fetch_*) with acq_rel, so all
//           transitions are totally ordered and each one sees everything the previous owner of
//           running published. ref_inc is relaxed: a new reference can only be made from an
//           existing one, which already orders it (as std::shared_ptr does). ref_dec is acq_rel so
//           that the thread that frees the task sees every write made under other references.
// Seam:     word_ is a detail::atomic (sync_primitives.hpp), model-checked by tests/model.
#pragma once

#include <corio/runtime/detail/sync_primitives.hpp>

#include <cassert>
#include <cstdint>

namespace corio::detail {

class task_snapshot {
public:
    static constexpr std::uint64_t running = 1u << 0;
    static constexpr std::uint64_t complete = 1u << 1;
    static constexpr std::uint64_t lifecycle_mask = running | complete;
    static constexpr std::uint64_t notified = 1u << 2;
    static constexpr std::uint64_t join_interest = 1u << 3;
    static constexpr std::uint64_t join_waker = 1u << 4;
    static constexpr std::uint64_t cancelled = 1u << 5;
    static constexpr unsigned ref_shift = 6;
    static constexpr std::uint64_t ref_one = std::uint64_t{1} << ref_shift;
    static constexpr std::uint64_t initial = ref_one * 3 | join_interest | notified;

    constexpr explicit task_snapshot(std::uint64_t bits) noexcept : bits_(bits) {}
    constexpr std::uint64_t bits() const noexcept { return bits_; }

    constexpr bool is_running() const noexcept { return bits_ & running; }
    constexpr bool is_complete() const noexcept { return bits_ & complete; }
    constexpr bool is_idle() const noexcept { return (bits_ & lifecycle_mask) == 0; }
    constexpr bool is_notified() const noexcept { return bits_ & notified; }
    constexpr bool is_join_interested() const noexcept { return bits_ & join_interest; }
    constexpr bool is_join_waker_set() const noexcept { return bits_ & join_waker; }
    constexpr bool is_cancelled() const noexcept { return bits_ & cancelled; }
    constexpr std::uint64_t ref_count() const noexcept { return bits_ >> ref_shift; }

    constexpr void set(std::uint64_t b) noexcept { bits_ |= b; }
    constexpr void unset(std::uint64_t b) noexcept { bits_ &= ~b; }
    constexpr void ref_inc() noexcept { bits_ += ref_one; }
    constexpr void ref_dec() noexcept {
        assert(ref_count() > 0);
        bits_ -= ref_one;
    }

private:
    std::uint64_t bits_;
};

class task_state {
public:
    using snapshot = task_snapshot;

    enum class [[nodiscard]] to_running { success, cancelled, failed, dealloc };
    enum class [[nodiscard]] to_idle { ok, ok_notified, ok_dealloc, cancelled };
    enum class [[nodiscard]] to_notified { do_nothing, submit, dealloc };

    task_state() noexcept : word_(snapshot::initial) {}

    snapshot load() const noexcept { return snapshot(word_.load(std::memory_order_acquire)); }

    // A worker took the task's notification out of a run queue and wants to run it.
    to_running transition_to_running() noexcept {
        return update<to_running>([](snapshot& s) {
            assert(s.is_notified());
            if (!s.is_idle()) {
                // Running elsewhere, or complete (cancelled at shutdown): consume the notification's ref.
                s.ref_dec();
                return s.ref_count() == 0 ? to_running::dealloc : to_running::failed;
            }
            s.set(snapshot::running);
            s.unset(snapshot::notified);
            return s.is_cancelled() ? to_running::cancelled : to_running::success;
        });
    }

    // The task suspended without completing. If it was notified while it ran, the caller must
    // submit it again: this transition made a new ref for that notification.
    to_idle transition_to_idle() noexcept {
        std::uint64_t cur = word_.load(std::memory_order_acquire);
        for (;;) {
            snapshot s(cur);
            assert(s.is_running());
            if (s.is_cancelled()) return to_idle::cancelled;
            s.unset(snapshot::running);
            to_idle action;
            if (s.is_notified()) {
                s.ref_inc();
                action = to_idle::ok_notified;
            } else {
                s.ref_dec();
                action = s.ref_count() == 0 ? to_idle::ok_dealloc : to_idle::ok;
            }
            if (word_.compare_exchange_weak(cur, s.bits(), std::memory_order_acq_rel, std::memory_order_acquire))
                return action;
        }
    }

    // The frame is gone and the output stored: running -> complete in one step.
    snapshot transition_to_complete() noexcept {
        constexpr std::uint64_t delta = snapshot::running | snapshot::complete;
        snapshot prev(word_.fetch_xor(delta, std::memory_order_acq_rel));
        assert(prev.is_running() && !prev.is_complete());
        return snapshot(prev.bits() ^ delta);
    }

    // Drops `count` refs at completion; true if the caller must free the task.
    bool transition_to_terminal(std::uint64_t count) noexcept {
        snapshot prev(word_.fetch_sub(count * snapshot::ref_one, std::memory_order_acq_rel));
        assert(prev.ref_count() >= count);
        return prev.ref_count() == count;
    }

    // A waker consumed by value: its ref is given up unless it becomes the notification's ref.
    to_notified transition_to_notified_by_val() noexcept {
        return update<to_notified>([](snapshot& s) {
            if (s.is_running()) {
                // The runner resubmits after its poll (to_idle sees notified); drop the waker's ref.
                s.set(snapshot::notified);
                s.ref_dec();
                assert(s.ref_count() > 0);
                return to_notified::do_nothing;
            }
            if (s.is_complete() || s.is_notified()) {
                s.ref_dec();
                return s.ref_count() == 0 ? to_notified::dealloc : to_notified::do_nothing;
            }
            // The waker's ref becomes the notification's ref.
            s.set(snapshot::notified);
            return to_notified::submit;
        });
    }

    // A waker used by reference: a new ref is made for the notification when one is submitted.
    to_notified transition_to_notified_by_ref() noexcept {
        return update<to_notified>([](snapshot& s) {
            if (s.is_complete() || s.is_notified()) return to_notified::do_nothing;
            if (s.is_running()) {
                s.set(snapshot::notified);
                return to_notified::do_nothing;
            }
            s.set(snapshot::notified);
            s.ref_inc();
            return to_notified::submit;
        });
    }

    // abort(): true if the caller must submit a notification (made with a new ref) so that a worker
    // observes cancelled and destroys the frame.
    bool transition_to_notified_and_cancel() noexcept {
        return update<bool>([](snapshot& s) {
            if (s.is_cancelled() || s.is_complete()) return false;
            if (s.is_running()) {
                s.set(snapshot::notified | snapshot::cancelled);
                return false;
            }
            if (s.is_notified()) {
                s.set(snapshot::cancelled);
                return false;
            }
            s.set(snapshot::cancelled | snapshot::notified);
            s.ref_inc();
            return true;
        });
    }

    // Runtime shutdown: marks cancelled, and takes running if the task was idle. True if the caller
    // now owns the frame and must cancel it.
    bool transition_to_shutdown() noexcept {
        std::uint64_t cur = word_.load(std::memory_order_acquire);
        for (;;) {
            snapshot s(cur);
            const bool idle = s.is_idle();
            if (idle) s.set(snapshot::running);
            s.set(snapshot::cancelled);
            if (word_.compare_exchange_weak(cur, s.bits(), std::memory_order_acq_rel, std::memory_order_acquire))
                return idle;
        }
    }

    // A dump inspects a suspended task (runtime/src/task_registry.cpp): takes `running` from a task
    // that is idle, not notified and not cancelled, so that the inspector may read its frame chain
    // (pending_leaf_) as a poll would, without polling. The caller holds a ref, which becomes the
    // one transition_to_idle consumes when it lets go, exactly as a poll's notification ref.
    // Fails (returns false, word unchanged) for a task that is queued, running, complete or
    // cancelled: a dump shows those by their state alone. A notified task is refused because it
    // sits in a run queue: a worker will pop it and must find it idle. A wake or abort that comes
    // while the inspector holds `running` finds a running task and only sets notified (and
    // cancelled); transition_to_idle then hands the inspector a notification to submit (or the
    // cancellation to carry out), as it does a worker.
    bool try_lock_for_inspection() noexcept {
        return update_if([](snapshot& s) {
            if (!s.is_idle() || s.is_notified() || s.is_cancelled()) return false;
            s.set(snapshot::running);
            return true;
        });
    }

    // join_handle destroyed before the task ran: the common case, one CAS.
    bool drop_join_handle_fast() noexcept {
        std::uint64_t expected = snapshot::initial;
        return word_.compare_exchange_strong(expected,
                                             (snapshot::initial - snapshot::ref_one) & ~snapshot::join_interest,
                                             std::memory_order_release, std::memory_order_relaxed);
    }

    // Clears join_interest. Fails (returns false) if complete is already set: the caller then owns
    // the output and must destroy it.
    bool unset_join_interested() noexcept {
        return update_if([](snapshot& s) {
            assert(s.is_join_interested());
            if (s.is_complete()) return false;
            s.unset(snapshot::join_interest);
            return true;
        });
    }

    // Publishes join_waker_ to the runtime. Fails if the task completed meanwhile.
    bool set_join_waker() noexcept {
        return update_if([](snapshot& s) {
            assert(s.is_join_interested() && !s.is_join_waker_set());
            if (s.is_complete()) return false;
            s.set(snapshot::join_waker);
            return true;
        });
    }

    // Takes join_waker_ back from the runtime, to replace it. Fails if the task completed meanwhile.
    bool unset_join_waker() noexcept {
        return update_if([](snapshot& s) {
            assert(s.is_join_interested() && s.is_join_waker_set());
            if (s.is_complete()) return false;
            s.unset(snapshot::join_waker);
            return true;
        });
    }

    void ref_inc() noexcept {
        // Relaxed: see the header comment; a ref is only ever made from a live ref.
        [[maybe_unused]] auto prev = word_.fetch_add(snapshot::ref_one, std::memory_order_relaxed);
        assert(snapshot(prev).ref_count() > 0);
    }

    // True if this was the last reference: the caller frees the task.
    bool ref_dec() noexcept {
        snapshot prev(word_.fetch_sub(snapshot::ref_one, std::memory_order_acq_rel));
        assert(prev.ref_count() >= 1);
        return prev.ref_count() == 1;
    }

private:
    template <class R, class F>
    R update(F f) noexcept {
        std::uint64_t cur = word_.load(std::memory_order_acquire);
        for (;;) {
            snapshot s(cur);
            R r = f(s);
            if (word_.compare_exchange_weak(cur, s.bits(), std::memory_order_acq_rel, std::memory_order_acquire))
                return r;
        }
    }

    // Like update, but a `false` from f leaves the word unchanged.
    template <class F>
    bool update_if(F f) noexcept {
        std::uint64_t cur = word_.load(std::memory_order_acquire);
        for (;;) {
            snapshot s(cur);
            if (!f(s)) return false;
            if (word_.compare_exchange_weak(cur, s.bits(), std::memory_order_acq_rel, std::memory_order_acquire))
                return true;
        }
    }

    detail::atomic<std::uint64_t> word_;
};

}  // namespace corio::detail
