/// \file
/// corio/channels/mpmc.hpp — multi-producer, multi-consumer queues (Go's channels, Rust's flume).
///
///     auto [tx, rx] = corio::mpmc::channel<int>(64);            // bounded: backpressure
///     corio::spawn(producer(tx));                                // senders are copyable
///     corio::spawn(worker(rx));  corio::spawn(worker(rx));      // so are receivers: each value
///     auto sent = co_await tx.send(1);                           //   goes to exactly one of them
///     while (auto v = co_await rx.recv()) use(*v);               // nullopt: senders gone, drained
///
///     auto [ztx, zrx] = corio::mpmc::channel<int>(0);            // rendezvous (Go's unbuffered)
///     auto [utx, urx] = corio::mpmc::unbounded_channel<int>();   // send never waits
///
/// A channel is one allocation shared by its handles: a FIFO of values and two waiter lists
/// (receivers, senders) under one short adaptive mutex (mpmc/detail/chan.hpp;
/// docs/design/mpmc.md says why not lock-free). Handles are copyable: each copy of a sender is a
/// producer, each copy of a receiver a consumer.
///
/// Delivery: each value goes to exactly one receiver. A send on a bounded channel waits while the
///   channel is full; on a rendezvous channel (capacity 0) it completes only once a receiver has
///   taken its value. Waiting senders are served in the order they started waiting, and so are
///   waiting receivers (a receiver that arrives while a value is queued may take it first).
/// Ordering: values from one sender (or one chain of copies used in sequence) are queued in the
///   order sent, and every receiver takes values in queue order: each consumer sees each
///   producer's values in increasing order (they are shared out among the consumers).
/// Disconnection:
///   - Every sender destroyed: recv() yields the queued values, then nullopt, in every receiver;
///     try_recv() then reports closed.
///   - Every receiver destroyed: sends (pending and later) fail with send_error<T> carrying the
///     value; the values still queued are destroyed at once (counted as dropped).
///   - rx.close() (any receiver): as every receiver destroyed for the senders, but the queued
///     values stay for the receivers, which then get nullopt. Closing is for good.
/// Errors: send_error<T>, try_send_error<T>, send_timeout_error<T>, try_recv_error (the same
///   types as mpsc's) and recv_timeout_error (corio/channels/mpmc/error.hpp).
/// Cancel safety: every awaitable operation is cancel safe (leaf contract, corio/runtime/leaf.hpp):
///   - recv() / recv_timeout(): nothing was taken. A receiver is only ever woken, never handed a
///     value, so a recv cancelled after its wake passes the wake on to the next waiting receiver
///     and the value stays queued for it.
///   - send(v): the send leaves the senders' queue and keeps v (take_value(); a select or timeout
///     hands it back). One case cannot be undone: a receiver takes the value of a *waiting* send
///     when it frees a slot (bounded) or at once (rendezvous), so a send cancelled after that has
///     happened; take_value() is then empty (select's unsent_into stays empty) and nothing is lost
///     or duplicated either way.
/// Resumption: waiters are woken through their waker after the lock is released; nothing is
///   resumed inline. T's move constructor and destructor run under the channel's lock (queued
///   values dropped with the last receiver are destroyed outside it); they should not throw.
/// Thread safety: handles may live on different workers or plain threads; each handle is used by
///   one task (or thread) at a time (copy it to use it from several). Preconditions: a handle is
///   not moved or destroyed while an operation on it is pending.
/// Cooperative budget: each ready send/recv uses one unit of the task's budget.
/// blocking_send / blocking_recv are the twins for plain threads; never call them on a worker.
///
/// Layout: mpmc/sender.hpp (sender, unbounded_sender, channel(), unbounded_channel()),
/// mpmc/receiver.hpp (receiver), over mpmc/detail/chan.hpp (the shared state and the protocols)
/// and mpmc/detail/waiters.hpp (the waiter nodes).
#pragma once

#include <corio/channels/mpmc/receiver.hpp>
#include <corio/channels/mpmc/sender.hpp>
