// corio/runtime/dump.hpp — runtime::dump(): every task of a running runtime, and what each waits on.
//
// A dump is the runtime's metrics plus one row per live task: its id, name and spawn site, its
// state, how often and how long it ran, how long ago it last ran, and — for a task suspended on
// a leaf — what that leaf waits for, in words ("recv on mpsc channel (0 of 64 queued, 3 senders
// alive)", "sleep until +2.4s"). The rows need the task registry
// (runtime_options::enable_task_registry); without it a dump carries the metrics only.
//
// Consistency: each row is read on its own. A suspended task is locked for the moment its row is
// read (it cannot run meanwhile; a wake that comes then is delivered right after), so its
// description is exact; a task that is queued or running is shown by state alone. The rows
// together are not one instant. docs/design/observability.md gives the argument.
//
// Printing: fmt::format("{}", dump) gives the text form (Go's goroutine dump is the model);
// dump.to_json() the machine form.
#pragma once

#include <corio/runtime/metrics.hpp>
#include <corio/runtime/readable_duration.hpp>
#include <corio/runtime/spawn_site.hpp>

#include <fmt/format.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace corio {

/// What a task was doing when its dump row was read.
enum class task_dump_state {
    scheduled,  // in a run queue, waiting for a worker
    running,    // on a worker right now (or being inspected by another dump)
    suspended,  // waiting on the leaf described in waiting_on
    cancelled,  // aborted; a worker is about to destroy its frame
};

/// One task in a dump.
struct task_dump {
    std::uint64_t id = 0;                         ///< the task id (as join_error::task_id)
    std::string name;                             ///< empty unless spawned through task_builder::name
    spawn_site site;                              ///< where it was spawned
    task_dump_state state = task_dump_state::scheduled;  ///< what it was doing
    std::uint64_t polls = 0;                      ///< times a worker polled it
    std::chrono::nanoseconds busy{0};             ///< total time inside polls
    std::chrono::nanoseconds since_last_poll{0};  ///< since its last poll ended (since spawn if never polled)
    std::string waiting_on;                       ///< suspended only: the pending leaf's description
};

/// What runtime::dump() returns: the metrics and, with the task registry on, every live task.
struct runtime_dump {
    bool registry_enabled = false;  ///< runtime_options::enable_task_registry was on (else tasks is empty)
    runtime_metrics metrics;        ///< as runtime::metrics()
    std::vector<task_dump> tasks;   ///< the live tasks, by id

    /// One JSON object: {"registry_enabled":…, "workers":[…], "tasks":[{"id":…}, …]}.
    std::string to_json() const;
};

/// "scheduled", "running", "suspended" or "cancelled".
std::string_view to_string(task_dump_state s) noexcept;

}  // namespace corio

template <>
struct fmt::formatter<corio::task_dump_state> : fmt::formatter<std::string_view> {
    template <class FormatContext>
    auto format(corio::task_dump_state s, FormatContext& ctx) const {
        return fmt::formatter<std::string_view>::format(corio::to_string(s), ctx);
    }
};

template <>
struct fmt::formatter<corio::task_dump> {
    constexpr auto parse(fmt::format_parse_context& ctx) { return ctx.begin(); }
    template <class FormatContext>
    auto format(const corio::task_dump& t, FormatContext& ctx) const {
        auto out = fmt::format_to(ctx.out(), "task {}", t.id);
        if (!t.name.empty()) out = fmt::format_to(out, " '{}'", t.name);
        out = fmt::format_to(out, " [{}] polls={} busy={} last_ran={} ago, spawned at {}:{} ({})", t.state, t.polls,
                             corio::readable(t.busy), corio::readable(t.since_last_poll), t.site.file, t.site.line,
                             t.site.function);
        if (!t.waiting_on.empty()) out = fmt::format_to(out, "\n    waiting on: {}", t.waiting_on);
        return out;
    }
};

template <>
struct fmt::formatter<corio::runtime_dump> {
    constexpr auto parse(fmt::format_parse_context& ctx) { return ctx.begin(); }
    template <class FormatContext>
    auto format(const corio::runtime_dump& d, FormatContext& ctx) const {
        auto out = fmt::format_to(ctx.out(), "{}\n", d.metrics);
        for (const auto& w : d.metrics.workers) out = fmt::format_to(out, "  {}\n", w);
        if (!d.registry_enabled)
            return fmt::format_to(out, "tasks: not listed (runtime_options::enable_task_registry is off)\n");
        out = fmt::format_to(out, "tasks: {}\n", d.tasks.size());
        for (const auto& t : d.tasks) out = fmt::format_to(out, "  {}\n", t);
        return out;
    }
};
