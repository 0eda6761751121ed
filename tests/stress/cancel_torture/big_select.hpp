// cancel_torture/big_select.hpp — one select over every operation kind, each branch enabled or not
// per iteration (if_), instantiated fair and biased, with plain handlers or with coroutine handlers
// that wait for what a losing branch was queued for (select_plain.cpp, select_coro.cpp: two
// translation units, so that the two halves compile in parallel).
#pragma once

#include "cancel_torture/torture.hpp"

#include <corio/runtime/select.hpp>

#include <type_traits>

namespace corio::torture {

// Every handler of the big select: the plain handler, then (with k_private) the check that no
// losing branch holds the role's private resources, then, for a coroutine handler, the relock
// task (which does nothing for relock_none). Holds pointers only, so it may be passed as a
// temporary (g++ 12).
template <class H, bool Coro>
struct wrapped {
    H* h;
    iteration* it;
    template <class... V>
        requires std::is_invocable_v<H&, V&&...>
    auto operator()(V&&... v) const {
        (*h)(std::forward<V>(v)...);
        if (it->on(k_private)) check_private(it->w, it->r);
        if constexpr (Coro) return relock(it->w, it->relock, it->reserve_tx);
    }
};

template <bool Coro, class H>
wrapped<H, Coro> handler(H& h, iteration* it) {
    return {&h, it};
}

// select or select_biased; a prvalue either way (the operation is pinned, elision applies).
template <bool Biased, class... A>
auto select_of(A&&... a) {
    if constexpr (Biased) return corio::select_biased(std::forward<A>(a)...);
    else return corio::select(std::forward<A>(a)...);
}

template <bool Biased, bool Coro>
task<void> big_select(iteration* it) {
    world& w = *it->w;
    role& r = *it->r;
    borrowed& b = *it->b;
    unsigned winner = kind_count;

    // The send's token exists only if the branch is enabled; a disabled or losing send hands it
    // back through unsent_into like a losing one.
    tok send_tok;
    if (it->on(k_send)) send_tok = tok(&w.led, w.led.create());
    const std::uint64_t send_id = send_tok.id();
    const bool send_on = it->on(k_send) && send_id != 0 && it->send_tx;
    mpsc::sender<tok>& stx = send_on ? *it->send_tx : w.dummy_tx;
    const bool reserve_on = it->on(k_reserve) && it->reserve_tx;
    mpsc::sender<tok>& rtx = reserve_on ? *it->reserve_tx : w.dummy_tx;
    std::optional<tok> back;
    std::span<std::byte> io_span(b.io_buf.data(), 1 + it->g->below(static_cast<std::uint32_t>(b.io_buf.size())));
    const int recipe = it->recipe;
    const std::uint64_t operand_seed = it->g->next();

    auto h_send = [&](result<void, send_error<tok>> res) {
        winner = k_send;
        w.on_send(send_id, std::move(res));
    };
    auto h_reserve = [&](result<mpsc::permit<tok>, mpsc::reserve_error> res) {
        winner = k_reserve;
        w.on_reserve(std::move(res));
    };
    auto h_recv = [&](tok t) {
        winner = k_recv;
        w.receive(r, std::move(t));
    };
    auto h_urecv = [&](tok t) {
        winner = k_urecv;
        w.receive_backlog(r, std::move(t));
    };
    auto h_oneshot = [&](result<tok, oneshot::recv_error> res) {
        winner = k_oneshot;
        r.oneshot_spent = true;
        if (res) w.receive(r, std::move(*res));
    };
    auto h_broadcast = [&](result<std::uint64_t, broadcast::recv_error> res) {
        winner = k_broadcast;
        w.on_broadcast(r, std::move(res));
    };
    auto h_watch = [&](result<void, watch::recv_error> res) {
        winner = k_watch;
        w.on_watch(r, std::move(res));
    };
    auto h_mutex = [&](sync::mutex_guard<int> g) {
        winner = k_mutex;
        in_mutex inside(&w, &*g);
    };
    auto h_read = [&](sync::rw_lock_read_guard<int>) {
        winner = k_read;
        in_read inside(&w);
    };
    auto h_write = [&](sync::rw_lock_write_guard<int>) {
        winner = k_write;
        in_write inside(&w);
    };
    auto h_acquire = [&](result<sync::semaphore_permit, sync::acquire_error> res) {
        winner = k_acquire;
        if (!res) w.v_result.fetch_add(1);
        holding held(&w, 1);
    };
    auto h_acquire_many = [&](result<sync::semaphore_permit, sync::acquire_error> res) {
        winner = k_acquire_many;
        if (!res) w.v_result.fetch_add(1);
        holding held(&w, 2);
    };
    auto h_notified = [&] { winner = k_notified; };
    auto h_sleep = [&] { winner = k_sleep; };
    auto h_deadline = [&] {
        winner = k_deadline;
        it->deadline->reset(time::now() + it->g->micros(4000) + std::chrono::microseconds(500));
    };
    auto h_io = [&](result<std::size_t, std::error_code> res) {
        winner = k_io;
        w.on_io(r, b, std::move(res));
    };
    auto h_operand = [&](int v) {
        winner = k_operand;
        if (v != borrower_value(recipe)) w.v_result.fetch_add(1);
    };
    auto h_spawned = [&](result<int, join_error> res) {
        winner = k_spawned;
        if (!res || *res != 7) w.v_result.fetch_add(1);
    };
    auto h_otherwise = [&] { winner = kind_count; };
    // The role's private resources: the holder operand takes them all; the pinned branches queue
    // for them. A private branch's handler lets its own resource go before the check.
    auto h_holder = [&](int v) {
        winner = k_private;
        if (v != 1) w.v_result.fetch_add(1);
    };
    auto h_private_lock = [&](sync::mutex_guard<int>) { winner = k_private; };
    auto h_private_acquire = [&](result<sync::semaphore_permit, sync::acquire_error>) { winner = k_private; };
    auto h_private_reserve = [&](result<mpsc::permit<tok>, mpsc::reserve_error>) { winner = k_private; };
    const bool private_on = it->on(k_private);

    co_await select_of<Biased>(
        corio::branch(stx.send(std::move(send_tok)), handler<Coro>(h_send, it)).unsent_into(back).if_(send_on),
        corio::branch(rtx.reserve(), handler<Coro>(h_reserve, it)).if_(reserve_on),
        corio::branch(r.bounded.rx.recv()).when_some(handler<Coro>(h_recv, it)).if_(it->on(k_recv)),
        corio::branch(r.urx.recv()).when_some(handler<Coro>(h_urecv, it)).if_(it->on(k_urecv)),
        corio::branch(r.orx.recv(), handler<Coro>(h_oneshot, it)).if_(it->on(k_oneshot) && !r.oneshot_spent),
        corio::branch(r.brx.recv(), handler<Coro>(h_broadcast, it)).if_(it->on(k_broadcast) && !r.b_closed),
        corio::branch(r.wrx.changed(), handler<Coro>(h_watch, it)).if_(it->on(k_watch)),
        corio::branch(w.mtx.lock(), handler<Coro>(h_mutex, it)).if_(it->on(k_mutex)),
        corio::branch(w.rw.read(), handler<Coro>(h_read, it)).if_(it->on(k_read)),
        corio::branch(w.rw.write(), handler<Coro>(h_write, it)).if_(it->on(k_write)),
        corio::branch(w.sem.acquire(), handler<Coro>(h_acquire, it)).if_(it->on(k_acquire)),
        corio::branch(w.sem.acquire_many(2), handler<Coro>(h_acquire_many, it)).if_(it->on(k_acquire_many)),
        corio::branch(w.note.notified(), handler<Coro>(h_notified, it)).if_(it->on(k_notified)),
        corio::branch(corio::sleep(it->d), handler<Coro>(h_sleep, it)).if_(it->on(k_sleep)),
        corio::branch(*it->deadline, handler<Coro>(h_deadline, it)).if_(it->on(k_deadline)),
        corio::branch(r.rd->read(io_span), handler<Coro>(h_io, it)).if_(it->on(k_io) && !r.io_eof),
        corio::branch(borrower(&w, &r, &b, recipe, operand_seed), handler<Coro>(h_operand, it)).if_(it->on(k_operand)),
        corio::branch(spawn_operand(*it, it->on(k_spawned)), handler<Coro>(h_spawned, it)).if_(it->on(k_spawned)),
        corio::branch(private_holder(&w, &r, &b, it->d), handler<Coro>(h_holder, it)).if_(private_on),
        corio::branch(r.pm.lock(), handler<Coro>(h_private_lock, it)).if_(private_on),
        corio::branch(r.ps.acquire(), handler<Coro>(h_private_acquire, it)).if_(private_on),
        corio::branch(r.pc_tx.reserve(), handler<Coro>(h_private_reserve, it)).if_(private_on),
        corio::otherwise(handler<Coro>(h_otherwise, it)));

    b.select_returned = true;
    if (winner < kind_count) w.wins[winner].fetch_add(1, std::memory_order_relaxed);
    // Exactly one of: the send won (its result accounted for the token), or its value is back.
    if (send_on && ((winner == k_send) == back.has_value() || (back && back->id() != send_id))) w.v_unsent.fetch_add(1);
    if (back) back->mark_handed_back();
    if (it->on(k_spawned) && it->probe->destroyed.load(std::memory_order_acquire) == 0) w.v_spawned_running.fetch_add(1);
}

}  // namespace corio::torture
