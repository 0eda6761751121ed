// task_registry: records made at spawn, freed at completion, and the dump that reads them
// (rules in task_registry.hpp).
#include "task_registry.hpp"

#include <algorithm>
#include <memory>

namespace corio::detail {

void task_registry::add(task_header* t, const spawn_site& site, std::string_view name) {
    auto r = std::make_unique<task_record>(t, site, name, registry_now_ns());
    shard& s = shard_of(t);
    std::lock_guard lock(s.mutex);
    s.records.push_back(r.get());
    t->record_ = r.release();
}

void task_registry::remove(task_header* t) noexcept {
    task_record* r = t->record_;
    if (!r) return;
    {
        shard& s = shard_of(t);
        std::lock_guard lock(s.mutex);
        s.records.remove(r);
    }
    t->record_ = nullptr;
    delete r;
}

namespace {

// One row of a dump, with a ref on its task while the row is being filled.
struct pending_row {
    task_header* task;
    task_dump row;
};

task_dump_state state_of(task_snapshot s) noexcept {
    if (s.is_cancelled()) return task_dump_state::cancelled;
    if (s.is_running()) return task_dump_state::running;
    return task_dump_state::scheduled;  // notified: in a run queue
}

// Fills what only the task's frame chain can say, if the task is suspended; consumes the ref.
// False if the task completed since the walk: it has no row.
bool inspect(task_header* t, task_dump& row) {
    if (!t->state_.try_lock_for_inspection()) {
        const task_snapshot s = t->state_.load();
        row.state = state_of(s);
        t->drop_reference();
        return !s.is_complete();
    }
    row.state = task_dump_state::suspended;
    // We hold `running`: the chain cannot run, so pending_leaf_ and the leaf's own fields are
    // stable. describe() may allocate; a failure leaves the row without its description.
    try {
        if (t->pending_leaf_) t->pending_leaf_->describe(row.waiting_on);
        else row.waiting_on = "nothing (not yet polled)";
    } catch (...) {
        row.waiting_on.clear();
    }
    t->end_inspection();
    return true;
}

}  // namespace

std::vector<task_dump> task_registry::dump() {
    std::vector<pending_row> pending;
    // Every ref taken goes back, also when an allocation below fails.
    struct release_refs {
        std::vector<pending_row>& rows;
        std::size_t done = 0;
        ~release_refs() {
            for (std::size_t i = done; i < rows.size(); ++i) rows[i].task->drop_reference();
        }
    } guard{pending};
    const std::int64_t now = registry_now_ns();
    for (shard& s : shards_) {
        std::lock_guard lock(s.mutex);
        for (task_record* r = s.records.front(); r; r = decltype(s.records)::next(r)) {
            task_dump row;
            row.id = r->task->id_;
            row.name = r->name;
            row.site = r->site;
            row.polls = r->polls.get();
            row.busy = std::chrono::nanoseconds(static_cast<std::int64_t>(r->busy_ns.get()));
            row.since_last_poll = std::chrono::nanoseconds(
                std::max<std::int64_t>(0, now - r->last_poll_end_ns.load(std::memory_order_relaxed)));
            pending.push_back({r->task, std::move(row)});
            // Rule 1: the header is alive while its record is listed; the ref keeps it so after.
            r->task->state_.ref_inc();
        }
    }
    std::vector<task_dump> rows;
    rows.reserve(pending.size());
    for (pending_row& p : pending) {
        ++guard.done;  // inspect consumes the ref
        if (inspect(p.task, p.row)) rows.push_back(std::move(p.row));
    }
    std::sort(rows.begin(), rows.end(), [](const task_dump& a, const task_dump& b) { return a.id < b.id; });
    return rows;
}

}  // namespace corio::detail
