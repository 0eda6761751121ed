// Model tests of detail::local_queue (runtime/src/local_queue.hpp), with 4 slots
// (CORIO_TEST_SMALL_QUEUES) so that a few pushes overflow it into the real inject_queue.
//
// The spec is local_queue's header comment: one owner pushes and pops, stealers take half; a slot
// is read only after its taker claimed it by CAS on head_, and reused by the owner only after the
// stealer that copied it released it; at most one stealer at a time. What the checks see: an item
// taken twice or never (every queue is drained at the end), and an item read before the push that
// published it (a race on its payload).
#include "queue_item.hpp"

#include "local_queue.hpp"

namespace corio::model {
namespace {

using detail::inject_queue;
using detail::local_queue;
using detail::task_header;

static_assert(local_queue::capacity == 4, "the scenarios are sized for CORIO_TEST_SMALL_QUEUES");

template <int n_items>
struct queues {
    inject_queue inject;
    local_queue owner;
    local_queue thief[2];
    queue_item items[n_items];

    queues() {
        for (int i = 0; i < n_items; ++i) items[i].set_id(i);
    }

    void push(int i) {
        items[i].publish();
        // Only the owner puts items into the inject queue and only after() takes them out, so the
        // change in its length tells which path push_back took.
        const std::size_t before = inject.len();
        owner.push_back(&items[i], inject);
        const std::size_t moved = inject.len() - before;
        if (moved == 1) cover("push_back sent the item to inject (a steal was in progress)");
        if (moved == local_queue::capacity / 2 + 1) cover("push_back overflowed half the queue to inject");
    }
    void pop_owner() {
        if (task_header* t = owner.pop()) static_cast<queue_item*>(t)->take();
    }
    // A stealer: takes about half of the owner's queue into its own, runs the one it is handed
    // and then everything it moved.
    void steal(local_queue& mine) {
        if (task_header* t = owner.steal_into(mine)) {
            cover("steal_into took an item");
            static_cast<queue_item*>(t)->take();
        }
        while (task_header* t = mine.pop()) static_cast<queue_item*>(t)->take();
    }
    void drain_all() {
        while (task_header* t = owner.pop()) static_cast<queue_item*>(t)->take();
        for (auto& q : thief)
            while (task_header* t = q.pop()) static_cast<queue_item*>(t)->take();
        while (task_header* t = inject.pop()) static_cast<queue_item*>(t)->take();
        for (auto& it : items) MODEL_REQUIRE(it.times_taken() == 1, "an item was lost");
    }
};

// Owner pushes and pops while one stealer steals.
struct owner_vs_stealer : rl::test_suite<owner_vs_stealer, 2>, queues<4> {
    void thread(unsigned i) {
        if (i == 0) {
            push(0);
            push(1);
            push(2);
            pop_owner();
            push(3);
            pop_owner();
        } else {
            steal(thief[0]);
        }
    }
    void after() { drain_all(); }
};

// The owner pushes 7 items into 4 slots without popping: it overflows half of its queue into the
// inject queue (push_overflow), or, when it finds a steal in progress, sends the item there
// directly. One stealer steals twice meanwhile.
struct overflow_vs_stealer : rl::test_suite<overflow_vs_stealer, 2>, queues<7> {
    void thread(unsigned i) {
        if (i == 0) {
            for (int k = 0; k < 7; ++k) push(k);
        } else {
            steal(thief[0]);
            steal(thief[0]);
        }
    }
    void after() { drain_all(); }
};

// Two stealers at once (rule 3: the second backs off while the first copies).
struct two_stealers : rl::test_suite<two_stealers, 3>, queues<5> {
    void thread(unsigned i) {
        if (i == 0) {
            for (int k = 0; k < 4; ++k) push(k);
            pop_owner();
            push(4);
        } else {
            steal(thief[i - 1]);
        }
    }
    void after() { drain_all(); }
};

const registrar r1 = scenario_of<owner_vs_stealer>(
    "local_queue", "owner_vs_stealer", {search::random(500000), search::bounded(2)});
const registrar r2 = scenario_of<overflow_vs_stealer>(
    "local_queue", "overflow_vs_stealer", {search::random(500000), search::bounded(2)});
const registrar r3 = scenario_of<two_stealers>(
    "local_queue", "two_stealers", {search::random(500000), search::bounded(1)});

}  // namespace
}  // namespace corio::model
