// owned_tasks: every spawned task that has not completed, so shutdown can cancel them all.
// A mutex around an intrusive list (task_header::owned_prev_/owned_next_). The list holds one
// reference on each task (the first of the three initial refs).
#pragma once

#include <corio/runtime/detail/task_header.hpp>

#include <mutex>

namespace corio::detail {

class owned_tasks {
public:
    // False if the list is closed (runtime shutting down): the caller cancels the task at once.
    bool bind(task_header* t) noexcept {
        std::lock_guard lock(mutex_);
        if (closed_) return false;
        t->owned_prev_ = nullptr;
        t->owned_next_ = head_;
        if (head_) head_->owned_prev_ = t;
        head_ = t;
        t->owned_linked_ = true;
        return true;
    }

    // True if the task was in the list (the caller then releases the list's reference).
    bool remove(task_header* t) noexcept {
        std::lock_guard lock(mutex_);
        if (!t->owned_linked_) return false;
        unlink(t);
        return true;
    }

    void close() noexcept {
        std::lock_guard lock(mutex_);
        closed_ = true;
    }

    // With the list's reference.
    task_header* pop_front() noexcept {
        std::lock_guard lock(mutex_);
        task_header* t = head_;
        if (t) unlink(t);
        return t;
    }

    bool is_empty() const noexcept {
        std::lock_guard lock(mutex_);
        return head_ == nullptr;
    }

private:
    void unlink(task_header* t) noexcept {
        if (t->owned_prev_) t->owned_prev_->owned_next_ = t->owned_next_;
        else head_ = t->owned_next_;
        if (t->owned_next_) t->owned_next_->owned_prev_ = t->owned_prev_;
        t->owned_prev_ = t->owned_next_ = nullptr;
        t->owned_linked_ = false;
    }

    mutable std::mutex mutex_;
    task_header* head_ = nullptr;  // guarded by mutex_
    bool closed_ = false;          // guarded by mutex_
};

}  // namespace corio::detail
