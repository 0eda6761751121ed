// corio/runtime/detail/timer_entry.hpp — the intrusive timer wheel node carried by every sleep.
//
// A timer_entry lives inside the sleep_operation that owns it (so a sleep allocates nothing) and
// is linked into the runtime's one timer wheel while it waits (runtime/src/time/wheel.hpp).
//
// Fields:   prev_, next_, list_, when_, waker_ are guarded by the wheel mutex.
//           fired_ is set by the firer under the mutex, with release, after its last access to
//           the entry (it moved waker_ out); it is cleared only by the owner (reset), when no
//           firer can hold the entry.
//           registered_, waker_data_, waker_vt_ belong to the owner: the task polling the sleep
//           (its `running` bit orders them across workers).
// States:   unregistered (never polled since construction or the last fire+reset: not in the
//           wheel, the destructor takes no lock — tokio#6504) -> registered (linked in a slot or
//           the wheel's pending list, waker_ set) -> fired (unlinked, fired_ = true, waker_ empty).
// Races:    fire vs cancel vs reset all run under the wheel mutex, except the owner's reads of
//           fired_: seeing true (acquire) means the firer is done with the entry, so the owner may
//           free or reset it without locking. The cancel path's lock is the happens-before edge
//           that lets a frame holding a registered entry be freed on another worker.
#pragma once

#include <corio/runtime/waker.hpp>

#include <atomic>
#include <cstdint>

namespace corio::detail {

struct timer_list;

struct timer_entry {
    // Guarded by the wheel mutex.
    timer_entry* prev_ = nullptr;
    timer_entry* next_ = nullptr;
    timer_list* list_ = nullptr;  // the slot or pending list holding the entry; null if unlinked
    std::uint64_t when_ = 0;      // deadline, in wheel ticks (rounded up)
    waker waker_;                 // fired or dropped under/after the mutex, never by the owner alone

    // Release by the firer (its last write to the entry); acquire by the owner.
    std::atomic<bool> fired_{false};

    // Owner only.
    bool registered_ = false;              // linked at some point since construction / reset
    const void* waker_data_ = nullptr;     // identity of waker_, to skip the lock on re-polls
    const waker_vtable* waker_vt_ = nullptr;
};

}  // namespace corio::detail
