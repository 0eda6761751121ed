// cancel_torture/torture.hpp — what the parts of the cancellation torture test share.
//
// The test (cancel_torture_test.cpp) proves the rule "no operand outlives the co_await that owns
// it" under random interleavings: looping tasks ("loopers", one per role) await combinators whose
// operands are chosen at random each iteration, while a producer, a socket writer, the loopers'
// own channel recycling and a supervisor that aborts whole loopers race them. Everything that can
// be counted is counted, and checked at the end:
//   * every token (a message with a unique id) that a send reported as sent is received exactly
//     once; every token that was not sent was handed back (unsent_into, take_value, a closed
//     channel's error) or died with an aborted task; none is both (the ledger);
//   * broadcast receivers see every value once, in order, or a lag that accounts for it; a watch
//     receiver never sees a value go back, and a change nobody saw stays unseen;
//   * socket readers see the writer's byte stream exactly;
//   * mutual exclusion held, and every lock and permit came back;
//   * every handler of a select found the resources its losing branches had queued for free
//     (k_private: an inline operand holds the role's private lock, permit and channel slot while
//     pinned branches of the same select queue for them);
//   * no operand ran after its combinator returned (it borrows the iteration's `borrowed` state,
//     which is freed at the end of the iteration: AddressSanitizer sees any later touch), no
//     operand frame was left when it returned, and a losing spawned operand had finished.
#pragma once

#include <corio/channels/broadcast.hpp>
#include <corio/channels/mpsc.hpp>
#include <corio/channels/oneshot.hpp>
#include <corio/channels/sync/semaphore.hpp>  // first of the sync headers (select_test.cpp says why)
#include <corio/channels/sync/mutex.hpp>
#include <corio/channels/sync/notify.hpp>
#include <corio/channels/sync/rw_lock.hpp>
#include <corio/channels/watch.hpp>
#include <corio/net/unix_stream.hpp>
#include <corio/runtime/join_handle.hpp>
#include <corio/runtime/runtime.hpp>
#include <corio/runtime/task.hpp>
#include <corio/runtime/time.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace corio::torture {

// ---------------------------------------------------------------------------------------------
// Choices

// The operation kinds a big select mixes (one branch each, enabled at random per iteration).
enum kind : unsigned {
    k_send,          // mpsc bounded send (temporary, unsent_into)
    k_reserve,       // mpsc bounded reserve()
    k_recv,          // the role's bounded mpsc receive
    k_urecv,         // the role's unbounded mpsc receive
    k_oneshot,       // the role's oneshot receive
    k_broadcast,     // the role's broadcast receive
    k_watch,         // the role's watch changed()
    k_mutex,         // sync::mutex lock()
    k_read,          // sync::rw_lock read()
    k_write,         // sync::rw_lock write()
    k_acquire,       // sync::semaphore acquire()
    k_acquire_many,  // sync::semaphore acquire_many(2)
    k_notified,      // sync::notify notified()
    k_sleep,         // a fresh sleep of 0-2 ms
    k_deadline,      // the looper's named sleep, reused across iterations
    k_io,            // a read on the role's socket
    k_operand,       // a task<int> operand that borrows the iteration's state
    k_spawned,       // a temporary join_handle operand (spawn(...))
    k_private,       // the role's private resources: an operand holds them, pinned branches queue for them
    k_relock,        // coroutine handlers that wait for what a losing branch was queued for
    kind_count
};
const char* kind_name(unsigned k);

// The combinator an iteration awaits.
enum shape : unsigned { s_select, s_biased, s_select_coro, s_biased_coro, s_race, s_timeout, s_join, s_try_join, shape_count };
const char* shape_name(unsigned s);

struct rng {
    std::uint64_t s;
    std::uint64_t next() noexcept {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        return s;
    }
    std::uint32_t below(std::uint32_t n) noexcept { return static_cast<std::uint32_t>((next() >> 11) % n); }
    bool percent(std::uint32_t p) noexcept { return below(100) < p; }
    std::chrono::microseconds micros(std::uint32_t max) noexcept { return std::chrono::microseconds(below(max + 1)); }
};

struct config {
    runtime_flavor flavor = runtime_flavor::multi_thread;
    int roles = 4;
    std::size_t iterations = 1000;   // per role
    std::size_t io_bytes = 16384;    // per role's socket: small enough never to fill its buffer
    std::chrono::microseconds abort_every{2000};  // mean time between the supervisor's aborts
    std::uint64_t seed = 1;
    std::uint32_t kinds = (1u << kind_count) - 1;  // the enabled kinds (CORIO_TORTURE_KINDS)
    bool on(unsigned k) const noexcept { return (kinds >> k) & 1u; }
};

// ---------------------------------------------------------------------------------------------
// Tokens and the ledger

// Per token id, how often each fate happened to it. Checked at the end (ledger::check).
class ledger {
public:
    explicit ledger(std::size_t capacity);
    std::uint64_t create() noexcept;  // 0 once every id is used (the caller then does not send)
    void sent(std::uint64_t id) noexcept { bump(sent_, id); }
    void received(std::uint64_t id) noexcept { bump(received_, id); }
    void handed_back(std::uint64_t id) noexcept { bump(back_, id); }
    void dropped(std::uint64_t id) noexcept { bump(dropped_, id); }
    // "" when every fate is consistent; otherwise what is wrong, with a few ids.
    std::string check(std::string* stats) const;

private:
    static void bump(std::vector<std::atomic<std::uint8_t>>& v, std::uint64_t id) noexcept {
        if (id != 0 && id < v.size()) v[id].fetch_add(1, std::memory_order_relaxed);
    }
    std::vector<std::atomic<std::uint8_t>> sent_, received_, back_, dropped_;
    std::atomic<std::uint64_t> next_{1};
};

// A message. Move-only; a live token that is destroyed records `dropped` (the only legitimate
// way is an aborted task that held it before sending it).
class tok {
public:
    tok() noexcept = default;
    tok(ledger* l, std::uint64_t id) noexcept : l_(l), id_(id) {}
    tok(tok&& o) noexcept : l_(o.l_), id_(std::exchange(o.id_, 0)) {}
    tok& operator=(tok&& o) noexcept {
        if (this != &o) {
            drop();
            l_ = o.l_;
            id_ = std::exchange(o.id_, 0);
        }
        return *this;
    }
    tok(const tok&) = delete;
    tok& operator=(const tok&) = delete;
    ~tok() { drop(); }

    std::uint64_t id() const noexcept { return id_; }
    void mark_received() noexcept { end(&ledger::received); }
    void mark_handed_back() noexcept { end(&ledger::handed_back); }

private:
    void end(void (ledger::*fate)(std::uint64_t) noexcept) noexcept {
        if (id_) (l_->*fate)(std::exchange(id_, 0));
    }
    void drop() noexcept { end(&ledger::dropped); }
    ledger* l_ = nullptr;
    std::uint64_t id_ = 0;
};

// ---------------------------------------------------------------------------------------------
// The world

struct bounded_slot {
    std::mutex m;                           // guards tx (others clone it)
    mpsc::sender<tok> tx;                   // empty while the owner retires the channel
    std::atomic<std::uint64_t> generation{1};
    mpsc::receiver<tok> rx;                 // the owner role's
    std::size_t capacity = 1;
};

// One looper's durable state: it survives the looper being aborted and replaced, and is used by
// one looper at a time (the supervisor replaces an aborted looper only once it has finished).
struct role {
    int index = 0;
    std::atomic<std::size_t> done{0};  // iterations completed
    std::atomic<unsigned> last_shape{0};
    std::atomic<std::uint32_t> last_kinds{0};
    std::atomic<int> phase{0};  // phase_* below
    std::atomic<int> incarnations{0};
    std::uint64_t rng_state = 1;

    bounded_slot bounded;
    bool retiring = false;   // the senders were dropped; the owner waits for the receiver to close
    bool recycling = false;  // the receiver was closed; the owner drains it
    mpsc::unbounded_sender<tok> utx;  // the producer's
    mpsc::receiver<tok> urx;
    mpsc::unbounded_sender<tok> optx;  // the producer's; only borrowing operands receive from it
    mpsc::receiver<tok> oprx;
    std::atomic<int> backlog{0};       // tokens the producer queued in urx + oprx, not yet received
    oneshot::receiver<tok> orx;
    bool oneshot_spent = true;         // orx yielded its outcome: make a new pair
    broadcast::receiver<std::uint64_t> brx;
    std::uint64_t b_next = 1;          // the next broadcast value expected
    bool b_closed = false;
    watch::receiver<std::uint64_t> wrx;
    std::uint64_t w_last = 0;
    // Private to the role's looper: an operand of a big select holds them while branches of the
    // same select queue for them, so each handler can check that the losers hold nothing.
    sync::mutex<int> pm{0};
    sync::semaphore ps{1};
    mpsc::sender<tok> pc_tx;  // capacity 1; nothing is ever sent
    mpsc::receiver<tok> pc_rx;
    std::optional<net::unix_stream> rd, wr;
    std::atomic<std::uint64_t> io_read{0};     // bytes read and checked (written by the owner only)
    std::atomic<std::uint64_t> io_written{0};  // written by the writer only
    bool io_eof = false;
};
enum phase : int { phase_start, phase_combinator, phase_after, phase_recycle, phase_done };

// The iteration's local state that operands borrow (heap: freed at the end of the iteration, so
// AddressSanitizer reports an operand that touches it later).
struct borrowed {
    static constexpr std::uint64_t live = 0xB0220DEDull;
    std::uint64_t canary = live;
    bool select_returned = false;
    int writes = 0;
    std::atomic<int> frames{0};  // borrowing operand frames that exist (frame_ticket)
    std::array<std::byte, 24> io_buf{};  // socket reads land here
};

// Set by the frame of a spawned operand when it is destroyed (a parameter, so set even when the
// task was aborted before it ran): checked when the select that owned it returns.
struct spawn_probe {
    std::atomic<int> destroyed{0};
};

struct world {
    world(const config& c);
    config cfg;
    ledger led;
    std::vector<std::unique_ptr<role>> roles;
    sync::mutex<int> mtx{0};  // value: 1 while someone is inside (mutual exclusion check)
    sync::rw_lock<int> rw{0};
    std::atomic<int> readers{0}, writers{0};
    static constexpr std::size_t permits = 3;
    sync::semaphore sem{permits};
    std::atomic<int> permits_held{0};
    sync::notify note;
    broadcast::sender<std::uint64_t> btx;
    std::uint64_t b_sent = 0;  // producer only
    watch::sender<std::uint64_t> wtx;
    std::uint64_t w_sent = 0;  // producer only
    mpsc::sender<tok> dummy_tx;  // the target of send branches that are disabled
    mpsc::receiver<tok> dummy_rx;
    std::mutex outbox_m;
    std::vector<oneshot::sender<tok>> outbox;  // oneshot senders for the producer
    std::atomic<bool> loopers_done{false};
    std::atomic<int> stage{0};  // run()'s progress, for the watchdog: stage_* below

    // Violations (all must stay 0).
    std::atomic<std::uint64_t> v_ran_after_return{0}, v_canary{0}, v_spawned_running{0}, v_exclusion{0},
        v_permits{0}, v_broadcast{0}, v_watch{0}, v_io{0}, v_unsent{0}, v_result{0}, v_capacity{0}, v_leak{0},
        v_frames_alive{0}, v_loser_held{0};
    // Statistics.
    std::array<std::atomic<std::uint64_t>, kind_count> wins{};
    std::array<std::atomic<std::uint64_t>, shape_count> shapes{};
    std::atomic<std::uint64_t> aborts{0}, recycles{0}, retires{0}, relocks{0}, operand_runs{0}, lagged{0}, oneshot_closes{0};

    // Bookkeeping shared by every shape.
    void receive(role& r, tok t) noexcept;                  // bounded / oneshot token received
    void receive_backlog(role& r, tok t) noexcept;          // urx / oprx token received
    void on_broadcast(role& r, result<std::uint64_t, broadcast::recv_error> res) noexcept;
    void on_watch(role& r, result<void, watch::recv_error> res) noexcept;
    void on_io(role& r, borrowed& b, result<std::size_t, std::error_code> res) noexcept;
    void on_send(std::uint64_t id, result<void, send_error<tok>> res) noexcept;
    void on_reserve(result<mpsc::permit<tok>, mpsc::reserve_error> res) noexcept;
    void touch(borrowed* b) noexcept;  // an operand runs: it must be before its combinator returned

    std::string dump() const;        // for the watchdog
    std::string violations() const;  // "" when none
    std::string stats() const;
};

enum stage : int { stage_loopers, stage_producer, stage_writer, stage_drain_channels, stage_drain_socket, stage_drain_broadcast, stage_done };

// Critical-section checks; each is declared after the guard or permit it describes, so it ends
// before the guard lets go (also when an aborted or losing frame is destroyed).
struct in_mutex {
    in_mutex(world* w, int* v) noexcept : v_(v) {
        if (*v_ != 0) w->v_exclusion.fetch_add(1);
        *v_ = 1;
    }
    ~in_mutex() { *v_ = 0; }
    int* v_;
};
struct in_read {
    explicit in_read(world* w) noexcept : w_(w) {
        w_->readers.fetch_add(1);
        if (w_->writers.load() != 0) w_->v_exclusion.fetch_add(1);
    }
    ~in_read() { w_->readers.fetch_sub(1); }
    world* w_;
};
struct in_write {
    explicit in_write(world* w) noexcept : w_(w) {
        if (w_->writers.fetch_add(1) != 0 || w_->readers.load() != 0) w_->v_exclusion.fetch_add(1);
    }
    ~in_write() { w_->writers.fetch_sub(1); }
    world* w_;
};
struct holding {
    holding(world* w, int n) noexcept : w_(w), n_(n) {
        if (w_->permits_held.fetch_add(n_) + n_ > static_cast<int>(world::permits)) w_->v_permits.fetch_add(1);
    }
    ~holding() { w_->permits_held.fetch_sub(n_); }
    world* w_;
    int n_;
};

// ---------------------------------------------------------------------------------------------
// One iteration

// A sender to another role's bounded channel, as this looper last cloned it.
struct cached_sender {
    mpsc::sender<tok> tx;
    std::uint64_t generation = 0;
};

struct iteration {
    world* w = nullptr;
    role* r = nullptr;
    rng* g = nullptr;
    borrowed* b = nullptr;
    time::sleep_operation* deadline = nullptr;  // the looper's named sleep
    std::uint32_t kinds = 0;          // big select: the enabled branches
    unsigned variant = 0;             // race / timeout / join / try_join: which combination
    mpsc::sender<tok>* send_tx = nullptr;     // null: no live channel to send to
    mpsc::sender<tok>* reserve_tx = nullptr;
    std::chrono::microseconds d{0};   // fresh sleeps and timeouts
    int recipe = 0;                   // the borrowing operand's
    int relock = 0;                   // relock_* below
    std::shared_ptr<spawn_probe> probe;
    bool on(unsigned k) const noexcept { return (kinds >> k) & 1u; }
};
enum relock_kind : int { relock_none, relock_mutex, relock_write, relock_all_permits, relock_send };

// Operands (operands.cpp). Recipes: 0 sleep+yield, 1 hold the mutex across a sleep, 2 hold a
// permit across a yield, 3 a nested select, 4 receive from the role's operand channel (unbounded
// wait: never in join / try_join), 5 a nested borrowing task.
constexpr int recipes = 6;
constexpr bool bounded_recipe(int recipe) noexcept { return recipe != 4; }
task<int> borrower(world* w, role* r, borrowed* b, int recipe, std::uint64_t seed);
task<std::optional<int>> borrower_opt(world* w, role* r, borrowed* b, int recipe, std::uint64_t seed);
task<std::optional<int>> failer(world* w, borrowed* b, std::chrono::microseconds d, bool fail);
join_handle<int> spawn_operand(const iteration& it, bool enabled);  // empty when !enabled
task<void> relock(world* w, int kind, mpsc::sender<tok>* tx);
task<int> private_holder(world* w, role* r, borrowed* b, std::chrono::microseconds d);
// In every handler of a big select with k_private: the role's private resources are free (the
// losing branches queued for them hold nothing, and the holder operand is gone or done).
void check_private(world* w, role* r);
constexpr int borrower_value(int recipe) noexcept { return 1000 + recipe; }

// The combinators (big_select.hpp, shapes.cpp).
template <bool Biased, bool Coro>
task<void> big_select(iteration* it);
task<void> race_shape(iteration* it);
task<void> timeout_shape(iteration* it);
task<void> join_shape(iteration* it);
task<void> try_join_shape(iteration* it);
constexpr unsigned race_variants = 6, timeout_variants = 9, join_variants = 5, try_join_variants = 2;
// Whether a variant can run with the enabled kinds (those using operands need k_operand...).
bool variant_allowed(const config& c, unsigned shape, unsigned variant);

// The tasks (looper.cpp). run() is the root: it sets up the sockets, runs everything, drains.
task<void> run(world* w);

}  // namespace corio::torture
