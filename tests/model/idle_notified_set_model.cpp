// Model tests of detail::idle_notified_set (runtime/include/corio/runtime/detail/
// idle_notified_set.hpp), the core of join_set: entry wakers fired from task completions against
// the owner popping, removing and dropping.
//
// The spec is the header's rules: only a waker moves an entry idle -> notified, only the owner
// back; a waker of a removed entry does nothing; the waiter is taken by the waker that notifies
// and stored under the lock in which pop_notified found nothing, so no wake-up is lost; entries
// and the set are refcounted so that a waker firing after the owner is gone still finds the set.
// What the checks see: a lost wake-up (an entry sits in notified_ while the owner's last pop found
// nothing and its waiter was never woken), an entry popped twice, and any use after free, double
// free or leak of the entries, the set, or the wakers (Relacy allocates all of them).
#include "model.hpp"

#include <corio/runtime/detail/idle_notified_set.hpp>

namespace corio::model {
namespace {

using detail::idle_notified_set;
using detail::join_set_entry_base;

class entry final : public join_set_entry_base {
public:
    explicit entry(idle_notified_set* s) : join_set_entry_base(s) {}
    detail::atomic<int> popped{0};
};

// Owner (thread 0) against two completions: entry 0's waker fires by value (wake: notify, then
// drop the ref), entry 1's by reference and is then dropped. The owner pops what is notified,
// removing each entry it pops (join_next taking an outcome), and registers its waiter when it
// finds nothing; it polls up to twice, the second time with another waker.
struct notify_vs_pop : rl::test_suite<notify_vs_pop, 3> {
    idle_notified_set* set = nullptr;
    entry* e[2] = {};
    waker task_waker[2];  // each completing task's join waker: a clone of its entry's waker
    bool removed[2] = {};
    test_waker w1, w2;
    test_waker* last = nullptr;  // the waiter of the owner's last pop_notified, which found nothing

    void before() {
        set = new idle_notified_set;
        for (int i = 0; i < 2; ++i) {
            e[i] = new entry(set);
            set->insert_idle(e[i]);
            task_waker[i] = e[i]->as_waker_ref().clone();
        }
    }

    // join_next: takes every notified entry, until pop_notified finds none and registers `w`.
    int pop_round(test_waker& w) {
        int popped = 0;
        last = &w;
        while (join_set_entry_base* b = set->pop_notified(w.ref())) {
            auto* x = static_cast<entry*>(b);
            MODEL_REQUIRE(x->popped.fetch_add(1, std::memory_order_relaxed) == 0, "an entry was popped twice");
            set->remove(x);
            removed[x == e[1]] = true;
            x->release();  // the owner's ref
            ++popped;
        }
        return popped;
    }

    void thread(unsigned i) {
        if (i == 0) {
            if (pop_round(w1) == 0) pop_round(w2);
        } else if (i == 1) {
            std::move(task_waker[0]).wake();
        } else {
            task_waker[1].wake_by_ref();
            task_waker[1].reset();
        }
    }

    void after() {
        // A notified entry the owner's last pop did not see must have woken that pop's waiter.
        test_waker probe;
        join_set_entry_base* b = set->pop_notified(probe.ref());
        if (b) {
            cover("an entry was notified after the owner's last pop");
            MODEL_REQUIRE(last->woken() > 0, "lost wake-up: a notified entry did not wake join_next");
        }
        for (int i = 0; i < 2; ++i) {
            if (removed[i]) continue;
            set->remove(e[i]);
            e[i]->release();
        }
        set->clear_waiter();
        set->release();  // the join_set's ref; the last entry ref or this frees the set
    }
};

// The join_set goes away (removes its entries, drops its waiter and its ref on the set) while a
// task completes and fires its entry's waker: rule 2 (the waker of a removed entry does nothing)
// and the lifetime rule (the entry's ref keeps the set, and its mutex, alive for that waker).
struct drop_set_vs_wake : rl::test_suite<drop_set_vs_wake, 2> {
    idle_notified_set* set = nullptr;
    entry* e = nullptr;
    waker task_waker;
    test_waker w;

    void before() {
        set = new idle_notified_set;
        e = new entry(set);
        set->insert_idle(e);
        task_waker = e->as_waker_ref().clone();
    }

    void thread(unsigned i) {
        if (i == 0) {
            if (join_set_entry_base* b = set->pop_notified(w.ref())) {
                cover("the owner popped the entry before dropping the set");
                MODEL_REQUIRE(b == e, "a stranger entry");
            }
            set->remove(e);
            e->release();
            set->clear_waiter();
            set->release();
        } else {
            std::move(task_waker).wake();
        }
    }
};

const registrar r1 = scenario_of<notify_vs_pop>(
    "idle_notified_set", "notify_vs_pop", {search::random(1000000), search::bounded(2)});
const registrar r2 = scenario_of<drop_set_vs_wake>(
    "idle_notified_set", "drop_set_vs_wake", {search::random(500000), search::bounded(2)});

}  // namespace
}  // namespace corio::model
