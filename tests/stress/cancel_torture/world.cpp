// cancel_torture/world.cpp — the ledger, the shared world, and the bookkeeping every shape does
// when an operation wins.
#include "cancel_torture/torture.hpp"

#include <fmt/format.h>

namespace corio::torture {

const char* kind_name(unsigned k) {
    static constexpr const char* names[kind_count] = {"send",   "reserve",  "recv",    "urecv",        "oneshot",
                                                      "bcast",  "watch",    "mutex",   "read",         "write",
                                                      "acquire", "acquire2", "notified", "sleep",       "deadline",
                                                      "io",     "operand",  "spawned", "private",  "relock"};
    return k < kind_count ? names[k] : "?";
}

const char* shape_name(unsigned s) {
    static constexpr const char* names[shape_count] = {"select",  "biased",  "select+coro", "biased+coro",
                                                       "race",    "timeout", "join",        "try_join"};
    return s < shape_count ? names[s] : "?";
}

// ---------------------------------------------------------------------------------------------
// ledger

ledger::ledger(std::size_t capacity) : sent_(capacity), received_(capacity), back_(capacity), dropped_(capacity) {}

std::uint64_t ledger::create() noexcept {
    const std::uint64_t id = next_.fetch_add(1, std::memory_order_relaxed);
    return id < sent_.size() ? id : 0;
}

std::string ledger::check(std::string* stats) const {
    struct problem {
        explicit problem(const char* w) : what(w) {}
        const char* what;
        std::uint64_t count = 0;
        std::string ids;
        void add(std::uint64_t id) {
            if (count++ < 5) ids += fmt::format(" {}", id);
        }
    };
    problem duplicate("received more than once"), lost("sent but never received"),
        sent_and_back("sent and also handed back or dropped"), stray("received although its send did not report success"),
        two_fates("handed back or dropped more than once"), unaccounted("neither sent, handed back nor dropped");
    std::uint64_t created = 0, n_sent = 0, n_received = 0, n_back = 0, n_dropped = 0;
    const std::uint64_t end = std::min<std::uint64_t>(next_.load(), sent_.size());
    for (std::uint64_t id = 1; id < end; ++id) {
        const int s = sent_[id].load(), rc = received_[id].load(), hb = back_[id].load(), dr = dropped_[id].load();
        ++created;
        n_sent += s;
        n_received += rc;
        n_back += hb;
        n_dropped += dr;
        if (rc > 1) duplicate.add(id);
        if (s >= 1 && rc == 0) lost.add(id);
        if (s >= 1 && hb + dr > 0) sent_and_back.add(id);
        if (s == 0 && rc > 0) stray.add(id);
        if (hb + dr > 1) two_fates.add(id);
        if (s == 0 && rc + hb + dr == 0) unaccounted.add(id);
    }
    if (stats)
        *stats = fmt::format("tokens: {} created, {} sent, {} received, {} handed back, {} died unsent (aborted holders)", created,
                             n_sent, n_received, n_back, n_dropped);
    std::string out;
    for (const problem* p : {&duplicate, &lost, &sent_and_back, &stray, &two_fates, &unaccounted})
        if (p->count) out += fmt::format("{} tokens {} (ids{}); ", p->count, p->what, p->ids);
    return out;
}

// ---------------------------------------------------------------------------------------------
// world

world::world(const config& c) : cfg(c), led(c.roles * c.iterations * 8 + 1000000) {
    auto [b_tx, b_rx] = broadcast::channel<std::uint64_t>(16);
    btx = std::move(b_tx);
    auto [w_tx, w_rx] = watch::channel<std::uint64_t>(0);
    wtx = std::move(w_tx);
    auto [d_tx, d_rx] = mpsc::channel<tok>(1);
    dummy_tx = std::move(d_tx);
    dummy_rx = std::move(d_rx);
    rng seeds{c.seed | 1};
    for (int i = 0; i < c.roles; ++i) {
        auto r = std::make_unique<role>();
        r->index = i;
        r->rng_state = seeds.next() | 1;
        // Capacity 1 for half the roles: every send waits for the receiver; 4 for the others.
        r->bounded.capacity = i % 2 == 0 ? 1 : 4;
        auto [tx, rx] = mpsc::channel<tok>(r->bounded.capacity);
        r->bounded.tx = std::move(tx);
        r->bounded.rx = std::move(rx);
        auto [utx, urx] = mpsc::unbounded_channel<tok>();
        r->utx = std::move(utx);
        r->urx = std::move(urx);
        auto [optx, oprx] = mpsc::unbounded_channel<tok>();
        r->optx = std::move(optx);
        r->oprx = std::move(oprx);
        auto [pc_tx, pc_rx] = mpsc::channel<tok>(1);
        r->pc_tx = std::move(pc_tx);
        r->pc_rx = std::move(pc_rx);
        r->brx = btx.subscribe();
        r->wrx = wtx.subscribe();
        roles.push_back(std::move(r));
    }
    (void)b_rx;
    (void)w_rx;
}

void world::receive(role&, tok t) noexcept { t.mark_received(); }

void world::receive_backlog(role& r, tok t) noexcept {
    r.backlog.fetch_sub(1, std::memory_order_relaxed);
    t.mark_received();
}

void world::on_broadcast(role& r, result<std::uint64_t, broadcast::recv_error> res) noexcept {
    if (res) {
        // In order, without gaps or repeats: a losing recv consumed nothing.
        if (*res != r.b_next) v_broadcast.fetch_add(1);
        r.b_next = *res + 1;
    } else if (res.error().is_lagged()) {
        lagged.fetch_add(res.error().skipped(), std::memory_order_relaxed);
        r.b_next += res.error().skipped();
    } else {
        r.b_closed = true;
    }
}

void world::on_watch(role& r, result<void, watch::recv_error> res) noexcept {
    if (!res) return;  // closed: only at the end
    // borrow_and_update: the version marked seen is the one whose value is read.
    const std::uint64_t v = *r.wrx.borrow_and_update();
    // changed() reports a version this receiver had not seen: its value is newer than the last
    // value seen (values only grow).
    if (v <= r.w_last) v_watch.fetch_add(1);
    r.w_last = v;
}

void world::on_io(role& r, borrowed& b, result<std::size_t, std::error_code> res) noexcept {
    if (!res) {
        v_io.fetch_add(1);
        return;
    }
    if (*res == 0) {
        r.io_eof = true;
        return;
    }
    // The writer sends byte i of role r's stream as (i * 31 + r) & 0xff: a lost, repeated or
    // reordered byte breaks the pattern.
    const std::uint64_t at = r.io_read.load(std::memory_order_relaxed);
    for (std::size_t k = 0; k < *res; ++k)
        if (b.io_buf[k] != static_cast<std::byte>(((at + k) * 31 + static_cast<std::uint64_t>(r.index)) & 0xff)) {
            v_io.fetch_add(1);
            break;
        }
    r.io_read.store(at + *res, std::memory_order_release);
}

void world::on_send(std::uint64_t id, result<void, send_error<tok>> res) noexcept {
    if (res) led.sent(id);
    else res.error().value.mark_handed_back();  // closed: the value came back
}

void world::on_reserve(result<mpsc::permit<tok>, mpsc::reserve_error> res) noexcept {
    if (!res) return;  // closed
    const std::uint64_t id = led.create();
    if (id == 0) return;  // the permit goes back unused
    led.sent(id);
    res->send(tok(&led, id));
}

void world::touch(borrowed* b) noexcept {
    if (b->canary != borrowed::live) v_canary.fetch_add(1);
    if (b->select_returned) v_ran_after_return.fetch_add(1);
    ++b->writes;
}

std::string world::dump() const {
    std::string s = fmt::format("seed {} flavor {}\n", cfg.seed, cfg.flavor == runtime_flavor::current_thread ? "current_thread" : "multi_thread");
    for (const auto& r : roles) {
        // last_kinds: the big select's enabled kinds, or the variant of the other shapes.
        std::string kinds;
        const std::uint32_t k = r->last_kinds.load();
        if (r->last_shape.load() >= s_race) kinds = fmt::format(" variant {}", k);
        else
            for (unsigned i = 0; i < kind_count; ++i)
                if ((k >> i) & 1u) kinds += fmt::format(" {}", kind_name(i));
        s += fmt::format("  role {}: {}/{} iterations, incarnation {}, phase {}, last {} [{} ]\n", r->index, r->done.load(),
                         cfg.iterations, r->incarnations.load(), r->phase.load(), shape_name(r->last_shape.load()), kinds);
    }
    static constexpr const char* stages[] = {"loopers running",  "waiting for the producer", "waiting for the writer",
                                             "draining channels", "draining sockets",         "draining broadcast",
                                             "done"};
    s += fmt::format("  stage: {}; aborts {} permits_held {} readers {} writers {}\n", stages[stage.load()], aborts.load(),
                     permits_held.load(), readers.load(), writers.load());
    return s + "  " + violations() + "\n  " + stats();
}

std::string world::violations() const {
    std::string s;
    auto add = [&](const char* what, const std::atomic<std::uint64_t>& v) {
        if (v.load()) s += fmt::format("{} {}; ", v.load(), what);
    };
    add("operand runs after their combinator returned", v_ran_after_return);
    add("combinators that returned while an operand's frame still existed", v_frames_alive);
    add("handlers that found a resource still held by a losing branch", v_loser_held);
    add("operand touches of a dead borrowed state (canary)", v_canary);
    add("losing spawned operands still running when select returned", v_spawned_running);
    add("mutual exclusion violations", v_exclusion);
    add("semaphore over-grants", v_permits);
    add("broadcast order/gap violations", v_broadcast);
    add("watch values seen going back", v_watch);
    add("socket stream violations", v_io);
    add("losing sends that did not hand their value back", v_unsent);
    add("unexpected results", v_result);
    add("bounded channels whose capacity did not all come back", v_capacity);
    add("locks or permits still held at the end", v_leak);
    return s;
}

std::string world::stats() const {
    std::string s = "wins:";
    for (unsigned k = 0; k < kind_count; ++k) s += fmt::format(" {} {}", kind_name(k), wins[k].load());
    s += "; shapes:";
    for (unsigned k = 0; k < shape_count; ++k) s += fmt::format(" {} {}", shape_name(k), shapes[k].load());
    s += fmt::format("; aborts {} recycles {} retires {} relocks {} operand runs {} broadcast lagged {} oneshot closes {}",
                     aborts.load(), recycles.load(), retires.load(), relocks.load(), operand_runs.load(), lagged.load(),
                     oneshot_closes.load());
    return s;
}

}  // namespace corio::torture
