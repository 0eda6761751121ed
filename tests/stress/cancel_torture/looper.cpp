// cancel_torture/looper.cpp — the tasks: loopers (one per role) and what races them (the producer,
// the socket writer, the channel recycling the loopers do between iterations, the supervisor that
// aborts whole loopers), and the final drain that settles every account.
#include "cancel_torture/torture.hpp"

#include <corio/runtime/yield_now.hpp>

namespace corio::torture {

using namespace std::chrono_literals;

namespace {

// This looper's sender to role j's bounded channel, cloned again when the owner replaced or
// retired the channel. Null when the channel is retired.
mpsc::sender<tok>* sender_to(world& w, std::vector<cached_sender>& cache, std::size_t j) {
    bounded_slot& slot = w.roles[j]->bounded;
    cached_sender& c = cache[j];
    if (c.generation != slot.generation.load(std::memory_order_acquire)) {
        std::lock_guard lock(slot.m);
        c.tx = slot.tx;
        c.generation = slot.generation.load(std::memory_order_relaxed);
    }
    return c.tx ? &c.tx : nullptr;
}

// A new bounded channel for the owner (its old receiver was closed and drained, or every sender
// of it is gone and it was drained).
void install_bounded(world& w, role& r) {
    auto [tx, rx] = mpsc::channel<tok>(r.bounded.capacity);
    {
        std::lock_guard lock(r.bounded.m);
        r.bounded.tx = std::move(tx);
        r.bounded.generation.fetch_add(1, std::memory_order_release);
    }
    r.bounded.rx = std::move(rx);
    r.retiring = false;
    w.recycles.fetch_add(1, std::memory_order_relaxed);
}

void drain_now(world& w, role& r, mpsc::receiver<tok>& rx, bool backlog) {
    for (;;) {
        auto v = rx.try_recv();
        if (!v) break;
        if (backlog) w.receive_backlog(r, std::move(*v));
        else w.receive(r, std::move(*v));
    }
}

// Receiver-side close: pending and later sends fail and hand their values back; what was queued
// is received. Resumed by the next looper of the role if this one is aborted meanwhile.
task<void> recycle(world* w, role* r) {
    r->recycling = true;
    r->phase = phase_recycle;
    r->bounded.rx.close();
    for (;;) {
        auto v = co_await r->bounded.rx.recv();
        if (!v) break;
        w->receive(*r, std::move(*v));
    }
    install_bounded(*w, *r);
    r->recycling = false;
}

// Between iterations: channel recycling (receiver-side close, or dropping every sender), dropped
// and re-cloned senders, a fresh oneshot pair once the last one is spent, and oneshot closes.
task<void> maintain(world* w, role* r, rng* g, std::vector<cached_sender>* cache) {
    if (r->recycling || (!r->retiring && g->below(300) == 0)) co_await recycle(w, r);
    if (r->retiring && r->bounded.rx.is_closed()) {
        drain_now(*w, *r, r->bounded.rx, false);
        install_bounded(*w, *r);
    } else if (!r->retiring && g->below(300) == 0) {
        // Sender-side end: the receive branch sees nullopt once the last clone is dropped (each
        // looper drops its clone when it sees the new generation).
        std::lock_guard lock(r->bounded.m);
        r->bounded.tx = {};
        r->bounded.generation.fetch_add(1, std::memory_order_release);
        r->retiring = true;
        w->retires.fetch_add(1, std::memory_order_relaxed);
    }
    if (g->percent(3)) (*cache)[g->below(static_cast<std::uint32_t>(cache->size()))] = cached_sender{};
    for (std::size_t j = 0; j < cache->size(); ++j) sender_to(*w, *cache, j);
    if (r->oneshot_spent) {
        auto [otx, orx] = oneshot::channel<tok>();
        r->orx = std::move(orx);
        r->oneshot_spent = false;
        std::lock_guard lock(w->outbox_m);
        w->outbox.push_back(std::move(otx));
    } else if (g->below(60) == 0) {
        r->orx.close();  // races the producer's send: it fails and hands the value back, or it was first
        w->oneshot_closes.fetch_add(1, std::memory_order_relaxed);
    }
}

unsigned pick_shape(const config& c, rng& g) {
    static constexpr unsigned weights[shape_count] = {24, 14, 14, 8, 14, 14, 7, 5};
    unsigned total = 0;
    for (unsigned w : weights) total += w;
    unsigned x = g.below(total), s = 0;
    while (x >= weights[s]) x -= weights[s++];
    if (!c.on(k_relock) && (s == s_select_coro || s == s_biased_coro)) s -= 2;
    return s;
}

// 2 to 5 kinds; if none of them is sure to complete, a fresh sleep joins them.
std::uint32_t pick_kinds(const config& c, rng& g) {
    std::uint32_t kinds = 0;
    const unsigned n = 2 + g.below(4);
    for (unsigned tries = 0; tries < 64 && static_cast<unsigned>(__builtin_popcount(kinds)) < n; ++tries) {
        const unsigned k = g.below(k_relock);
        if (c.on(k)) kinds |= 1u << k;
    }
    // A select whose spawned operand lost waits for that task to finish before it returns; if the
    // looper is aborted meanwhile, the winner's result dies with the select (docs/select.md, "The
    // limit"). So such a select has no branch whose result must not be lost: no token, broadcast
    // value, watch change, socket bytes or send outcome (a lock or permit is simply given back).
    constexpr std::uint32_t lossy = (1u << k_send) | (1u << k_recv) | (1u << k_urecv) | (1u << k_oneshot) |
                                    (1u << k_broadcast) | (1u << k_watch) | (1u << k_io);
    if (kinds & (1u << k_spawned)) kinds &= ~lossy;
    constexpr std::uint32_t progress = (1u << k_sleep) | (1u << k_deadline) | (1u << k_mutex) | (1u << k_read) |
                                       (1u << k_write) | (1u << k_acquire) | (1u << k_acquire_many) | (1u << k_spawned) |
                                       (1u << k_private);
    if ((kinds & progress) == 0) kinds |= 1u << k_sleep;
    return kinds;
}

// A coroutine handler waits, most of the time, for what a losing branch of its select may be
// queued for.
int pick_relock(const iteration& it) {
    if (it.g->percent(30)) return static_cast<int>(it.g->below(5));
    if (it.on(k_mutex)) return relock_mutex;
    if (it.on(k_read) || it.on(k_write)) return relock_write;
    if (it.on(k_acquire) || it.on(k_acquire_many)) return relock_all_permits;
    if (it.on(k_reserve)) return relock_send;
    return static_cast<int>(it.g->below(5));
}

task<void> looper(world* w, role* r) {
    r->incarnations.fetch_add(1, std::memory_order_relaxed);
    rng g{r->rng_state};
    const config& c = w->cfg;
    std::vector<cached_sender> cache(w->roles.size());
    auto deadline = corio::sleep(2ms);  // one deadline over many iterations (Tokio's `&mut sleep`)
    while (r->done.load(std::memory_order_relaxed) < c.iterations) {
        r->phase = phase_start;
        co_await maintain(w, r, &g, &cache);

        auto b = std::make_unique<borrowed>();
        iteration it;
        it.w = w;
        it.r = r;
        it.g = &g;
        it.b = b.get();
        it.deadline = &deadline;
        const unsigned shape = pick_shape(c, g);
        it.kinds = pick_kinds(c, g);
        it.d = g.micros(2000);
        it.recipe = static_cast<int>(g.below(recipes));
        it.send_tx = sender_to(*w, cache, g.below(static_cast<std::uint32_t>(cache.size())));
        it.reserve_tx = sender_to(*w, cache, g.below(static_cast<std::uint32_t>(cache.size())));
        if (shape == s_select_coro || shape == s_biased_coro) it.relock = pick_relock(it);
        if (c.on(k_spawned)) it.probe = std::make_shared<spawn_probe>();
        unsigned variants = 0;
        if (shape == s_race) variants = race_variants;
        else if (shape == s_timeout) variants = timeout_variants;
        else if (shape == s_join) variants = join_variants;
        else if (shape == s_try_join) variants = try_join_variants;
        unsigned run_shape = shape;
        if (variants) {
            it.variant = g.below(variants);
            if (!variant_allowed(c, shape, it.variant)) run_shape = s_select;
        }

        r->last_shape = run_shape;
        r->last_kinds = variants ? it.variant : it.kinds;
        r->phase = phase_combinator;
        if (run_shape == s_select) co_await big_select<false, false>(&it);
        else if (run_shape == s_biased) co_await big_select<true, false>(&it);
        else if (run_shape == s_select_coro) co_await big_select<false, true>(&it);
        else if (run_shape == s_biased_coro) co_await big_select<true, true>(&it);
        else if (run_shape == s_race) co_await race_shape(&it);
        else if (run_shape == s_timeout) co_await timeout_shape(&it);
        else if (run_shape == s_join) co_await join_shape(&it);
        else co_await try_join_shape(&it);
        r->phase = phase_after;
        w->shapes[run_shape].fetch_add(1, std::memory_order_relaxed);
        if (b->frames.load(std::memory_order_acquire) != 0) w->v_frames_alive.fetch_add(1);

        // Anything that wrongly outlived its combinator gets a chance to run while the borrowed
        // state is alive (it counts in v_ran_after_return), then the state dies (a later touch
        // reads a dead canary, or AddressSanitizer reports it).
        if (g.percent(20)) co_await corio::yield_now();
        b->canary = 0;
        b.reset();
        r->rng_state = g.s;
        r->done.fetch_add(1, std::memory_order_relaxed);
    }
    r->phase = phase_done;
}

task<void> producer(world* w, std::uint64_t seed) {
    rng g{seed | 1};
    const auto roles = static_cast<std::uint32_t>(w->roles.size());
    while (!w->loopers_done.load(std::memory_order_acquire)) {
        for (unsigned n = 1 + g.below(8); n > 0; --n) {
            role& r = *w->roles[g.below(roles)];
            const unsigned what = g.below(10);
            if (what < 4) {
                // Unbounded sends: to the role's loopers (urx) or to its operands (oprx).
                if (r.backlog.load(std::memory_order_relaxed) >= 32) continue;
                tok t(&w->led, w->led.create());
                const std::uint64_t id = t.id();
                if (id == 0) continue;
                r.backlog.fetch_add(1, std::memory_order_relaxed);
                auto res = what < 3 ? r.utx.send(std::move(t)) : r.optx.send(std::move(t));
                if (res) {
                    w->led.sent(id);
                } else {
                    r.backlog.fetch_sub(1, std::memory_order_relaxed);
                    res.error().value.mark_handed_back();
                }
            } else if (what < 6) {
                oneshot::sender<tok> otx;
                {
                    std::lock_guard lock(w->outbox_m);
                    if (w->outbox.empty()) continue;
                    const std::size_t i = g.below(static_cast<std::uint32_t>(w->outbox.size()));
                    otx = std::move(w->outbox[i]);
                    w->outbox.erase(w->outbox.begin() + static_cast<std::ptrdiff_t>(i));
                }
                if (g.percent(10)) continue;  // dropped without sending: the receiver sees closed
                tok t(&w->led, w->led.create());
                const std::uint64_t id = t.id();
                auto res = otx.send(std::move(t));
                if (res) w->led.sent(id);
                else res.error().value.mark_handed_back();  // closed by its receiver first
            } else if (what < 7) {
                if (!w->btx.send(++w->b_sent)) w->v_result.fetch_add(1);
            } else if (what < 8) {
                if (!w->wtx.send(++w->w_sent)) w->v_result.fetch_add(1);
            } else if (what < 9) {
                w->note.notify_one();
            } else {
                w->note.notify_waiters();
            }
        }
        co_await corio::sleep(g.micros(800));
    }
    std::lock_guard lock(w->outbox_m);
    w->outbox.clear();  // the receivers left see closed
}

// Trickles each role's byte stream (byte i of role r is (i * 31 + r) & 0xff) until the loopers are
// done, then shuts the sockets down. A write never waits, so nothing needs to cancel one (writes
// are not cancel safe): at most `unread_limit` bytes are unread at a time, in at most as many
// small writes, whose kernel buffers fit in a socket's send buffer many times over.
task<void> writer(world* w, std::uint64_t seed) {
    rng g{seed | 1};
    constexpr std::uint64_t unread_limit = 96;
    std::array<std::byte, 16> buf{};
    while (!w->loopers_done.load(std::memory_order_acquire)) {
        for (auto& rp : w->roles) {
            role& r = *rp;
            const std::uint64_t pos = r.io_written.load(std::memory_order_relaxed);
            if (pos - r.io_read.load(std::memory_order_acquire) > unread_limit) continue;
            const std::size_t n = std::min<std::size_t>(1 + g.below(16), w->cfg.io_bytes - std::min<std::size_t>(pos, w->cfg.io_bytes));
            if (n == 0) continue;
            for (std::size_t k = 0; k < n; ++k) buf[k] = static_cast<std::byte>(((pos + k) * 31 + static_cast<std::uint64_t>(r.index)) & 0xff);
            auto res = co_await r.wr->write_all(std::span<const std::byte>(buf.data(), n));
            if (!res) w->v_io.fetch_add(1);
            r.io_written.store(pos + n, std::memory_order_relaxed);
        }
        co_await corio::sleep(g.micros(1000));
    }
    for (auto& rp : w->roles)
        if (!rp->wr->shutdown()) w->v_io.fetch_add(1);
}

// Aborts whole loopers at random and replaces each once it has finished (so that two loopers of
// one role never overlap), until every role has done its iterations.
task<void> supervisor(world* w, std::uint64_t seed) {
    rng g{seed | 1};
    const auto roles = static_cast<std::uint32_t>(w->roles.size());
    std::vector<join_handle<void>> loopers;
    std::vector<bool> awaited(roles, false);  // a handle is awaited once
    for (auto& rp : w->roles) loopers.push_back(corio::spawn(looper(w, rp.get())));
    for (;;) {
        bool running = false;
        for (auto& h : loopers) running = running || !h.is_finished();
        if (!running) break;
        const auto mean = w->cfg.abort_every.count();
        co_await corio::sleep(std::chrono::microseconds(mean / 2 + g.below(static_cast<std::uint32_t>(mean) + 1)));
        const std::uint32_t i = g.below(roles);
        if (loopers[i].is_finished()) continue;
        loopers[i].abort();
        auto res = co_await loopers[i];
        if (!res && !res.error().is_cancelled()) w->v_result.fetch_add(1);  // the looper threw
        if (!res) w->aborts.fetch_add(1, std::memory_order_relaxed);
        if (w->roles[i]->done.load() < w->cfg.iterations) loopers[i] = corio::spawn(looper(w, w->roles[i].get()));
        else awaited[i] = true;
    }
    for (std::uint32_t i = 0; i < roles; ++i) {
        if (awaited[i]) continue;
        auto res = co_await loopers[i];
        if (!res) w->v_result.fetch_add(1);
    }
}

// Every task is done: receive what is still queued, and settle the accounts that can only be
// settled at the end.
task<void> drain(world* w) {
    for (auto& rp : w->roles) {
        role& r = *rp;
        w->stage = stage_drain_channels;
        drain_now(*w, r, r.bounded.rx, false);
        drain_now(*w, r, r.urx, true);
        drain_now(*w, r, r.oprx, true);
        if (auto v = r.orx.try_recv()) w->receive(r, std::move(*v));
        // Every permit of the bounded channel came back (a losing reserve or send kept none).
        {
            std::lock_guard lock(r.bounded.m);
            if (r.bounded.tx && !r.recycling && r.bounded.tx.capacity() != r.bounded.capacity) w->v_capacity.fetch_add(1);
        }
        // Watch: a change that this receiver never saw is still unseen (a losing changed()
        // marked nothing seen), and the latest value is the last one sent.
        if (r.w_last < w->w_sent) {
            auto changed = r.wrx.has_changed();
            if (!changed || !*changed) w->v_watch.fetch_add(1);
        }
        if (*r.wrx.borrow() != w->w_sent) w->v_watch.fetch_add(1);
        // The socket: the rest of the stream, to EOF.
        w->stage = stage_drain_socket;
        borrowed tail;
        while (!r.io_eof) {
            auto res = co_await corio::timeout(5s, r.rd->read(std::span<std::byte>(tail.io_buf)));
            if (!res) {
                w->v_io.fetch_add(1);
                break;
            }
            w->on_io(r, tail, std::move(*res));
        }
        if (r.io_read.load() != r.io_written.load()) w->v_io.fetch_add(1);
    }
    // Broadcast: with the sender gone, every receiver reads to the end; it must have seen every
    // value once, or been told how many it lagged behind.
    w->stage = stage_drain_broadcast;
    w->btx = {};
    for (auto& rp : w->roles) {
        role& r = *rp;
        for (;;) {
            auto v = r.brx.try_recv();
            if (v) w->on_broadcast(r, *v);
            else if (v.error().is_lagged()) w->on_broadcast(r, unexpected(broadcast::recv_error::lagged(v.error().skipped())));
            else break;
        }
        if (r.b_next != w->b_sent + 1) w->v_broadcast.fetch_add(1);
    }
    // Every lock and permit is back.
    if (!w->mtx.try_lock()) w->v_leak.fetch_add(1);
    if (!w->rw.try_write()) w->v_leak.fetch_add(1);
    if (w->sem.available_permits() != world::permits) w->v_leak.fetch_add(1);
    for (auto& rp : w->roles) {
        auto guard = rp->pm.try_lock();
        auto permit = rp->ps.try_acquire();
        auto slot = rp->pc_tx.try_reserve();
        if (!guard || !permit || !slot) w->v_leak.fetch_add(1);
    }
    if (w->permits_held.load() != 0 || w->readers.load() != 0 || w->writers.load() != 0) w->v_leak.fetch_add(1);
}

}  // namespace

task<void> run(world* w) {
    for (auto& rp : w->roles) {
        auto p = net::unix_stream::pair();
        if (!p) throw std::system_error(p.error(), "socketpair");
        rp->rd.emplace(std::move(p->first));
        rp->wr.emplace(std::move(p->second));
    }
    rng g{w->cfg.seed ^ 0x5DEECE66Dull};
    auto prod = corio::spawn(producer(w, g.next()));
    auto wri = corio::spawn(writer(w, g.next()));
    auto sup = corio::spawn(supervisor(w, g.next()));
    auto sup_res = co_await sup;
    if (!sup_res) w->v_result.fetch_add(1);
    w->loopers_done.store(true, std::memory_order_release);
    w->stage = stage_producer;
    auto prod_res = co_await prod;
    if (!prod_res) w->v_result.fetch_add(1);
    w->stage = stage_writer;
    auto wri_res = co_await wri;
    if (!wri_res) w->v_result.fetch_add(1);
    co_await drain(w);
    w->stage = stage_done;
    // The sockets belong to this runtime's reactor: close them before it goes.
    for (auto& rp : w->roles) {
        rp->rd.reset();
        rp->wr.reset();
    }
}

}  // namespace corio::torture
