// Model tests of detail::atomic_waker (runtime/include/corio/runtime/detail/atomic_waker.hpp).
//
// The spec: one registering side, any number of wakers. The registering side registers, then
// re-checks its condition; a wake that lands in between is either seen by the re-check or wakes
// the registered waker (no lost wake-up). waker_ belongs to whoever moved state_ out of waiting;
// each owner sees the previous owner's writes (token wakers make that visible to Relacy).
//
// Shape of every scenario: wakers publish an event (a release increment of `events`, as an mpsc
// send publishes a ready bit) and then wake. The registrant polls the way the mpsc receiver
// does: register, then check `events` with acquire. A poll that sees fewer events than will come
// is pending; if the registrant's last poll was pending, the waker it registered in that poll
// must have been woken by the end.
#include "model.hpp"

#include <corio/runtime/detail/atomic_waker.hpp>

namespace corio::model {
namespace {

using detail::atomic_waker;

// Registrant (thread 0) polls once with waker a, and, if pending, once more with waker b (a task
// that moved, or a select that re-polls with another waker: the slot's waker is replaced).
// Waker threads 1..wakers each publish one event and wake.
template <unsigned wakers>
struct register_vs_wake : rl::test_suite<register_vs_wake<wakers>, 1 + wakers> {
    atomic_waker aw;
    detail::atomic<int> events{0};
    test_waker a, b;
    bool last_pending = false;
    test_waker* last = nullptr;

    bool poll(test_waker& w) {
        aw.register_by_ref(w.ref());
        last = &w;
        last_pending = events.load(std::memory_order_acquire) < static_cast<int>(wakers);
        return !last_pending;
    }

    void thread(unsigned i) {
        if (i == 0) {
            if (!poll(a)) poll(b);
        } else {
            events.fetch_add(1, std::memory_order_release);
            aw.wake();
        }
    }

    void after() {
        if (last_pending) MODEL_REQUIRE(last->woken() > 0, "lost wake-up: the registered waker was never woken");
        aw.reset();  // teardown drops the stored waker (a leak otherwise)
    }
};

// take_waker() (the io reactor's form of wake): the waking thread gets the waker out and wakes
// it later; the registrant replaces it meanwhile.
struct take_then_wake : rl::test_suite<take_then_wake, 2> {
    atomic_waker aw;
    detail::atomic<int> events{0};
    test_waker a, b;
    bool last_pending = false;
    test_waker* last = nullptr;

    void thread(unsigned i) {
        if (i == 0) {
            for (test_waker* w : {&a, &b}) {
                aw.register_by_ref(w->ref());
                last = w;
                last_pending = events.load(std::memory_order_acquire) == 0;
                if (!last_pending) break;
            }
        } else {
            events.fetch_add(1, std::memory_order_release);
            waker w = aw.take_waker();
            std::move(w).wake();
        }
    }

    void after() {
        if (last_pending) MODEL_REQUIRE(last->woken() > 0, "lost wake-up: the registered waker was never woken");
        aw.reset();
    }
};

const registrar r1 = scenario_of<register_vs_wake<1>>(
    "atomic_waker", "register_vs_wake", {search::random(1000000), search::bounded(2)});
const registrar r2 = scenario_of<register_vs_wake<2>>(
    "atomic_waker", "register_vs_two_wakes", {search::random(1000000), search::bounded(2)});
const registrar r3 = scenario_of<take_then_wake>(
    "atomic_waker", "take_then_wake", {search::random(500000), search::bounded(2)});

}  // namespace
}  // namespace corio::model
