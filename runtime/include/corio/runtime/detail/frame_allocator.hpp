// corio/runtime/detail/frame_allocator.hpp — recycling allocator for task frames and headers.
//
// Every spawn allocates a coroutine frame and a task header, and the worker that frees them is
// often not the one that allocated them; glibc makes such cross-thread frees of ~256 B blocks
// cost ~320 ns (LIMITS.md §7). Frames and headers are therefore recycled through per-thread
// free lists in 64-byte size classes up to 1 KiB: a block freed on any thread goes to that
// thread's list and is reused by its next allocation, so steady-state spawning never reaches
// malloc. Each list is capped; a thread's lists are returned to malloc when it exits.
// Under AddressSanitizer the cache is bypassed, so use-after-free stays detectable.
#pragma once

#include <cstddef>

namespace corio::detail {

void* allocate_frame(std::size_t size);
void deallocate_frame(void* p, std::size_t size) noexcept;

}  // namespace corio::detail
