// runtime::dump(): the metrics, and the task registry's rows (task_registry.cpp), in text (the
// formatter in corio/runtime/dump.hpp) or JSON (here).
#include "scheduler.hpp"

#include <corio/runtime/dump.hpp>

#include <fmt/format.h>

#include <iterator>

namespace corio {

namespace detail {

runtime_dump scheduler::dump() {
    runtime_dump d;
    d.metrics = metrics();
    if (registry_) {
        d.registry_enabled = true;
        d.tasks = registry_->dump();
    }
    return d;
}

}  // namespace detail

runtime_dump runtime::dump() const { return sched_->dump(); }

runtime_dump runtime_handle::dump() const { return sched_->dump(); }

std::string_view to_string(task_dump_state s) noexcept {
    switch (s) {
        case task_dump_state::scheduled: return "scheduled";
        case task_dump_state::running: return "running";
        case task_dump_state::suspended: return "suspended";
        case task_dump_state::cancelled: return "cancelled";
    }
    return "unknown";
}

namespace {

// A JSON string: quotes, backslashes and control characters escaped (RFC 8259, section 7).
void append_json_string(std::string& out, std::string_view s) {
    out += '"';
    for (const char c : s) {
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\t': out += "\\t"; break;
            case '\r': out += "\\r"; break;
            default:
                if (static_cast<unsigned char>(c) < 0x20) fmt::format_to(std::back_inserter(out), "\\u{:04x}", static_cast<unsigned>(c));
                else out += c;
        }
    }
    out += '"';
}

}  // namespace

std::string runtime_dump::to_json() const {
    std::string out;
    auto o = std::back_inserter(out);
    const runtime_metrics& m = metrics;
    fmt::format_to(o,
                   "{{\"registry_enabled\":{},\"alive_tasks\":{},\"spawned_tasks\":{},\"inject_queue_depth\":{},"
                   "\"timers_armed\":{},\"io_registrations\":{},\"blocking_threads\":{},\"idle_blocking_threads\":{},"
                   "\"blocking_queue_depth\":{},\"workers\":[",
                   registry_enabled, m.alive_tasks, m.spawned_tasks, m.inject_queue_depth, m.timers_armed,
                   m.io_registrations, m.blocking_threads, m.idle_blocking_threads, m.blocking_queue_depth);
    for (std::size_t i = 0; i < m.workers.size(); ++i) {
        const worker_metrics& w = m.workers[i];
        fmt::format_to(o,
                       "{}{{\"index\":{},\"polls\":{},\"parks\":{},\"stolen_tasks\":{},\"busy_ns\":{},"
                       "\"local_queue_depth\":{},\"io_in_flight\":{}}}",
                       i ? "," : "", w.index, w.polls, w.parks, w.stolen_tasks, w.busy.count(), w.local_queue_depth,
                       w.io_in_flight);
    }
    out += "],\"tasks\":[";
    for (std::size_t i = 0; i < tasks.size(); ++i) {
        const task_dump& t = tasks[i];
        fmt::format_to(o, "{}{{\"id\":{},\"name\":", i ? "," : "", t.id);
        append_json_string(out, t.name);
        out += ",\"file\":";
        append_json_string(out, t.site.file);
        fmt::format_to(o, ",\"line\":{},\"function\":", t.site.line);
        append_json_string(out, t.site.function);
        fmt::format_to(o, ",\"state\":\"{}\",\"polls\":{},\"busy_ns\":{},\"since_last_poll_ns\":{},\"waiting_on\":",
                       to_string(t.state), t.polls, t.busy.count(), t.since_last_poll.count());
        append_json_string(out, t.waiting_on);
        out += '}';
    }
    out += "]}";
    return out;
}

}  // namespace corio
