// task_registry: the live tasks of a runtime, for dumps (runtime_options::enable_task_registry).
//
// One task_record per spawned task, made at spawn and freed at completion, in one of 16 shards
// (by task id), each an intrusive list under its own mutex: a spawn or completion takes one
// short lock that tasks of other shards do not contend for. The records are separate from the
// owned lists on purpose: a worker's local_owned list is its thread's alone and cannot be walked
// by a dump (local_owned.hpp).
//
// Rules:   1. The shard's mutex guards the list links (hook) and is held while a dump copies a
//             record; a record is unlinked and freed by the completing task's `running` holder
//             (scheduler::release), so a record on a list always belongs to a live task header.
//          2. polls, busy_ns and last_poll_end_ns are written only by the holder of the task's
//             `running` bit. Successive holders are ordered by the acq_rel transitions of the task
//             state word, so one load-and-store writer at a time is enough (single_writer_counter);
//             a dump reads them relaxed and may see one poll's figures half applied.
//          3. A dump never keeps a shard locked while it inspects a task: it takes a ref on each
//             header under the lock, lets go, and inspects after (task_registry.cpp), because
//             ending an inspection can complete the task, and completion takes the shard lock.
#pragma once

#include "single_writer_counter.hpp"

#include <corio/runtime/detail/intrusive_list.hpp>
#include <corio/runtime/detail/task_header.hpp>
#include <corio/runtime/dump.hpp>
#include <corio/runtime/spawn_site.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace corio::detail {

class task_record {
public:
    task_record(task_header* t, const spawn_site& site, std::string_view name, std::int64_t now_ns)
        : task(t), site(site), name(name), last_poll_end_ns(now_ns) {}

    list_hook<task_record> hook;  // rule 1
    task_header* const task;
    const spawn_site site;
    const std::string name;
    single_writer_counter polls;               // rule 2
    single_writer_counter busy_ns;             // rule 2
    std::atomic<std::int64_t> last_poll_end_ns;  // rule 2; steady clock; the spawn time until the first poll ends

    // The holder of `running`, around a poll (harness.cpp).
    void note_poll(std::int64_t start_ns, std::int64_t end_ns) noexcept {
        polls.add();
        busy_ns.add(static_cast<std::uint64_t>(end_ns - start_ns));
        last_poll_end_ns.store(end_ns, std::memory_order_relaxed);
    }
};

// The registry's clock: steady, in nanoseconds.
inline std::int64_t registry_now_ns() noexcept {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

class task_registry {
public:
    task_registry() = default;
    task_registry(const task_registry&) = delete;
    task_registry& operator=(const task_registry&) = delete;

    // Spawn, before the task can run: makes the record and sets t->record_. Throws bad_alloc.
    void add(task_header* t, const spawn_site& site, std::string_view name);
    // Completion (scheduler::release), by the holder of `running`: unlinks and frees the record.
    void remove(task_header* t) noexcept;
    // Any thread: one row per live task, sorted by id.
    std::vector<task_dump> dump();

private:
    struct shard {
        std::mutex mutex;
        intrusive_list<task_record, &task_record::hook> records;  // guarded by mutex
    };
    shard& shard_of(const task_header* t) noexcept { return shards_[t->id_ % shards_.size()]; }

    std::array<shard, 16> shards_;
};

}  // namespace corio::detail
