/// \file
/// corio/channels/broadcast.hpp — every receiver gets every value (a copy each), with bounded lag.
///
///     auto [tx, rx] = corio::broadcast::channel<event>(1024);
///     auto rx2 = tx.subscribe();                        // sees values sent from now on
///     // channel<event>(1024, corio::broadcast::replay(16)): subscribers get the last 16 first
///     tx.send(ev);                                      // -> receiver count, or the value back
///     for (;;) {
///         auto r = co_await rx.recv();
///         if (r) handle(*r);
///         else if (r.error().is_lagged()) note_skipped(r.error().skipped());
///         else break;                                   // closed: all senders gone, backlog drained
///     }
///
/// A channel is a ring of `capacity` slots (rounded up to a power of two) shared by every sender
/// and receiver (Tokio's sync/broadcast.rs). A send writes the next slot, overwriting the oldest
/// value, and never waits: capacity bounds each receiver's backlog, not the sender. A receiver
/// that falls more than the ring's length behind has lost values: its next recv() yields
/// recv_error::lagged(n) with n the count skipped, and it continues from the oldest value still
/// held. T must be copyable; each receiver gets its own copy. A slot's value is destroyed once
/// every receiver that was subscribed when it was sent has read it (or skipped past it, or left),
/// and, with replay(n), once n newer values have been sent.
/// Senders are copyable (each copy is a sender; the channel closes when the last is destroyed);
/// receivers are move-only (resubscribe() makes a new one at the tail).
/// Replay (broadcast/replay.hpp): with replay(n), subscribe() and resubscribe() start at the
///   oldest of the last n values sent instead of the tail; the channel keeps those n values alive
///   for them. Lag and closing rules are the same for a replayed value as for any other.
///
/// Disconnection: when the last sender is destroyed, receivers drain their backlog, then recv()
///   yields recv_error::closed. send() with no receivers fails and hands the value back.
/// Errors: broadcast::recv_error {closed, lagged(skipped)}, broadcast::try_recv_error {empty,
///   closed, lagged(skipped)}, broadcast::send_error<T> (= corio::send_error<T>, value handed back).
/// Cancel safety: recv() is cancel safe: a pending recv that is cancelled (cancel(), or destroyed:
///   select, timeout, abort) has consumed nothing, unlinks itself and drops its waker; polled
///   again (or the next recv()) it yields the same value.
/// Memory ordering: everything a sender did before send(v) is visible to a receiver that got v.
/// Resumption: waiting receivers are woken through their wakers after the channel's lock is
///   released; send() never resumes anyone inline.
/// Thread safety: handles may live on different workers or plain threads; each handle is used by
///   one task (or thread) at a time. Preconditions (debug assertions): a receiver is not moved or
///   destroyed while a recv() on it is pending; operations are made on non-empty handles.
/// T's copy constructor should not throw (an exception from it is rethrown by the recv, and that
///   value counts as received); its move constructor and destructor run under the channel's lock.
///
/// Layout: broadcast/sender.hpp, broadcast/receiver.hpp, broadcast/error.hpp and
/// broadcast/replay.hpp (the replay option) over broadcast/detail/shared.hpp (the ring, the tail,
/// the replay hold and the send/receive protocols) and broadcast/detail/slot.hpp (one slot and its
/// access rule).
#pragma once

#include <corio/channels/broadcast/detail/shared.hpp>
#include <corio/channels/broadcast/error.hpp>
#include <corio/channels/broadcast/fwd.hpp>
#include <corio/channels/broadcast/receiver.hpp>
#include <corio/channels/broadcast/replay.hpp>
#include <corio/channels/broadcast/sender.hpp>
#include <corio/channels/metrics.hpp>

#include <bit>
#include <cstddef>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace corio::broadcast {

/// Creates a channel whose receivers each hold up to `capacity` (rounded up to a power of two)
/// unread values, and whose subscribers start with the last `history.last` values sent
/// (broadcast/replay.hpp). Throws std::invalid_argument if capacity is 0 or too large, or if
/// history.last > capacity. `opts`: e.g. corio::with_metrics to count (corio/channels/metrics.hpp).
template <class T>
std::pair<sender<T>, receiver<T>> channel(std::size_t capacity, replay history, const channel_options& opts) {
    static_assert(std::is_copy_constructible_v<T>, "broadcast values are copied to each receiver");
    if (capacity == 0) throw std::invalid_argument("corio::broadcast::channel: capacity must be > 0");
    if (capacity > (std::size_t{1} << (sizeof(std::size_t) * 8 - 2)))
        throw std::invalid_argument("corio::broadcast::channel: capacity too large");
    if (history.last > capacity)
        throw std::invalid_argument("corio::broadcast::channel: replay longer than the capacity");
    auto* s = new detail::broadcast_shared<T>(std::bit_ceil(capacity), history.last, opts);
    return {sender<T>(s), receiver<T>(s, 0)};
}

/// As above, without replay: subscribers see only values sent after they subscribe.
template <class T>
std::pair<sender<T>, receiver<T>> channel(std::size_t capacity, const channel_options& opts) {
    return channel<T>(capacity, replay(0), opts);
}

}  // namespace corio::broadcast
