// corio/channels/mpmc/detail/waiters.hpp — the two kinds of waiter node of an mpmc channel. Each
// lives inside its operation's awaiter (pinned while pending), so waiting allocates nothing; the
// channel (mpmc/detail/chan.hpp) links them into its two intrusive lists under its mutex.
#pragma once

#include <corio/runtime/detail/intrusive_list.hpp>
#include <corio/runtime/waker.hpp>

#include <atomic>
#include <optional>

namespace corio::detail::mpmc {

// A pending recv.
// States (linked = in chan::receivers_, both fields guarded by chan::mutex_):
//   idle      not linked, notified_ false: never polled, or its last poll was ready, or cancelled.
//   waiting   linked, with the waker of its last poll. Only a waiting receiver can be notified.
//   notified  not linked, notified_ true: a send (or close) unlinked it and took its waker to
//             wake it, because a value (or the end) is there for it. It has taken nothing: its
//             next poll takes a value if one is queued (another receiver may have been faster: it
//             waits again), and its cancel() passes the notification on to the next waiting
//             receiver, so a value never sits queued while every receiver sleeps.
// Transitions: idle -> waiting (a pending poll); waiting -> notified (a send, close, or a
//   cancelled notified receiver forwarding); waiting / notified -> idle (a ready poll, cancel);
//   notified -> waiting (a poll that finds nothing). All under chan::mutex_.
struct recv_waiter {
    list_hook<recv_waiter> hook_;
    waker waker_;
    bool notified_ = false;
};

// A pending send (bounded channel full, or rendezvous) and where its value is.
// States (linked = in chan::senders_):
//   idle       not linked, delivered_ false.
//   waiting    linked, with a waker; value_ points at the awaiter's value, which a receiver may
//              take (under chan::mutex_) at any moment: into the queue's back slot when it frees
//              one (bounded), or straight into its own result (rendezvous).
//   delivered  a receiver moved the value out, unlinked the node, took its waker, and then set
//              delivered_ (release). The send has happened: there is nothing left to cancel.
//   refused    the channel closed for senders: the closer unlinked the node and took its waker;
//              the value is still in the awaiter (the send's poll reports closed).
// Ordering: delivered_ is set last, with release, after the receiver's last touch of the node
//   and of the value; the owner's acquire load of true lets it read its (now empty) value and
//   reuse or destroy the node without the lock. Only the owner clears it.
template <class T>
struct send_waiter {
    list_hook<send_waiter> hook_;
    waker waker_;                       // guarded by chan::mutex_ while linked
    std::optional<T>* value_ = nullptr;  // guarded by chan::mutex_ while linked
    std::atomic<bool> delivered_{false};
};

}  // namespace corio::detail::mpmc
