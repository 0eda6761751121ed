// Model tests of detail::inject_queue (runtime/src/inject_queue.hpp): push and push_batch
// against pop against close.
//
// The spec: every notification pushed is either queued (and taken out exactly once by pop) or,
// once the queue is closed, dropped at once with its reference released; a push that starts after
// close() returned is dropped. The items are heap task headers with the real refcount (harness.cpp
// frees them): each starts with the three references of a spawned task; the queue's notification
// reference is released by the queue (closed) or by whoever popped it, and the test releases the
// other two at the end, so a notification dropped twice or never is a double free or a leak.
#include "queue_item.hpp"

#include "inject_queue.hpp"

namespace corio::model {
namespace {

using detail::inject_queue;
using detail::task_header;

struct push_pop_close : rl::test_suite<push_pop_close, 3> {
    inject_queue q;
    queue_item* items[3] = {};
    bool queued[3] = {};
    detail::atomic<bool> closed{false};

    void before() {
        for (int i = 0; i < 3; ++i) items[i] = new queue_item(i);
    }

    void take(task_header* t) {
        static_cast<queue_item*>(t)->take();
        t->drop_notification();
    }

    void thread(unsigned i) {
        if (i == 0) {
            // One push, then a batch of two (the overflow path of a local queue).
            const bool was_closed = closed.load(std::memory_order_acquire);
            items[0]->publish();
            queued[0] = q.push(items[0]);
            MODEL_REQUIRE(!(was_closed && queued[0]), "a push after close() was queued");
            const bool was_closed2 = closed.load(std::memory_order_acquire);
            items[1]->publish();
            items[2]->publish();
            items[1]->queue_next_ = items[2];
            items[2]->queue_next_ = nullptr;
            queued[1] = queued[2] = q.push_batch(items[1], items[2], 2);
            MODEL_REQUIRE(!(was_closed2 && queued[1]), "a push after close() was queued");
            if (!queued[0]) cover("a push was dropped by the closed queue");
        } else if (i == 1) {
            for (int k = 0; k < 3; ++k) {
                if (task_header* t = q.pop()) {
                    cover("pop took a notification while pushes and close ran");
                    take(t);
                }
            }
        } else {
            MODEL_REQUIRE(q.close(), "close() twice");
            closed.store(true, std::memory_order_release);
        }
    }

    void after() {
        MODEL_REQUIRE(q.is_closed(), "not closed");
        MODEL_REQUIRE(!q.close(), "close() reported closing a closed queue");
        while (task_header* t = q.pop()) take(t);
        for (int i = 0; i < 3; ++i) {
            MODEL_REQUIRE(items[i]->times_taken() == (queued[i] ? 1 : 0),
                          "a queued notification was not popped exactly once, or a dropped one was popped");
            // The owned list's and the join handle's references; the last one frees the item.
            items[i]->drop_reference();
            items[i]->drop_reference();
        }
    }
};

const registrar r1 = scenario_of<push_pop_close>(
    "inject_queue", "push_pop_close", {search::random(1000000), search::bounded(2)});

}  // namespace
}  // namespace corio::model
