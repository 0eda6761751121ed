// corio/runtime/detail/frame_allocator.hpp — recycling allocator for task frames and headers.
//
// Every spawn allocates a coroutine frame and a task header, and the worker that frees them is
// often not the one that allocated them; glibc makes such cross-thread frees of ~256 B blocks
// cost ~320 ns (docs/design/platform.md, "Allocation"). Frames and headers are therefore recycled through per-thread
// free lists in 64-byte size classes up to 1 KiB: a block freed on any thread goes to that
// thread's list and is reused by its next allocation, so steady-state spawning never reaches
// malloc. Each list is capped; a thread's lists are returned to malloc when it exits.
// Under AddressSanitizer the cache is bypassed, so use-after-free stays detectable.
#pragma once

#include <cstddef>

namespace corio::detail {

void* allocate_frame(std::size_t size);
void deallocate_frame(void* p, std::size_t size) noexcept;

class task_header;

// Task frames carry a 16-byte prefix. For the root frame of a spawned task, the prefix names the
// task's header: when the frame is destroyed at completion (on the worker that ran it), its memory
// is parked in the header and freed with it, by whoever drops the last reference — for a joined
// task, the joiner, which is usually the spawner. Without this, a worker finishing tasks spawned
// by another would free their frames into its own cache, and the spawner's next allocations would
// pull those cache lines back across cores.
struct frame_prefix {
    task_header* defer_to;
    std::size_t size;  // of the whole block, prefix included
};
static_assert(sizeof(frame_prefix) == 16);

void* allocate_task_frame(std::size_t size);                 // returns the frame, after the prefix
void deallocate_task_frame(void* frame, std::size_t size) noexcept;
// The prefix of the frame most recently allocated on this thread, once (then null). Called by
// the promise's constructor, which runs right after its frame's allocation.
frame_prefix* take_last_frame_prefix() noexcept;

}  // namespace corio::detail
