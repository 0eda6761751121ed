// cancel_torture/operands.cpp — the coroutine operands (task<T> that borrow the iteration's state,
// spawned tasks) and the coroutine handlers that wait for what a losing branch was queued for.
#include "cancel_torture/torture.hpp"

#include <corio/runtime/select.hpp>
#include <corio/runtime/yield_now.hpp>

namespace corio::torture {

using namespace std::chrono_literals;

namespace {

// Counts the frames of borrowing operands in their borrowed state: a parameter, moved into the
// frame when the task is created and destroyed with the frame (started or not), so `frames` must
// be back to 0 when the combinator that owned the operand has returned. Move-only.
class frame_ticket {
public:
    explicit frame_ticket(borrowed* b) noexcept : b_(b) { b_->frames.fetch_add(1, std::memory_order_relaxed); }
    frame_ticket(frame_ticket&& o) noexcept : b_(std::exchange(o.b_, nullptr)) {}
    frame_ticket& operator=(frame_ticket&&) = delete;
    ~frame_ticket() {
        if (b_) b_->frames.fetch_sub(1, std::memory_order_acq_rel);
    }

private:
    borrowed* b_;
};

// A borrowing operand: every step touches the caller's `borrowed` state, which must still be
// alive and not yet marked returned. Each recipe waits on different leaves; those that take a
// resource hold it only across sleeps and yields (never while waiting for another resource, so
// no two tasks can wait for each other).
task<int> borrower_body([[maybe_unused]] frame_ticket ticket, world* w, role* r, borrowed* b, int recipe, std::uint64_t seed) {
    rng g{seed | 1};
    w->operand_runs.fetch_add(1, std::memory_order_relaxed);
    w->touch(b);
    if (recipe == 0) {
        co_await corio::sleep(g.micros(2000));
        w->touch(b);
        co_await corio::yield_now();
    } else if (recipe == 1) {
        auto guard = co_await w->mtx.lock();
        in_mutex inside(w, &*guard);
        w->touch(b);
        co_await corio::sleep(g.micros(1000));
    } else if (recipe == 2) {
        auto permit = co_await w->sem.acquire();
        if (!permit) w->v_result.fetch_add(1);
        holding held(w, 1);
        w->touch(b);
        co_await corio::yield_now();
    } else if (recipe == 3) {
        const auto d = g.micros(1500);
        co_await corio::select(corio::sleep(d), w->note.notified());
    } else if (recipe == 4) {
        // Takes a token and completes in the same run: the token is accounted for before the
        // operand can lose (a completed operand is a ready branch).
        auto v = co_await r->oprx.recv();
        w->touch(b);
        if (v) w->receive_backlog(*r, std::move(*v));
    } else {
        const int inner = co_await borrower(w, r, b, static_cast<int>(g.below(4)), g.next());
        if (inner < borrower_value(0)) w->v_result.fetch_add(1);
    }
    w->touch(b);
    co_return borrower_value(recipe);
}

}  // namespace

task<int> borrower(world* w, role* r, borrowed* b, int recipe, std::uint64_t seed) {
    frame_ticket ticket(b);
    return borrower_body(std::move(ticket), w, r, b, recipe, seed);
}

namespace {
task<int> private_holder_body([[maybe_unused]] frame_ticket ticket, world* w, role* r, borrowed* b, std::chrono::microseconds d) {
    auto guard = co_await r->pm.lock();
    auto permit = co_await r->ps.acquire();
    auto slot = co_await r->pc_tx.reserve();
    w->touch(b);
    co_await corio::sleep(d);
    w->touch(b);
    co_return 1;
}
}  // namespace

task<int> private_holder(world* w, role* r, borrowed* b, std::chrono::microseconds d) {
    frame_ticket ticket(b);
    return private_holder_body(std::move(ticket), w, r, b, d);
}

void check_private(world* w, role* r) {
    auto guard = r->pm.try_lock();
    auto permit = r->ps.try_acquire();
    auto slot = r->pc_tx.try_reserve();
    if (!guard || !permit || !slot) w->v_loser_held.fetch_add(1);
}

task<std::optional<int>> borrower_opt(world* w, role* r, borrowed* b, int recipe, std::uint64_t seed) {
    const int v = co_await borrower(w, r, b, recipe, seed);
    co_return v;
}

task<std::optional<int>> failer(world* w, borrowed* b, std::chrono::microseconds d, bool fail) {
    w->touch(b);
    co_await corio::sleep(d);
    w->touch(b);
    if (fail) co_return std::nullopt;
    co_return 1;
}

namespace {

// Marks its probe when the frame that holds it (as a parameter) is destroyed.
class probe_mark {
public:
    explicit probe_mark(std::shared_ptr<spawn_probe> p) noexcept : p_(std::move(p)) {}
    probe_mark(probe_mark&& o) noexcept = default;
    ~probe_mark() {
        if (p_) p_->destroyed.fetch_add(1, std::memory_order_acq_rel);
    }

private:
    std::shared_ptr<spawn_probe> p_;
};

// A spawned operand: a real task of its own (not inline), which a losing select must abort and
// wait for. It does not borrow the iteration's state: it may legitimately outlive nothing but its
// select, and the probe says whether it did.
task<int> spawned_body([[maybe_unused]] probe_mark mark, std::uint64_t seed) {
    rng g{seed | 1};
    for (int i = 0, n = static_cast<int>(g.below(4)); i < n; ++i) {
        if (g.percent(50)) co_await corio::yield_now();
        else co_await corio::sleep(g.micros(1500));
    }
    co_return 7;
}

}  // namespace

join_handle<int> spawn_operand(const iteration& it, bool enabled) {
    if (!enabled) return {};
    probe_mark mark(it.probe);
    return corio::spawn(spawned_body(std::move(mark), it.g->next()));
}

// The handler of a winning branch, as a coroutine: it waits for the resource that a losing
// pinned branch of the same select was queued for. Those branches must be gone by now, or this
// waits for a dead branch (forever, for the mutex / rw_lock / semaphore: the watchdog reports it).
task<void> relock(world* w, int kind, mpsc::sender<tok>* tx) {
    if (kind == relock_mutex) {
        auto guard = co_await w->mtx.lock();
        in_mutex inside(w, &*guard);
        co_await corio::yield_now();
    } else if (kind == relock_write) {
        auto guard = co_await w->rw.write();
        in_write inside(w);
        co_await corio::yield_now();
    } else if (kind == relock_all_permits) {
        auto permit = co_await w->sem.acquire_many(world::permits);
        if (!permit) w->v_result.fetch_add(1);
        holding held(w, static_cast<int>(world::permits));
        co_await corio::yield_now();
    } else if (kind == relock_send && tx) {
        // The channel's capacity may be what a losing reserve() waited for. Its receiver may be
        // slow (or this very task), so the send is bounded; the value comes back if it loses.
        tok t(&w->led, w->led.create());
        const std::uint64_t id = t.id();
        if (id == 0) co_return;
        std::optional<tok> back;
        bool sent = false;
        co_await corio::select(corio::branch(tx->send(std::move(t)),
                                             [&](result<void, send_error<tok>> res) {
                                                 sent = true;
                                                 w->on_send(id, std::move(res));
                                             })
                                   .unsent_into(back),
                               corio::branch(corio::sleep(2ms), [] {}));
        // Exactly one of: the send won (sent, or its error carried the value back), or it lost
        // and unsent_into holds the value.
        if (sent == back.has_value() || (back && back->id() != id)) w->v_unsent.fetch_add(1);
        if (back) back->mark_handed_back();
    } else {
        co_return;
    }
    w->relocks.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace corio::torture
