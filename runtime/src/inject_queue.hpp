// inject_queue: the runtime's global run queue, for tasks spawned or woken off-worker and for a
// worker's overflow. A mutex around an intrusive list (through task_header::queue_next_), plus an
// atomic length so that empty checks take no lock (Tokio's runtime/task/inject.rs).
//
// Close: at shutdown the queue is closed; a notification pushed after that is dropped at once
// (its reference released), so nothing is queued that no worker will ever run.
// Seam: mutex_ and len_ come from sync_primitives.hpp, so tests/model can check this under Relacy.
#pragma once

#include <corio/runtime/detail/sync_primitives.hpp>
#include <corio/runtime/detail/task_header.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>

namespace corio::detail {

class inject_queue {
public:
    // Relaxed: a hint. A worker that sees 0 and parks is covered by the park protocol: pushers
    // notify a parked worker after pushing (idle.hpp).
    bool is_empty() const noexcept { return len_.load(std::memory_order_acquire) == 0; }
    std::size_t len() const noexcept { return len_.load(std::memory_order_acquire); }

    // False if the queue is closed: the notification was dropped, and with it perhaps the last
    // reference that kept the scheduler alive — the caller must not touch the scheduler then.
    bool push(task_header* t) noexcept {
        t->queue_next_ = nullptr;
        return push_batch(t, t, 1);
    }

    // [first .. last] linked through queue_next_, last->queue_next_ == null. As push().
    bool push_batch(task_header* first, task_header* last, std::size_t n) noexcept {
        {
            std::lock_guard lock(mutex_);
            if (!closed_) {
                if (tail_) tail_->queue_next_ = first;
                else head_ = first;
                tail_ = last;
                len_.store(len_.load(std::memory_order_relaxed) + n, std::memory_order_release);
                pushed_.store(pushed_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
                return true;
            }
        }
        // Closed: release the notifications' refs, outside the lock (dropping may free a task,
        // whose destructor may push here again).
        while (first) {
            task_header* next = first->queue_next_;
            first->drop_notification();
            first = next;
        }
        return false;
    }

    task_header* pop() noexcept {
        if (is_empty()) return nullptr;
        std::lock_guard lock(mutex_);
        task_header* t = head_;
        if (!t) return nullptr;
        head_ = t->queue_next_;
        if (!head_) tail_ = nullptr;
        t->queue_next_ = nullptr;
        len_.store(len_.load(std::memory_order_relaxed) - 1, std::memory_order_release);
        return t;
    }

    // Returns true if this call closed it.
    bool close() noexcept {
        std::lock_guard lock(mutex_);
        if (closed_) return false;
        closed_ = true;
        return true;
    }
    // Tasks ever pushed (runtime::metrics()'s remote_schedules).
    std::uint64_t pushed() const noexcept { return pushed_.load(std::memory_order_relaxed); }
    bool is_closed() const noexcept {
        std::lock_guard lock(mutex_);
        return closed_;
    }

private:
    mutable detail::mutex mutex_;
    task_header* head_ = nullptr;  // guarded by mutex_
    task_header* tail_ = nullptr;  // guarded by mutex_
    bool closed_ = false;          // guarded by mutex_
    detail::atomic<std::size_t> len_{0};  // written under mutex_, read anywhere
    // Written under mutex_ (a load and a store), read anywhere; a statistic, outside the model.
    std::atomic<std::uint64_t> pushed_{0};
};

}  // namespace corio::detail
