/// \file
/// corio/channels/watch.hpp — one value, many watchers: receivers wake when it changes.
///
///     auto [tx, rx] = corio::watch::channel<int>(0);
///     tx.send(1);                                          // or send_modify(f), send_if_modified(f)
///     while ((co_await rx.changed()).has_value()) {        // one wake per new version
///         int v = *rx.borrow_and_update();                 // the latest value, marked seen
///     }
///
/// A channel holds one value and a version. The sender replaces or modifies the value; each
/// receiver remembers the last version it has seen and `co_await rx.changed()` completes once a
/// newer version exists. Receivers see the latest value only: intermediate values they were too
/// slow for are skipped (use broadcast to see every value). The sender is move-only; receivers
/// are copyable (a copy starts from the version its source has seen), and `tx.subscribe()` makes
/// a receiver that has seen the current value.
///
/// Borrowing: `rx.borrow()` (and borrow_and_update(), tx.borrow(), the result of wait_for) returns
///   a watch::ref, a read guard holding a shared lock on the value. While any ref is alive the
///   sender's send/modify blocks its thread. Keep refs short: never hold one across a co_await
///   (the lock would be held while the task is suspended, possibly blocking a worker that sends,
///   and a ref must be released on the thread that took it). Copy the value out instead.
///   Small trivially copyable values (a T that std::atomic_ref<T> handles lock-free: integers,
///   enums, pointers, small PODs) are read without any lock: a sequence counter (a seqlock)
///   tells a reader whether the sender wrote meanwhile, and the ref holds a copy. Receivers then
///   never write the value's cache line, and the sender never waits for them.
/// Disconnection: destroying the sender closes the channel: changed() then yields
///   recv_error::closed once the receiver has seen the last version (a version sent just before
///   the close is still reported as a change first), and has_changed() yields the error.
///   When the last receiver is destroyed, send() fails and hands its value back (send_replace and
///   send_modify still store it), and `co_await tx.closed()` completes.
/// Errors: watch::recv_error::closed; watch::send_error<T> (= corio::send_error<T>, value handed back).
/// Cancel safety: changed(), wait_for() and closed() are cancel safe: cancelled (cancel(), or
///   destroyed) they leave the waiters and drop their waker; a changed() has marked nothing seen,
///   so polled again (or the next changed()) it reports the same change.
/// Memory ordering: everything the sender did before a send is visible to a receiver that then
///   observes the new version (changed() completing, or a borrow seeing the value).
/// Resumption: waiters are woken through their wakers, outside every lock; a send never resumes
///   anyone inline.
/// Thread safety: handles may live on different workers or plain threads. Each handle is used by
///   one task (or thread) at a time; different receivers, and the sender, work concurrently.
///   Preconditions (debug assertions): a handle is not moved or destroyed while an operation on it
///   is pending. The functions passed to send_modify/send_if_modified and the predicate of
///   wait_for run under the value's lock: they must not use the channel.
///
/// Layout: watch/sender.hpp, watch/receiver.hpp, watch/ref.hpp (the borrow guard) and
/// watch/error.hpp over watch/detail/shared.hpp (the shared allocation and the value's two
/// storage modes), watch/detail/state.hpp (the version word) and watch/detail/notify_list.hpp
/// (the waiter lists and their protocol).
#pragma once

#include <corio/channels/metrics.hpp>
#include <corio/channels/watch/detail/shared.hpp>
#include <corio/channels/watch/error.hpp>
#include <corio/channels/watch/fwd.hpp>
#include <corio/channels/watch/receiver.hpp>
#include <corio/channels/watch/ref.hpp>
#include <corio/channels/watch/sender.hpp>

#include <utility>

namespace corio::watch {

/// Creates a channel holding `initial` (version 0, which the returned receiver has seen).
/// `opts`: e.g. corio::with_metrics to count (corio/channels/metrics.hpp).
template <class T>
std::pair<sender<T>, receiver<T>> channel(T initial, const channel_options& opts) {
    auto* s = new detail::watch_shared<T>(std::move(initial), opts);
    return {sender<T>(s), receiver<T>(s, 0)};
}

}  // namespace corio::watch
