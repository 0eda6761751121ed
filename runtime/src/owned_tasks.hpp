// owned_tasks: every spawned task that has not completed, so shutdown can cancel them all.
// Intrusive lists (task_header::owned_prev_/owned_next_) in 16 shards, each under its own
// mutex, picked by task id: spawns and completions on different workers rarely meet on a lock.
// The list holds one reference on each task (the first of the three initial refs).
#pragma once

#include <corio/runtime/detail/task_header.hpp>

#include <array>
#include <mutex>

namespace corio::detail {

class owned_tasks {
public:
    // False if the list is closed (runtime shutting down): the caller cancels the task at once.
    bool bind(task_header* t) noexcept {
        shard& s = shard_of(t);
        std::lock_guard lock(s.mutex);
        if (s.closed) return false;
        t->owned_prev_ = nullptr;
        t->owned_next_ = s.head;
        if (s.head) s.head->owned_prev_ = t;
        s.head = t;
        t->owned_linked_ = true;
        return true;
    }

    // True if the task was in the list (the caller then releases the list's reference).
    bool remove(task_header* t) noexcept {
        shard& s = shard_of(t);
        std::lock_guard lock(s.mutex);
        if (!t->owned_linked_) return false;
        s.unlink(t);
        return true;
    }

    void close() noexcept {
        for (shard& s : shards_) {
            std::lock_guard lock(s.mutex);
            s.closed = true;
        }
    }

    // With the list's reference.
    task_header* pop_front() noexcept {
        for (shard& s : shards_) {
            std::lock_guard lock(s.mutex);
            if (task_header* t = s.head) {
                s.unlink(t);
                return t;
            }
        }
        return nullptr;
    }

private:
    struct alignas(64) shard {
        std::mutex mutex;
        task_header* head = nullptr;  // guarded by mutex
        bool closed = false;          // guarded by mutex

        void unlink(task_header* t) noexcept {
            if (t->owned_prev_) t->owned_prev_->owned_next_ = t->owned_next_;
            else head = t->owned_next_;
            if (t->owned_next_) t->owned_next_->owned_prev_ = t->owned_prev_;
            t->owned_prev_ = t->owned_next_ = nullptr;
            t->owned_linked_ = false;
        }
    };
    shard& shard_of(const task_header* t) noexcept { return shards_[t->id_ % shards_.size()]; }

    std::array<shard, 16> shards_;
};

}  // namespace corio::detail
