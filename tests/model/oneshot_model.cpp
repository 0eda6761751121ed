// Model tests of oneshot (channels/include/corio/channels/oneshot.hpp): send against receive,
// against the receiver's drop and close, and against cancelled waits; the real sender, receiver
// and their leaves, polled by hand with token wakers.
//
// The spec is oneshot_state's comment: value_ belongs to the sender until value_sent, then to the
// receiver; a waker slot belongs to its side while its bit is clear and is read by the other
// side only after that side's terminal RMW saw the bit (protocols 1 and 2); a withdrawn wait
// clears its bit or, if the other side already finished, leaves the slot (protocol 3).
// What the checks see: the value delivered, handed back or destroyed other than exactly once (a
// leak or double destruction of model_value's rl::var), the value read without a happens-before
// edge from the write (a race), a waker slot used by both sides at once (a race on the token),
// a lost wake-up (the side's last poll was pending and the waker it registered never woke), and
// the shared state freed twice, never, or while in use.
#include "model.hpp"

#include <corio/channels/oneshot.hpp>

#include <optional>

namespace corio::model {
namespace {

using tx_t = oneshot::sender<model_value>;
using rx_t = oneshot::receiver<model_value>;

struct channel_pair {
    tx_t tx;
    rx_t rx;
    void open() {
        auto p = oneshot::channel<model_value>();
        tx = std::move(p.first);
        rx = std::move(p.second);
    }
};

// A side that polls a leaf with waker w1 and, if pending, again with w2 (its task moved, or a
// select re-polled it): the registered waker is replaced (protocol 1's bit-clearing path).
struct poller {
    test_waker w1, w2;
    test_waker* last = nullptr;
    bool pending = false;

    template <class Op>
    bool poll(Op& op, test_waker& w) {
        context cx = w.cx();
        last = &w;
        pending = !op.poll(cx);
        return !pending;
    }
    template <class Op>
    bool poll_twice(Op& op) {
        return poll(op, w1) || poll(op, w2);
    }
    void require_woken_if_pending() {
        if (pending) MODEL_REQUIRE(last->woken() > 0, "lost wake-up: the registered waker was never woken");
    }
};

// send() against a receive that polls (and re-polls with another waker). The value arrives
// exactly once: in the receive, or in a later poll after a wake.
struct send_vs_recv : rl::test_suite<send_vs_recv, 2>, channel_pair {
    poller p;
    std::optional<rx_t::recv_operation> op;  // outlives the thread: a pending op stays registered
    bool received = false;

    void before() { open(); }
    void thread(unsigned i) {
        if (i == 0) {
            auto r = tx.send(model_value(7));
            MODEL_REQUIRE(r.has_value(), "send failed with the receiver alive");
        } else {
            op.emplace(&rx);
            if (p.poll_twice(*op)) {
                auto r = op->await_resume();
                MODEL_REQUIRE(r && r->get() == 7, "wrong value");
                received = true;
            }
        }
    }
    void after() {
        p.require_woken_if_pending();
        op.reset();
        if (!received) {
            auto r = rx.try_recv();
            MODEL_REQUIRE(r && r->get() == 7, "the sent value was not there after the wake");
        }
    }
};

// send() against the receiver going away (after a pending poll, or at once, or by close() and
// then a try_recv): the value is received, handed back to the sender, or destroyed with the
// receiver, exactly once.
struct send_vs_drop_rx : rl::test_suite<send_vs_drop_rx, 2>, channel_pair {
    test_waker w;  // a member: the sender may still wake it after the receiver is gone
    void before() { open(); }
    void thread(unsigned i) {
        if (i == 0) {
            auto r = tx.send(model_value(7));
            if (!r) {
                cover("send handed the value back");
                model_value back = std::move(r.error()).into_inner();
                MODEL_REQUIRE(back.get() == 7, "wrong value handed back");
            }
        } else {
            const unsigned how = rl::rand(3);
            if (how == 0) {
                context cx = w.cx();
                auto op = rx.recv();
                if (op.poll(cx)) (void)op.await_resume();
            } else if (how == 1) {
                rx.close();
                if (auto r = rx.try_recv()) MODEL_REQUIRE(r->get() == 7, "wrong value");
            }
            rx = rx_t();  // drop: closes, and destroys a value that was sent and not received
        }
    }
};

// The sender dropped without sending against a receive: it ends with recv_error::closed, and a
// pending receive is woken.
struct drop_tx_vs_recv : rl::test_suite<drop_tx_vs_recv, 2>, channel_pair {
    poller p;
    std::optional<rx_t::recv_operation> op;
    void before() { open(); }
    void thread(unsigned i) {
        if (i == 0) {
            tx = tx_t();
        } else {
            op.emplace(&rx);
            if (p.poll_twice(*op)) MODEL_REQUIRE(!op->await_resume(), "a value from a sender that sent none");
        }
    }
    void after() {
        p.require_woken_if_pending();
        op.reset();
        if (p.pending) MODEL_REQUIRE(rx.try_recv().error() == oneshot::try_recv_error::closed, "not closed");
    }
};

// A sender in closed() (polled, re-polled, or withdrawn and polled again) against the receiver
// closing or going away: closed() completes, or its pending waker is woken.
struct closed_vs_drop_rx : rl::test_suite<closed_vs_drop_rx, 2>, channel_pair {
    poller p;
    std::optional<tx_t::closed_operation> op;
    void before() { open(); }
    void thread(unsigned i) {
        if (i == 0) {
            op.emplace(&tx);
            if (p.poll(*op, p.w1)) return;
            if (rl::rand(2)) {
                op->cancel();  // protocol 3 on tx_task_
                cover("closed() was withdrawn while pending");
            }
            p.poll(*op, p.w2);
        } else {
            if (rl::rand(2)) rx.close();
            else rx = rx_t();
        }
    }
    void after() {
        p.require_woken_if_pending();
        op.reset();
        MODEL_REQUIRE(tx.is_closed(), "the receiver closed but the sender does not see it");
    }
};

// A pending receive withdrawn (cancel(), as select does with a losing branch) against send():
// protocol 3 either takes the waker back or, if the send already saw the bit, leaves it to the
// sender. The value is then received by a fresh poll, or is still there for try_recv.
struct cancel_recv_vs_send : rl::test_suite<cancel_recv_vs_send, 2>, channel_pair {
    poller p;
    std::optional<rx_t::recv_operation> op;
    bool received = false;

    void before() { open(); }
    void thread(unsigned i) {
        if (i == 0) {
            MODEL_REQUIRE(tx.send(model_value(7)).has_value(), "send failed with the receiver alive");
        } else {
            {
                auto first = rx.recv();
                if (p.poll(first, p.w1)) {
                    received = first.await_resume().has_value();
                    MODEL_REQUIRE(received, "no value");
                    return;
                }
                cover("a pending receive was withdrawn");
            }  // destroying the pending operation withdraws it (cancel())
            op.emplace(&rx);
            if (p.poll(*op, p.w2)) {
                received = op->await_resume().has_value();
                MODEL_REQUIRE(received, "no value");
            }
        }
    }
    void after() {
        p.require_woken_if_pending();
        op.reset();
        if (!received) MODEL_REQUIRE(rx.try_recv().has_value(), "the sent value was lost");
    }
};

const registrar r1 = scenario_of<send_vs_recv>(
    "oneshot", "send_vs_recv", {search::random(500000), search::bounded(2)});
const registrar r2 = scenario_of<send_vs_drop_rx>(
    "oneshot", "send_vs_drop_rx", {search::random(500000), search::bounded(2)});
const registrar r3 = scenario_of<drop_tx_vs_recv>(
    "oneshot", "drop_tx_vs_recv", {search::random(500000), search::bounded(2)});
const registrar r4 = scenario_of<closed_vs_drop_rx>(
    "oneshot", "closed_vs_drop_rx", {search::random(500000), search::bounded(2)});
const registrar r5 = scenario_of<cancel_recv_vs_send>(
    "oneshot", "cancel_recv_vs_send", {search::random(500000), search::bounded(2)});

}  // namespace
}  // namespace corio::model
