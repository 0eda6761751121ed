// idle: which workers are parked and which are searching for work (Tokio's idle.rs).
//
// State:   state_ packs num_searching (low 16 bits) and num_unparked (the rest). sleepers_ lists
//          the parked workers, guarded by mutex_.
// Rules:   1. At most half the workers search at once (with 2 workers: one), so an idle runtime
//             doesn't burn every core stealing from empty queues.
//          2. A notifier wakes a sleeper only if nobody is searching and someone sleeps: a
//             searcher will find the new work anyway.
//          3. The last searcher that finds work wakes another worker to keep searching in its
//             place (transition_worker_from_searching returns true); the last searcher that parks
//             re-checks every queue (the scheduler's notify_if_work_pending).
// Ordering: seq_cst on state_'s read-modify-writes, and seq_cst fences around the two checks. A
//          pusher's "push task; fence; load state_" and a parker's "dec state_; fence; check
//          queues" form a Dekker pair: at least one of them sees the other, so a task is never
//          left in a queue while every worker sleeps.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <mutex>
#include <optional>
#include <vector>

namespace corio::detail {

class idle {
public:
    explicit idle(std::size_t num_workers) : state_(num_workers << unpark_shift), num_workers_(num_workers) {
        sleepers_.reserve(num_workers);
    }

    // A worker to unpark for new work, already counted as unparked and searching; or none.
    std::optional<std::size_t> worker_to_notify() {
        if (!notify_should_wakeup()) return std::nullopt;
        std::lock_guard lock(mutex_);
        if (!notify_should_wakeup() || sleepers_.empty()) return std::nullopt;
        state_.fetch_add(1 | (std::size_t{1} << unpark_shift), std::memory_order_seq_cst);
        std::size_t w = sleepers_.back();
        sleepers_.pop_back();
        return w;
    }

    // Returns true if the worker was the last searcher (it must then re-check for work).
    bool transition_worker_to_parked(std::size_t worker, bool is_searching) {
        std::lock_guard lock(mutex_);
        std::size_t dec = (std::size_t{1} << unpark_shift) + (is_searching ? 1 : 0);
        std::size_t prev = state_.fetch_sub(dec, std::memory_order_seq_cst);
        sleepers_.push_back(worker);
        return is_searching && num_searching(prev) == 1;
    }

    bool transition_worker_to_searching() {
        std::size_t s = state_.load(std::memory_order_seq_cst);
        if (2 * num_searching(s) >= num_workers_) return false;
        state_.fetch_add(1, std::memory_order_seq_cst);
        return true;
    }

    // True if this was the last searcher.
    bool transition_worker_from_searching() {
        return num_searching(state_.fetch_sub(1, std::memory_order_seq_cst)) == 1;
    }

    // A worker woke up with work of its own (not through worker_to_notify): count it unparked.
    bool unpark_worker_by_id(std::size_t worker) {
        std::lock_guard lock(mutex_);
        auto it = std::find(sleepers_.begin(), sleepers_.end(), worker);
        if (it == sleepers_.end()) return false;
        *it = sleepers_.back();
        sleepers_.pop_back();
        state_.fetch_add(std::size_t{1} << unpark_shift, std::memory_order_seq_cst);
        return true;
    }

    bool is_parked(std::size_t worker) const {
        std::lock_guard lock(mutex_);
        return std::find(sleepers_.begin(), sleepers_.end(), worker) != sleepers_.end();
    }

    std::size_t num_unparked() const noexcept { return num_unparked(state_.load(std::memory_order_seq_cst)); }

private:
    static constexpr unsigned unpark_shift = 16;
    static constexpr std::size_t search_mask = (std::size_t{1} << unpark_shift) - 1;
    static constexpr std::size_t num_searching(std::size_t s) noexcept { return s & search_mask; }
    static constexpr std::size_t num_unparked(std::size_t s) noexcept { return s >> unpark_shift; }

    bool notify_should_wakeup() const noexcept {
        // The fence orders the caller's push of the task before this load: with the fence in
        // scheduler::notify_if_work_pending (after a parker's seq_cst decrement) it forms the
        // Dekker pair. Tokio uses fetch_add(0) here; a fence and a plain load give the same order
        // without taking the line exclusive, so the pusher (every spawn) does not steal the
        // cache line from workers that only read it.
        std::atomic_thread_fence(std::memory_order_seq_cst);
        std::size_t s = state_.load(std::memory_order_relaxed);
        return num_searching(s) == 0 && num_unparked(s) < num_workers_;
    }

    std::atomic<std::size_t> state_;
    const std::size_t num_workers_;
    mutable std::mutex mutex_;
    std::vector<std::size_t> sleepers_;  // guarded by mutex_
};

}  // namespace corio::detail
