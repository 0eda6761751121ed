// corio/runtime/detail/task_header.hpp — the heap cell of a spawned task, apart from its frame.
//
// A spawned task is two allocations: the coroutine frame of its root task<T>, and this header
// (with the output, in spawned_task<T>). Aborting a task destroys the frame while wakers,
// run queues and the join_handle still point at the header, so the header cannot live in the
// frame. The frame is destroyed by whoever holds `running`; the header is freed at refcount 0.
#pragma once

#include <corio/runtime/detail/frame_allocator.hpp>
#include <corio/runtime/detail/intrusive_list.hpp>
#include <corio/runtime/detail/task_state.hpp>
#include <corio/runtime/leaf.hpp>
#include <corio/runtime/waker.hpp>

#include <coroutine>
#include <cstdint>
#include <exception>

namespace corio::detail {

/// What the harness needs from a scheduler (runtime/src/scheduler.hpp implements it).
class scheduler_base {
public:
    // Queues a notified task. `is_yield` sends it to the back of the queue, never the LIFO slot.
    virtual void schedule(task_header* t, bool is_yield) noexcept = 0;
    // Removes the task from the owned list; true if it was there (the list's ref is then released).
    virtual bool release(task_header* t) noexcept = 0;
    // An exception left a task whose output nobody will read.
    virtual void report_unhandled(std::exception_ptr e) noexcept = 0;
    // A task header bound to this scheduler was freed (each one keeps the scheduler alive).
    virtual void task_freed() noexcept = 0;

protected:
    ~scheduler_base() = default;
};

class task_record;

class task_header : public run_cell {
public:
    task_header() noexcept = default;
    task_header(const task_header&) = delete;
    task_header& operator=(const task_header&) = delete;

    task_state state_;
    std::uint64_t id_ = 0;
    scheduler_base* scheduler_ = nullptr;

    // Lifetime: queue_next_ belongs to the run queue (inject list) that holds the notification.
    task_header* queue_next_ = nullptr;
    // Guarded by the owned list's mutex (owner_ < 0), or owned by worker owner_'s thread
    // (runtime/src/local_owned.hpp).
    list_hook<task_header> owned_hook_;
    std::int32_t owner_ = -1;           // the worker whose local list holds the task, or -1
    std::uint32_t owned_index_ = 0;     // its slot there

    // Owned by the holder of `running`, as is the run_cell part (the frame chain's state).
    std::coroutine_handle<> root_;           // frame of the root task; null once destroyed

    // The task registry's record (runtime/src/task_registry.hpp), or null when the registry is
    // off. Set at spawn before the task can run; cleared and freed at completion by the holder of
    // `running`. Its statistics are written by the holder of `running`.
    task_record* record_ = nullptr;

    // Rules of task_state's join_waker bit.
    waker join_waker_;

    // The root frame's allocation prefix, and the root frame's memory once destroyed: freed
    // with the header (frame_allocator.hpp).
    frame_prefix* root_prefix_ = nullptr;
    frame_prefix* deferred_frame_ = nullptr;

    // Type-specific parts, implemented by spawned_task<T>.
    virtual void store_output_and_destroy_frame() noexcept = 0;  // root finished
    virtual void cancel_and_destroy_frame() noexcept = 0;        // abort / shutdown
    virtual void drop_output() noexcept = 0;                      // nobody will read it
    virtual ~task_header() = default;

    // Harness operations (runtime/src/harness.cpp).
    void run(unsigned* budget) noexcept;   // poll once; called by a worker with a notification ref
    void shutdown() noexcept;               // owned-list ref; runtime shutdown
    void remote_abort() noexcept;
    void drop_reference() noexcept;
    void drop_notification() noexcept { drop_reference(); }
    void drop_join_handle() noexcept;
    // A dump, with a ref, after try_lock_for_inspection succeeded: lets go of `running`, and
    // delivers a wake or abort that arrived meanwhile (runtime/src/task_registry.cpp). Consumes
    // the ref.
    void end_inspection() noexcept;
    // Join side: true if the output is ready to take; otherwise `w` is registered.
    bool poll_join(waker_ref w) noexcept;
    // Join side: withdraws the waker poll_join registered (a cancelled await of the handle).
    void cancel_join_wait() noexcept;
    waker_ref make_waker_ref() noexcept { return {this, &waker_vtable_}; }

    static const waker_vtable waker_vtable_;

private:
    void complete() noexcept;
    void cancel_task() noexcept;
    void dealloc() noexcept;
};

}  // namespace corio::detail
