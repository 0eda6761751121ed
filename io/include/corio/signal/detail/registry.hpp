// corio/signal/detail/registry.hpp — the seam between corio::signal's listeners and the
// process-wide signal registry (a handler per signal, an eventfd and a dispatcher thread), which
// lives in io/src/signal/registry.cpp: that file documents the delivery path and its invariants.
//
// A listener remembers the last generation of its signal that it saw; a recv() polls for a newer
// one, and while there is none its waiter node (below, embedded in the awaiter) is linked in the
// signal's slot with a waker. Several deliveries between two receives coalesce into one.
#pragma once

#include <corio/runtime/detail/intrusive_list.hpp>
#include <corio/runtime/waker.hpp>

#include <cstdint>
#include <system_error>

namespace corio::signal::detail {

inline constexpr int max_signal = 65;  // covers SIGRTMAX on Linux

// A listener waiting for the next generation of one signal (the node lives in the awaiter).
// Access: hook and w are guarded by the slot's mutex (the dispatcher unlinks the node and takes
//   the waker from its thread). A node holds a waker clone only while linked.
struct waiter {
    ::corio::detail::list_hook<waiter> hook;
    waker w;
};

// Installs the handler for `signo` (once per process) and starts the dispatcher (once).
// Precondition: 0 < signo < max_signal.
std::error_code ensure_installed(int signo);

// The generation of `signo` now: a listener created now sees the deliveries after it.
std::uint64_t current_generation(int signo);

// True if a generation of `signo` newer than `seen` exists (and `seen` is advanced to it; `n`
// leaves the slot and drops its waker); otherwise `n` is linked with a clone of `w`.
bool poll_generation(int signo, std::uint64_t& seen, waiter& n, waker_ref w);

// Unlinks `n` (if the dispatcher did not already take it) and drops its waker: nothing of the
// node is left in the slot. Consumes no generation.
void cancel_wait(int signo, waiter& n) noexcept;

}  // namespace corio::signal::detail
