/// \file
/// corio/channels/mpsc.hpp — multi-producer, single-consumer queues (Tokio's sync::mpsc).
///
///     auto [tx, rx] = corio::mpsc::channel<int>(64);           // bounded: backpressure
///     corio::spawn(producer(tx));                               // senders are copyable
///     auto sent = co_await tx.send(1);                          // waits for capacity
///     while (auto v = co_await rx.recv()) use(*v);              // nullopt: every sender gone, drained
///
///     auto [utx, urx] = corio::mpsc::unbounded_channel<int>();  // never waits to send
///     (void)utx.send(2);
///
/// A channel is one allocation shared by its handles. sender<T> / unbounded_sender<T> are
/// copyable: each copy is a producer, and the channel closes for the receiver when the last one is
/// destroyed (weak senders, from downgrade(), do not keep it open). receiver<T> is move-only.
///
/// Queue: Tokio's lock-free list of 32-slot blocks (mpsc/detail/block_list.hpp says why), with
/// blocks recycled by the receiver. Capacity (bounded): a FIFO-fair batch_semaphore, so waiting
/// senders get capacity in the order they asked for it. The receiver's waker is an atomic_waker.
///
/// Disconnection:
///   - Every sender destroyed: recv() yields the queued values, then nullopt; try_recv() then
///     reports closed.
///   - Receiver destroyed: sends (pending and later) fail with send_error<T> carrying the value;
///     queued values are destroyed; closed() completes for every sender.
///   - rx.close(): as receiver destroyed for the senders, but queued values (and values sent with
///     permits reserved before the close) can still be received; then recv() yields nullopt.
/// Errors: send_error<T> (corio/channels/error.hpp); try_send_error<T>, try_recv_error,
///   reserve_error, try_reserve_error (corio/channels/mpsc/error.hpp).
/// Cancel safety: every awaitable operation is cancel safe: cancel() (a combinator's losing
///   operand) or destruction while pending — select, timeout, abort — undoes it, and a cancelled
///   operation may be awaited again (leaf contract, corio/runtime/leaf.hpp):
///   - recv() / recv_many(): nothing was taken; the values stay queued; the waker is dropped.
///   - send(v): nothing was sent, and the value stays in the awaiter: take_value() returns it (a
///     select or timeout hands it back); the queued place for capacity is given up (polled again,
///     it queues at the back), and capacity already assigned to it goes to the next waiting sender.
///   - reserve(): as send: the queued place and any capacity assigned to it are passed on.
///   - closed(): leaves the closed() waiters.
///   A permit destroyed unused returns its slot.
/// Ordering: messages from one sender (or one chain of copies used in sequence) arrive in the
///   order sent. Everything a sender did before a send is visible to the receiver once it has
///   received that value.
/// Resumption: a parked receiver or sender is re-scheduled on its own runtime through its waker;
///   no operation resumes anyone inline.
/// Thread safety: handles may live on different workers or plain threads; each handle is used by
///   one task (or thread) at a time (copy a sender to use it from several). Preconditions (debug
///   assertions): handles are non-empty (not moved from) when used; a handle is not moved or
///   destroyed while an operation on it is pending; a permit does not outlive the sender it was
///   reserved from.
/// Cooperative budget: each ready send/recv/reserve uses one unit of the task's budget, so a task
///   looping over an always-ready channel yields to others on its worker.
/// T's move constructor should not throw: values are moved inside noexcept polls.
/// blocking_send / blocking_recv are the twins for plain threads; never call them on a worker.
///
/// Layout (Tokio's sync/mpsc): mpsc/bounded.hpp (sender, permit, weak_sender, channel()),
/// mpsc/unbounded.hpp (unbounded_sender, weak_unbounded_sender, unbounded_channel()),
/// mpsc/receiver.hpp (the receiver both share), over mpsc/detail/chan.hpp (the shared state and
/// the receive protocol), mpsc/detail/block_list.hpp (the queue) and
/// mpsc/detail/closed_waiters.hpp (the senders waiting in closed()).
#pragma once

#include <corio/channels/mpsc/bounded.hpp>
#include <corio/channels/mpsc/receiver.hpp>
#include <corio/channels/mpsc/unbounded.hpp>
