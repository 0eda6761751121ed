// corio/channels/watch/detail/state.hpp — the version word of a watch channel.
#pragma once

#include <atomic>
#include <cstdint>

namespace corio::detail {

// watch_state: the version word of a watch channel (Tokio's sync/watch.rs `state`).
//
// Bits:     closed (0): set once, by the sender's destruction, never cleared.
//           version (1..): +2 per send; never decreases. A receiver compares it with the version
//                          it has seen.
// Access:   the version changes only with value_mutex_ held exclusively (seqlock mode: inside the
//           sender's odd seq_ window; both in watch_shared, shared.hpp), so under a shared lock
//           (a stable even seq_) the version read belongs to the value read.
// Ordering: every operation is seq_cst. Release/acquire alone publishes the value; seq_cst is
//           needed because a send (RMW on the word, then a load of the waiter count) and a
//           waiter (store of the waiter count, then a load of the word) form a Dekker pair:
//           one of them must see the other, so a waiter is never missed (watch_notify_list,
//           notify_list.hpp).
class watch_state {
public:
    static constexpr std::uint64_t closed_bit = 1;
    static constexpr std::uint64_t version_step = 2;

    std::uint64_t load() const noexcept { return word_.load(std::memory_order_seq_cst); }
    void increment_version() noexcept { word_.fetch_add(version_step, std::memory_order_seq_cst); }
    void transition_to_closed() noexcept { word_.fetch_or(closed_bit, std::memory_order_seq_cst); }

    static constexpr std::uint64_t version(std::uint64_t w) noexcept { return w & ~closed_bit; }
    static constexpr bool is_closed(std::uint64_t w) noexcept { return (w & closed_bit) != 0; }

private:
    std::atomic<std::uint64_t> word_{0};
};

}  // namespace corio::detail
