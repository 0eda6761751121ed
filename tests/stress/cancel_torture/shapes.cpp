// cancel_torture/shapes.cpp — race, first_of, timeout, join and try_join over fixed combinations
// of operations (their arguments cannot be switched off one by one as select's branches can).
// In each, the combinator is awaited in its own statement, select_returned is set right after it,
// and then its result is accounted for.
#include "cancel_torture/torture.hpp"

#include <corio/runtime/join.hpp>
#include <corio/runtime/select.hpp>

#include <variant>

namespace corio::torture {

namespace {
// What each variant needs enabled, as a kind mask.
constexpr std::uint32_t bit(unsigned k) { return std::uint32_t{1} << k; }
constexpr std::uint32_t race_needs[race_variants] = {bit(k_recv) | bit(k_operand),
                                                     bit(k_mutex) | bit(k_acquire) | bit(k_notified),
                                                     bit(k_broadcast) | bit(k_watch) | bit(k_oneshot),
                                                     bit(k_spawned) | bit(k_deadline),
                                                     bit(k_operand),
                                                     bit(k_urecv) | bit(k_io)};
constexpr std::uint32_t timeout_needs[timeout_variants] = {bit(k_recv),    bit(k_send),    bit(k_mutex),
                                                           bit(k_acquire_many), bit(k_operand), bit(k_oneshot),
                                                           bit(k_io),      bit(k_reserve), bit(k_read)};
constexpr std::uint32_t join_needs[join_variants] = {bit(k_operand), bit(k_mutex), bit(k_acquire) | bit(k_operand),
                                                     bit(k_operand) | bit(k_mutex), bit(k_read)};
constexpr std::uint32_t try_join_needs[try_join_variants] = {bit(k_operand), bit(k_operand)};

void count(world& w, unsigned k) { w.wins[k].fetch_add(1, std::memory_order_relaxed); }
}  // namespace

bool variant_allowed(const config& c, unsigned shape, unsigned variant) {
    std::uint32_t needs = 0;
    if (shape == s_race) needs = race_needs[variant];
    else if (shape == s_timeout) needs = timeout_needs[variant];
    else if (shape == s_join) needs = join_needs[variant];
    else if (shape == s_try_join) needs = try_join_needs[variant];
    return (c.kinds & needs) == needs;
}

task<void> race_shape(iteration* it) {
    world& w = *it->w;
    role& r = *it->r;
    borrowed& b = *it->b;
    const std::uint64_t seed = it->g->next();
    if (it->variant == 0) {
        // The operand may take a token from the operand channel: if it completes it wins, and it
        // accounted for the token itself.
        auto res = co_await corio::race(r.bounded.rx.recv(), borrower(&w, &r, &b, it->recipe, seed), corio::sleep(it->d));
        b.select_returned = true;
        if (res.index() == 0) {
            if (auto& v = std::get<0>(res)) w.receive(r, std::move(*v));
            count(w, k_recv);
        } else if (res.index() == 1) {
            if (std::get<1>(res) != borrower_value(it->recipe)) w.v_result.fetch_add(1);
            count(w, k_operand);
        }
    } else if (it->variant == 1) {
        auto res = co_await corio::race(w.mtx.lock(), w.sem.acquire(), w.note.notified(), corio::sleep(it->d));
        b.select_returned = true;
        if (res.index() == 0) {
            in_mutex inside(&w, &*std::get<0>(res));
            count(w, k_mutex);
        } else if (res.index() == 1) {
            if (!std::get<1>(res)) w.v_result.fetch_add(1);
            holding held(&w, 1);
            count(w, k_acquire);
        }
    } else if (it->variant == 2) {
        // r.orx as an lvalue awaitable: the caller's, it keeps its value if it loses.
        auto res = co_await corio::race(r.brx.recv(), r.wrx.changed(), r.orx, corio::sleep(it->d));
        b.select_returned = true;
        if (res.index() == 0) {
            w.on_broadcast(r, std::move(std::get<0>(res)));
            count(w, k_broadcast);
        } else if (res.index() == 1) {
            w.on_watch(r, std::move(std::get<1>(res)));
            count(w, k_watch);
        } else if (res.index() == 2) {
            r.oneshot_spent = true;
            if (auto& v = std::get<2>(res)) w.receive(r, std::move(*v));
            count(w, k_oneshot);
        }
    } else if (it->variant == 3) {
        auto res = co_await corio::race(spawn_operand(*it, true), *it->deadline);
        b.select_returned = true;
        if (res.index() == 0) {
            if (!std::get<0>(res) || *std::get<0>(res) != 7) w.v_result.fetch_add(1);
            count(w, k_spawned);
        } else {
            it->deadline->reset(time::now() + it->g->micros(4000) + std::chrono::microseconds(500));
            count(w, k_deadline);
        }
        if (it->probe->destroyed.load(std::memory_order_acquire) == 0) w.v_spawned_running.fetch_add(1);
    } else if (it->variant == 4) {
        // Two borrowing operands over the same state; at most one may take from the operand channel.
        const int second = static_cast<int>(it->g->below(4));
        const int v = co_await corio::first_of(borrower(&w, &r, &b, it->recipe, seed), borrower(&w, &r, &b, second, seed + 1));
        b.select_returned = true;
        if (v != borrower_value(it->recipe) && v != borrower_value(second)) w.v_result.fetch_add(1);
        count(w, k_operand);
    } else {
        std::span<std::byte> span(b.io_buf.data(), b.io_buf.size());
        auto res = co_await corio::race(r.urx.recv(), r.rd->read(span), corio::sleep(it->d));
        b.select_returned = true;
        if (res.index() == 0) {
            if (auto& v = std::get<0>(res)) w.receive_backlog(r, std::move(*v));
            count(w, k_urecv);
        } else if (res.index() == 1) {
            if (!r.io_eof) w.on_io(r, b, std::move(std::get<1>(res)));
            count(w, k_io);
        }
    }
}

task<void> timeout_shape(iteration* it) {
    world& w = *it->w;
    role& r = *it->r;
    borrowed& b = *it->b;
    const auto d = it->d;
    switch (it->variant) {
        case 0: {
            auto res = co_await corio::timeout(d, r.bounded.rx.recv());
            b.select_returned = true;
            if (res && *res) w.receive(r, std::move(**res));
            break;
        }
        case 1: {
            // A send that times out hands its value back in the elapsed error.
            if (!it->send_tx) break;
            tok t(&w.led, w.led.create());
            const std::uint64_t id = t.id();
            if (id == 0) break;
            auto res = co_await corio::timeout(d, it->send_tx->send(std::move(t)));
            b.select_returned = true;
            if (res) {
                w.on_send(id, std::move(*res));
            } else if (auto& v = res.error().value(); v && v->id() == id) {
                v->mark_handed_back();
            } else {
                w.v_unsent.fetch_add(1);
            }
            break;
        }
        case 2: {
            auto res = co_await corio::timeout(d, w.mtx.lock());
            b.select_returned = true;
            if (res) in_mutex inside(&w, &**res);
            break;
        }
        case 3: {
            auto res = co_await corio::timeout(d, w.sem.acquire_many(2));
            b.select_returned = true;
            if (res) {
                if (!*res) w.v_result.fetch_add(1);
                holding held(&w, 2);
            }
            break;
        }
        case 4: {
            auto res = co_await corio::timeout(d, borrower(&w, &r, &b, it->recipe, it->g->next()));
            b.select_returned = true;
            if (res && *res != borrower_value(it->recipe)) w.v_result.fetch_add(1);
            break;
        }
        case 5: {
            if (r.oneshot_spent) break;
            auto res = co_await corio::timeout(d, r.orx);
            b.select_returned = true;
            if (res) {
                r.oneshot_spent = true;
                if (*res) w.receive(r, std::move(**res));
            }
            break;
        }
        case 6: {
            if (r.io_eof) break;
            std::span<std::byte> span(b.io_buf.data(), 1 + it->g->below(static_cast<std::uint32_t>(b.io_buf.size())));
            auto res = co_await corio::timeout(d, r.rd->read(span));
            b.select_returned = true;
            if (res) w.on_io(r, b, std::move(*res));
            break;
        }
        case 7: {
            if (!it->reserve_tx) break;
            auto res = co_await corio::timeout(d, it->reserve_tx->reserve());
            b.select_returned = true;
            if (res) w.on_reserve(std::move(*res));
            break;
        }
        default: {
            auto res = co_await corio::timeout(d, w.rw.read());
            b.select_returned = true;
            if (res) in_read inside(&w);
            break;
        }
    }
}

// join and try_join hold completed results until the others complete, so their operands take no
// tokens (an aborted join would lose them) and hold at most one resource between them.
task<void> join_shape(iteration* it) {
    world& w = *it->w;
    role& r = *it->r;
    borrowed& b = *it->b;
    const int bounded_recipe_nr = static_cast<int>(it->g->below(2)) == 0 ? 0 : 3;  // takes no resource
    const std::uint64_t seed = it->g->next();
    if (it->variant == 0) {
        auto res = co_await corio::join(corio::sleep(it->d), borrower(&w, &r, &b, bounded_recipe_nr, seed));
        b.select_returned = true;
        if (std::get<1>(res) != borrower_value(bounded_recipe_nr)) w.v_result.fetch_add(1);
    } else if (it->variant == 1) {
        auto res = co_await corio::join(w.mtx.lock(), corio::sleep(it->d));
        b.select_returned = true;
        in_mutex inside(&w, &*std::get<0>(res));
    } else if (it->variant == 2) {
        auto res = co_await corio::join(w.sem.acquire(), borrower(&w, &r, &b, bounded_recipe_nr, seed));
        b.select_returned = true;
        if (!std::get<0>(res)) w.v_result.fetch_add(1);
        holding held(&w, 1);
    } else if (it->variant == 3) {
        auto res = co_await corio::join(borrower(&w, &r, &b, 1, seed), borrower(&w, &r, &b, bounded_recipe_nr, seed + 1));
        b.select_returned = true;
        if (std::get<0>(res) != borrower_value(1) || std::get<1>(res) != borrower_value(bounded_recipe_nr)) w.v_result.fetch_add(1);
    } else {
        auto res = co_await corio::join(w.rw.read(), corio::sleep(it->d));
        b.select_returned = true;
        in_read inside(&w);
    }
}

// One operand fails (nullopt) after a short sleep, or not; the other is a borrowing operand that
// is still suspended when the failure ends the try_join early, and must be destroyed with it.
task<void> try_join_shape(iteration* it) {
    world& w = *it->w;
    role& r = *it->r;
    borrowed& b = *it->b;
    int recipe = it->recipe;
    if (!bounded_recipe(recipe)) recipe = 0;
    const bool fail = it->g->percent(70);
    const std::uint64_t seed = it->g->next();
    std::optional<std::tuple<int, int>> res;
    if (it->variant == 0) res = co_await corio::try_join(borrower_opt(&w, &r, &b, recipe, seed), failer(&w, &b, it->d, fail));
    else res = co_await corio::try_join(failer(&w, &b, it->d, fail), borrower_opt(&w, &r, &b, recipe, seed));
    b.select_returned = true;
    if (res.has_value() == fail) w.v_result.fetch_add(1);
}

}  // namespace corio::torture
