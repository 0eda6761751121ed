// harness: running, completing, cancelling and freeing a spawned task (Tokio's harness.rs).
// Every function here follows task_state's rules; the comments name the reference each step
// consumes.
#include "task_registry.hpp"

#include <corio/runtime/detail/task_header.hpp>

#include <cassert>
#include <utility>

namespace corio::detail {

void task_header::dealloc() noexcept {
    scheduler_base* s = scheduler_;
    frame_prefix* frame = deferred_frame_;
    delete this;
    if (frame) deallocate_frame(frame, frame->size);
    if (s) s->task_freed();
}

// Called by a worker that took the task's notification (one ref) out of a run queue.
void task_header::run(unsigned* budget) noexcept {
    switch (state_.transition_to_running()) {
        case task_state::to_running::success: break;
        case task_state::to_running::cancelled: cancel_task(); return;
        case task_state::to_running::failed: return;
        case task_state::to_running::dealloc: dealloc(); return;
    }

    context cx(make_waker_ref(), budget);
    // With the task registry on, the poll is counted and timed (task_registry.hpp, rule 2).
    // Before complete(): completion frees the record.
    task_record* const record = record_;
    const std::int64_t start_ns = record ? registry_now_ns() : 0;
    // Filters spurious and early wakes: the frame is resumed only once its leaf is ready; the
    // trampoline (task.hpp) then runs each frame that an await or a completion names next.
    drive(cx);
    if (record) record->note_poll(start_ns, registry_now_ns());

    if (root_.done()) {
        store_output_and_destroy_frame();
        complete();
        return;
    }
    assert(pending_leaf_ && "a corio task suspended on an awaiter that is not a corio leaf");

    switch (state_.transition_to_idle()) {
        case task_state::to_idle::ok: return;  // the notification's ref was dropped
        case task_state::to_idle::ok_notified:
            // Woken while running: to_idle made a ref for the new notification; ours goes.
            scheduler_->schedule(this, true);
            drop_reference();
            return;
        case task_state::to_idle::ok_dealloc: dealloc(); return;
        case task_state::to_idle::cancelled: cancel_task(); return;
    }
}

// A dump let go of a suspended task it inspected (task_registry.cpp), with the ref it took.
// transition_to_idle treats that ref as a poll's notification ref, and this mirrors the end of
// run(): a wake that came during the inspection is submitted now; an abort or shutdown that came
// is carried out here, since whoever set cancelled left the frame to the holder of `running`.
void task_header::end_inspection() noexcept {
    switch (state_.transition_to_idle()) {
        case task_state::to_idle::ok: return;
        case task_state::to_idle::ok_notified:
            scheduler_->schedule(this, true);
            drop_reference();
            return;
        case task_state::to_idle::ok_dealloc: dealloc(); return;
        case task_state::to_idle::cancelled: cancel_task(); return;
    }
}

// Holder of `running`: destroys the frame (its destructors unregister every pending leaf) and
// completes with join_error::cancelled.
void task_header::cancel_task() noexcept {
    cancel_and_destroy_frame();
    complete();
}

// Holder of `running`, output stored; consumes one ref (the notification's, or the owned list's
// at shutdown) plus the owned list's if the task is still in it.
void task_header::complete() noexcept {
    const task_snapshot snap = state_.transition_to_complete();
    if (!snap.is_join_interested()) {
        // The join_handle is gone: nobody will read the output.
        drop_output();
    } else if (snap.is_join_waker_set()) {
        // Lifetime: join_waker_ belongs to the runtime while join_waker is set and complete was
        // not; we just set complete, and the handle will not touch the waker again.
        join_waker_.wake_by_ref();
    }
    const std::uint64_t refs = 1 + (scheduler_->release(this) ? 1 : 0);
    if (state_.transition_to_terminal(refs)) dealloc();
}

// Runtime shutdown, with the owned list's ref.
void task_header::shutdown() noexcept {
    if (!state_.transition_to_shutdown()) {
        // Running elsewhere or already complete: whoever runs it sees cancelled.
        drop_reference();
        return;
    }
    cancel_task();
}

void task_header::remote_abort() noexcept {
    if (state_.transition_to_notified_and_cancel()) scheduler_->schedule(this, true);
}

void task_header::drop_reference() noexcept {
    if (state_.ref_dec()) dealloc();
}

void task_header::drop_join_handle() noexcept {
    if (state_.drop_join_handle_fast()) return;
    if (!state_.unset_join_interested()) {
        // Complete already: the output is ours to destroy.
        drop_output();
    }
    drop_reference();
}

// Join side (Tokio's can_read_output): true once complete; otherwise `w` is registered to be
// woken at completion, following the join_waker rules in task_state.hpp.
bool task_header::poll_join(waker_ref w) noexcept {
    const task_snapshot snap = state_.load();
    if (snap.is_complete()) return true;
    auto set_waker = [&] {
        // join_waker is clear: the waker is ours to write until set_join_waker publishes it.
        join_waker_ = w.clone();
        if (state_.set_join_waker()) return true;
        join_waker_.reset();
        return false;
    };
    bool registered;
    if (snap.is_join_waker_set()) {
        if (join_waker_.will_wake(w)) return false;
        registered = state_.unset_join_waker() && set_waker();
    } else {
        registered = set_waker();
    }
    return !registered;  // failing to register means complete was set meanwhile
}

// Join side. The waker is taken back only while join_waker is set and complete is not; if the
// task completed meanwhile, the completer owns the waker until the handle goes (one spurious wake
// of the former awaiter at most, which its leaf filters).
void task_header::cancel_join_wait() noexcept {
    const task_snapshot snap = state_.load();
    if (snap.is_complete() || !snap.is_join_waker_set()) return;
    if (state_.unset_join_waker()) join_waker_.reset();
}

namespace {
task_header* header_of(const void* p) noexcept { return static_cast<task_header*>(const_cast<void*>(p)); }
}  // namespace

// Task wakers: data is the task_header, holding one ref.
const waker_vtable task_header::waker_vtable_ = {
    [](const void* p) noexcept -> const void* {
        header_of(p)->state_.ref_inc();
        return p;
    },
    [](const void* p) noexcept {
        task_header* t = header_of(p);
        switch (t->state_.transition_to_notified_by_val()) {
            case task_state::to_notified::submit: t->scheduler_->schedule(t, false); break;  // our ref is the notification's
            case task_state::to_notified::dealloc: t->dealloc(); break;
            case task_state::to_notified::do_nothing: break;
        }
    },
    [](const void* p) noexcept {
        task_header* t = header_of(p);
        if (t->state_.transition_to_notified_by_ref() == task_state::to_notified::submit) t->scheduler_->schedule(t, false);
    },
    [](const void* p) noexcept { header_of(p)->drop_reference(); },
};

}  // namespace corio::detail
