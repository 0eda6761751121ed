// corio/channels/broadcast/detail/slot.hpp — one slot of a broadcast channel's ring: a value, the
// send position it belongs to, and how many receivers still have to read it.
#pragma once

#include <corio/channels/detail/rw_lock.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace corio::detail {

// One slot of the ring (Tokio's Slot, each under its own RwLock).
//
// Access:   pos_ and val_ are written by a sender holding lock_ exclusively (and the tail mutex,
//           broadcast_shared::tail_mutex_ in shared.hpp); receivers read them under lock_
//           shared. The one exception: the receiver whose decrement takes rem_ to 0 destroys
//           val_ under the shared lock; every other receiver that may read val_ was counted in
//           rem_ and has already copied it (a reader copies, then decrements), and a receiver
//           that was not counted never reads val_ (it either subscribed later, so its position
//           is past this slot, or it sees pos_ != its position). A replaying subscriber whose
//           start is before this slot adds itself to rem_ under the tail mutex while the
//           channel's replay hold keeps rem_ >= 1 (shared.hpp), so it is counted too.
// Ordering: rem_ is set (relaxed) under the exclusive lock, published by the unlock. The
//           decrement is acq_rel so the reader that takes it to 0 sees every other reader's copy
//           complete before it destroys val_.
template <class T>
struct alignas(64) broadcast_slot {  // one cache line each: a send does not disturb readers of the neighbouring slot
    rw_lock lock_;
    std::atomic<std::size_t> rem_{0};  // receivers that still have to read val_, + 1 while the replay hold lasts
    std::uint64_t pos_ = 0;            // the send position this slot holds
    std::optional<T> val_;
};

}  // namespace corio::detail
