// Model tests of the mpsc block list (channels/include/corio/channels/mpsc/detail/block_list.hpp),
// with 2-slot blocks (CORIO_TEST_SMALL_BLOCKS) so that a few sends cross several blocks, move
// block_tail_, release blocks and let the consumer recycle them.
//
// The spec is the file's comments: a slot is claimed by fetch_add, written, then published by its
// ready bit; the consumer reads a slot only after seeing that bit; a block is recycled only once
// the consumer is past every slot claimed before the tail moved beyond it; the last sender's close
// marker comes after every value. What the checks see: a value lost, received twice, or received
// out of its producer's order; a value read before it was written (a race on model_value); a
// recycled block still touched by a producer (a race, or a value that goes missing); a block or a
// value leaked or freed twice; close seen before a value that was sent.
#include "model.hpp"

#include <corio/channels/mpsc/detail/block_list.hpp>
#include <corio/runtime/detail/atomic_waker.hpp>

namespace corio::model {
namespace {

using namespace detail::mpsc;

static_assert(block_cap == 2, "the scenarios are sized for CORIO_TEST_SMALL_BLOCKS");

// Two producers send `per_producer` values each, then drop (the last one to go pushes the close
// marker, as chan::drop_sender does); the consumer peeks `peeks` times, taking what it finds.
template <int per_producer, int peeks>
struct producers_vs_consumer : rl::test_suite<producers_vs_consumer<per_producer, peeks>, 3> {
    block<model_value>* first = nullptr;
    list_tx<model_value>* tx = nullptr;
    list_rx<model_value>* rx = nullptr;
    detail::atomic<int> senders{2};
    int next_seq[2] = {0, 0};
    int received = 0;

    void before() {
        first = new block<model_value>(0);
        tx = new list_tx<model_value>(first);
        rx = new list_rx<model_value>(first);
    }

    void take() {
        model_value v = rx->take();
        const int x = v.get();
        const int producer = x / 100, seq = x % 100;
        MODEL_REQUIRE(producer == 0 || producer == 1, "a value nobody sent");
        MODEL_REQUIRE(seq == next_seq[producer], "a producer's values out of order, lost or repeated");
        ++next_seq[producer];
        ++received;
    }

    void thread(unsigned i) {
        if (i < 2) {
            for (int k = 0; k < per_producer; ++k) tx->push(model_value(static_cast<int>(i) * 100 + k));
            // chan::drop_sender: the decrement that reaches 0 comes after every sender's sends.
            if (senders.fetch_sub(1, std::memory_order_acq_rel) == 1) tx->close();
        } else {
            for (int k = 0; k < peeks; ++k) {
                const peek_result r = rx->peek(*tx);
                if (r == peek_result::closed) {
                    MODEL_REQUIRE(received == 2 * per_producer, "closed before every value was received");
                    return;
                }
                if (r == peek_result::value) take();
            }
        }
    }

    void after() {
        // Every producer is done: what is left is readable, then the close marker.
        for (;;) {
            const peek_result r = rx->peek(*tx);
            if (r == peek_result::closed) break;
            MODEL_REQUIRE(r == peek_result::value, "an unreadable slot after every send finished");
            take();
        }
        MODEL_REQUIRE(received == 2 * per_producer, "values lost");
        if (rx->index() > 2 * block_cap) cover("the consumer read past two blocks");
        rx->free_blocks();
        delete rx;
        delete tx;
    }
};

// The mpsc receive protocol over the list and an atomic_waker, as chan does it: producers push
// and then wake the receiver; the receiver peeks, and on empty registers and peeks again
// (peek_registered); a cancelled receive withdraws its waker with take_waker (unregister_rx).
// A receive left pending must be woken if a value arrives after it looked.
struct receive_protocol : rl::test_suite<receive_protocol, 3> {
    block<model_value>* first = nullptr;
    list_tx<model_value>* tx = nullptr;
    list_rx<model_value>* rx = nullptr;
    detail::atomic_waker rx_waker;
    test_waker w1, w2;
    test_waker* last = nullptr;
    bool pending = false;
    int received = 0;

    void before() {
        first = new block<model_value>(0);
        tx = new list_tx<model_value>(first);
        rx = new list_rx<model_value>(first);
    }

    // chan::poll_recv without the capacity parts: true if a value was taken.
    bool poll(test_waker& w) {
        last = &w;
        peek_result r = rx->peek(*tx);
        if (r == peek_result::empty) {
            rx_waker.register_by_ref(w.ref());
            r = rx->peek(*tx);
        }
        pending = r != peek_result::value;
        if (pending) return false;
        MODEL_REQUIRE(rx->take().get() >= 0, "a bad value");
        ++received;
        return true;
    }

    void thread(unsigned i) {
        if (i < 2) {
            tx->push(model_value(static_cast<int>(i)));
            rx_waker.wake();
        } else {
            if (poll(w1)) return;
            if (rl::rand(2)) {
                (void)rx_waker.take_waker();  // the receive was cancelled: unregister_rx
                cover("a pending receive withdrew its waker");
            }
            poll(w2);
        }
    }

    void after() {
        if (pending && received < 2) MODEL_REQUIRE(last->woken() > 0, "lost wake-up: a value arrived, the receiver slept on");
        while (rx->peek(*tx) == peek_result::value) {
            (void)rx->take();
            ++received;
        }
        MODEL_REQUIRE(received == 2, "values lost");
        rx_waker.reset();
        rx->free_blocks();
        delete rx;
        delete tx;
    }
};

const registrar r1 = scenario_of<producers_vs_consumer<2, 6>>(
    "block_list", "two_producers_vs_consumer", {search::random(500000), search::bounded(1)});
const registrar r2 = scenario_of<producers_vs_consumer<4, 10>>(
    "block_list", "block_recycling", {search::random(300000)});
const registrar r3 = scenario_of<receive_protocol>(
    "block_list", "receive_protocol", {search::random(500000), search::bounded(2)});

}  // namespace
}  // namespace corio::model
