// owned_tasks: every spawned task that has not completed, so shutdown can cancel them all.
// Intrusive lists (through task_header::owned_hook_) in 16 shards, each under its own mutex,
// picked by task id: spawns and completions on different workers rarely meet on a lock.
// The list holds one reference on each task (the first of the three initial refs).
#pragma once

#include <corio/runtime/detail/intrusive_list.hpp>
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
        s.tasks.push_front(t);
        return true;
    }

    // True if the task was in the list (the caller then releases the list's reference).
    bool remove(task_header* t) noexcept {
        shard& s = shard_of(t);
        std::lock_guard lock(s.mutex);
        if (!s.tasks.contains(t)) return false;  // popped by shutdown, or never bound
        s.tasks.remove(t);
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
            if (task_header* t = s.tasks.pop_front()) return t;
        }
        return nullptr;
    }

private:
    struct alignas(64) shard {
        std::mutex mutex;
        intrusive_list<task_header, &task_header::owned_hook_> tasks;  // guarded by mutex
        bool closed = false;                                            // guarded by mutex
    };
    shard& shard_of(const task_header* t) noexcept { return shards_[t->id_ % shards_.size()]; }

    std::array<shard, 16> shards_;
};

}  // namespace corio::detail
