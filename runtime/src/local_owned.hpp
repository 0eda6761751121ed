// local_owned: the tasks a worker spawned and that have not completed, kept by that worker alone.
//
// Why: the owned list is touched twice per task (spawn, completion). A shared doubly linked list
// makes both touch other tasks' headers (the neighbours' links), which the other worker is often
// running: measured, dropping it sped spawn_many up by half. Here a worker keeps its tasks in a
// slot vector (the task stores its index), so binding and unbinding touch only the worker's own
// memory and the task's header.
//
// Rules:   1. Only the owning worker's thread touches slots_ and free_ while the workers run;
//             after they are joined (shutdown), the shutting-down thread does.
//          2. A task completed on another thread cannot unbind itself: it pushes itself onto
//             remote_released_ (a lock-free stack linked through task_header::queue_next_, free
//             once a task is complete: a complete task is never queued again), and keeps the
//             list's reference alive. The owner pops the whole stack (drain_remote), unbinds each
//             task and drops that reference.
// Ordering: push is a release CAS, drain an acquire exchange: the owner sees the pusher's writes
//          to the task before it drops the reference.
#pragma once

#include <corio/runtime/detail/task_header.hpp>

#include <atomic>
#include <cstdint>
#include <vector>

namespace corio::detail {

class local_owned {
public:
    // Owner only.
    void bind(task_header* t) {
        std::uint32_t idx;
        if (!free_.empty()) {
            idx = free_.back();
            free_.pop_back();
            slots_[idx] = t;
        } else {
            idx = static_cast<std::uint32_t>(slots_.size());
            slots_.push_back(t);
        }
        t->owned_index_ = idx;
    }

    // Owner only (or the shutdown thread after the join).
    void unbind(task_header* t) noexcept {
        slots_[t->owned_index_] = nullptr;
        try {
            free_.push_back(t->owned_index_);
        } catch (...) {
            // Out of memory: the slot is simply not reused.
        }
    }

    // Any thread: `t` completed away from its owner; the owner unbinds it later.
    void push_remote(task_header* t) noexcept {
        task_header* head = remote_released_.load(std::memory_order_relaxed);
        do {
            t->queue_next_ = head;
        } while (!remote_released_.compare_exchange_weak(head, t, std::memory_order_release, std::memory_order_relaxed));
    }

    bool has_remote() const noexcept { return remote_released_.load(std::memory_order_relaxed) != nullptr; }

    // Owner only: unbinds the remotely completed tasks and drops the list's references.
    void drain_remote() noexcept {
        task_header* t = remote_released_.exchange(nullptr, std::memory_order_acquire);
        while (t) {
            task_header* next = t->queue_next_;
            unbind(t);
            t->drop_reference();
            t = next;
        }
    }

    // Shutdown thread, after the join: takes one bound task with the list's reference.
    task_header* pop_any() noexcept {
        while (!slots_.empty()) {
            task_header* t = slots_.back();
            slots_.pop_back();
            if (t) {
                t->owned_index_ = unbound;
                return t;
            }
        }
        free_.clear();
        return nullptr;
    }

    static constexpr std::uint32_t unbound = UINT32_MAX;

private:
    std::vector<task_header*> slots_;
    std::vector<std::uint32_t> free_;
    std::atomic<task_header*> remote_released_{nullptr};
};

}  // namespace corio::detail
