/// \file
/// corio/channels/broadcast/replay.hpp — the replay option of a broadcast channel: keep the last n
/// values for receivers that subscribe late.
///
///     auto [tx, rx] = corio::broadcast::channel<event>(64, corio::broadcast::replay(8));
///     tx.send(a); tx.send(b);
///     auto late = tx.subscribe();        // receives a, b, then every value sent from now on
///
/// Without it a receiver made by subscribe() sees only values sent after it subscribed (Tokio's
/// rule, which has no replay). With replay(n), subscribe() and resubscribe() start at the oldest
/// of the last n values sent instead of the tail: the channel holds each value until n newer ones
/// have been sent (as if it were one more receiver of the last n), so those values are still in
/// the ring when a subscriber arrives. n <= capacity; replay(0) is the plain channel. The
/// receiver returned by channel() starts at the first send anyway. Lag rules are unchanged: a
/// replayed value that is overwritten before the new receiver reads it yields lagged, as any
/// other. A send with no receivers still fails and stores nothing, so only values that reached
/// at least one receiver are replayed (keep a receiver alive to record history with none
/// listening). docs/channels.md ("Replay") has the full contract.
#pragma once

#include <cstddef>

namespace corio::broadcast {

/// `broadcast::channel<T>(capacity, broadcast::replay(n) [, corio::with_metrics])`.
struct replay {
    /// Keeps the last `n` values for late subscribers (n may be 0: no replay).
    constexpr explicit replay(std::size_t n) noexcept : last(n) {}
    /// How many of the most recent values a new subscriber receives first.
    std::size_t last;  // how many of the most recent values a new subscriber receives first
};

}  // namespace corio::broadcast
