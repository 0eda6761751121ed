// corio/channels/watch.hpp — one value, many watchers: receivers wake when it changes.
//
//     auto [tx, rx] = corio::watch::channel<int>(0);
//     tx.send(1);                                          // or send_modify(f), send_if_modified(f)
//     while ((co_await rx.changed()).has_value()) {        // one wake per new version
//         int v = *rx.borrow_and_update();                 // the latest value, marked seen
//     }
//
// A channel holds one value and a version. The sender replaces or modifies the value; each
// receiver remembers the last version it has seen and `co_await rx.changed()` completes once a
// newer version exists. Receivers see the latest value only: intermediate values they were too
// slow for are skipped (use broadcast to see every value). The sender is move-only; receivers
// are copyable (a copy starts from the version its source has seen), and `tx.subscribe()` makes
// a receiver that has seen the current value.
//
// Borrowing: `rx.borrow()` (and borrow_and_update(), tx.borrow(), the result of wait_for) returns
//   a watch::ref, a read guard holding a shared lock on the value. While any ref is alive the
//   sender's send/modify blocks its thread. Keep refs short: never hold one across a co_await
//   (the lock would be held while the task is suspended, possibly blocking a worker that sends,
//   and a ref must be released on the thread that took it). Copy the value out instead.
//   Small trivially copyable values (a T that std::atomic_ref<T> handles lock-free: integers,
//   enums, pointers, small PODs) are read without any lock: a sequence counter (a seqlock)
//   tells a reader whether the sender wrote meanwhile, and the ref holds a copy. Receivers then
//   never write the value's cache line, and the sender never waits for them.
// Disconnection: destroying the sender closes the channel: changed() then yields
//   recv_error::closed once the receiver has seen the last version (a version sent just before
//   the close is still reported as a change first), and has_changed() yields the error.
//   When the last receiver is destroyed, send() fails and hands its value back (send_replace and
//   send_modify still store it), and `co_await tx.closed()` completes.
// Errors: watch::recv_error::closed; watch::send_error<T> (= corio::send_error<T>, value handed back).
// Cancel safety: changed(), wait_for() and closed() are cancel safe: cancelled (cancel(), or
//   destroyed) they leave the waiters and drop their waker; a changed() has marked nothing seen,
//   so polled again (or the next changed()) it reports the same change.
// Memory ordering: everything the sender did before a send is visible to a receiver that then
//   observes the new version (changed() completing, or a borrow seeing the value).
// Resumption: waiters are woken through their wakers, outside every lock; a send never resumes
//   anyone inline.
// Thread safety: handles may live on different workers or plain threads. Each handle is used by
//   one task (or thread) at a time; different receivers, and the sender, work concurrently.
//   Preconditions (debug assertions): a handle is not moved or destroyed while an operation on it
//   is pending. The functions passed to send_modify/send_if_modified and the predicate of
//   wait_for run under the value's lock: they must not use the channel.
#pragma once

#include <corio/channels/detail/rw_lock.hpp>
#include <corio/channels/detail/waiter_list.hpp>
#include <corio/channels/error.hpp>
#include <corio/channels/metrics.hpp>
#include <corio/result.hpp>
#include <corio/runtime/leaf.hpp>
#include <corio/runtime/waker.hpp>

#include <fmt/format.h>

#include <atomic>
#include <bit>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>

namespace corio {

namespace watch {

/// changed() / wait_for() / has_changed(): the sender is gone (and, for changed(), the receiver
/// has seen the last version).
enum class recv_error { closed };

constexpr std::string_view to_string(recv_error) noexcept { return "channel closed"; }

/// send(): every receiver is gone; the value comes back.
template <class T>
using send_error = ::corio::send_error<T>;

}  // namespace watch

namespace detail {

// watch_state: the version word of a watch channel (Tokio's sync/watch.rs `state`).
//
// Bits:     closed (0): set once, by the sender's destruction, never cleared.
//           version (1..): +2 per send; never decreases. A receiver compares it with the version
//                          it has seen.
// Access:   the version changes only with value_mutex_ held exclusively (seqlock mode: inside the
//           sender's odd seq_ window), so under a shared lock (a stable even seq_) the version read
//           belongs to the value read.
// Ordering: every operation is seq_cst. Release/acquire alone publishes the value; seq_cst is
//           needed because a send (RMW on the word, then a load of the waiter count) and a
//           waiter (store of the waiter count, then a load of the word) form a Dekker pair:
//           one of them must see the other, so a waiter is never missed (watch_notify_list).
class watch_state {
public:
    static constexpr std::uint64_t closed_bit = 1;
    static constexpr std::uint64_t version_step = 2;

    std::uint64_t load() const noexcept { return word_.load(std::memory_order_seq_cst); }
    void increment_version() noexcept { word_.fetch_add(version_step, std::memory_order_seq_cst); }
    void transition_to_closed() noexcept { word_.fetch_or(closed_bit, std::memory_order_seq_cst); }

    static constexpr std::uint64_t version(std::uint64_t w) noexcept { return w & ~closed_bit; }
    static constexpr bool is_closed(std::uint64_t w) noexcept { return (w & closed_bit) != 0; }

private:
    std::atomic<std::uint64_t> word_{0};
};

// Waiters of one condition of a watch channel (a new version, or no receivers left), Tokio's
// Notify::notify_waiters without permits.
//
// Protocol (register, then re-check; never check, then register):
//   1. A waiter checks its condition; if it is false it enqueues itself (which publishes the new
//      length with a seq_cst store), then checks again with a seq_cst load; only if it is still
//      false does it report pending.
//   2. A notifier first makes the condition true with a seq_cst RMW, then loads len_ (seq_cst);
//      if it is non-zero it locks, pops every waiter, unlocks and wakes them.
//   Either the notifier's len_ load sees the waiter (and wakes it), or it precedes the waiter's
//   len_ store in the seq_cst order, and then the waiter's re-check follows the notifier's RMW
//   and sees the condition true.
class watch_notify_list {
public:
    // Step 1: links `w` (or keeps it linked) with a waker for `r`. The owner calls this only from
    // its own poll, so never concurrently for one node.
    void enqueue(list_waiter& w, waker_ref r) noexcept {
        waker old;
        if (!w.is_queued()) {
            // Lifetime: not queued, so the node is the owner's alone (list_waiter's Access rule).
            if (!w.waker_.will_wake(r)) w.waker_ = r.clone();
            std::lock_guard lock(mutex_);
            list_.push_front(&w);
            len_.store(list_.size(), std::memory_order_seq_cst);
            return;
        }
        std::unique_lock lock(mutex_);
        if (w.queued_.load(std::memory_order_relaxed)) {
            // Still linked: the waker slot is guarded by mutex_. Replace it if it wakes someone
            // else (leaf rule L6, docs/design/task-model.md: one waker per leaf); the old one is dropped after unlocking.
            if (!w.waker_.will_wake(r)) {
                old = std::move(w.waker_);
                w.waker_ = r.clone();
            }
            return;
        }
        // A notifier popped it between our load and the lock: relink.
        if (!w.waker_.will_wake(r)) {
            old = std::move(w.waker_);
            w.waker_ = r.clone();
        }
        list_.push_front(&w);
        len_.store(list_.size(), std::memory_order_seq_cst);
    }

    // Unlinks `w` if it is linked, and drops its waker (cancel() of a waiting operation, or its
    // destructor). Afterwards the node is the owner's (list_waiter's Access rule) and empty.
    void remove(list_waiter& w) noexcept {
        if (w.is_queued()) {
            std::lock_guard lock(mutex_);
            if (w.queued_.load(std::memory_order_relaxed)) {
                list_.remove(&w);
                len_.store(list_.size(), std::memory_order_seq_cst);
            }
        }
        w.waker_.reset();  // not queued: ours (a notifier that popped it has moved it out already)
    }

    // Step 2, after the caller's seq_cst RMW made the condition true.
    void notify_waiters() noexcept {
        if (len_.load(std::memory_order_seq_cst) == 0) return;
        std::unique_lock lock(mutex_);
        wake_all_and_unlock(lock, list_, [this] { len_.store(list_.size(), std::memory_order_seq_cst); });
    }

private:
    std::mutex mutex_;
    waiter_list list_;                   // guarded by mutex_
    std::atomic<std::size_t> len_{0};    // list_.size(); written under mutex_, read without it
};

// Whether a watch<T> reads its value through a seqlock (watch_shared::read_snapshot) instead of
// the rw_lock: T must be trivially copyable and the size of a lock-free unsigned integer, which
// then stores its bits (std::bit_cast). Not std::atomic_ref<T>: clang 14 calls libatomic for a
// struct whose alignment is below its size.
template <class T, std::size_t Size = (std::is_trivially_copyable_v<T> ? sizeof(T) : 0)>
struct watch_snapshot_traits {
    static constexpr bool value = false;
    using storage = T;
};
template <class T>
struct watch_snapshot_traits<T, 1> {
    static constexpr bool value = true;
    using storage = std::atomic<std::uint8_t>;
};
template <class T>
struct watch_snapshot_traits<T, 2> {
    static constexpr bool value = true;
    using storage = std::atomic<std::uint16_t>;
};
template <class T>
struct watch_snapshot_traits<T, 4> {
    static constexpr bool value = true;
    using storage = std::atomic<std::uint32_t>;
};
template <class T>
struct watch_snapshot_traits<T, 8> {
    static constexpr bool value = std::atomic<std::uint64_t>::is_always_lock_free;
    using storage = std::conditional_t<value, std::atomic<std::uint64_t>, T>;
};
template <class T>
inline constexpr bool watch_snapshot = watch_snapshot_traits<T>::value;

// The one allocation of a watch channel.
template <class T>
class watch_shared {
public:
    template <class U>
    watch_shared(U&& initial, const channel_options& opts) : value_(make_storage(std::forward<U>(initial))), metrics_(opts) {}

    // Layout: three groups on their own cache lines. The value line (lock, value, version) moves
    // between sender and receivers on every send/borrow; the waiter list line is written by each
    // receiver that parks; rx_count_ and the rest are read-mostly. Sharing a line would make the
    // sender's rx_count_ check miss each time a receiver parks (watch_updates workload).
    alignas(64) mutable rw_lock value_mutex_;  // unused in seqlock mode
    // Lock mode: a T guarded by value_mutex_ (exclusive: the sender; shared: borrows).
    // Seqlock mode: T's bits in an atomic integer (relaxed accesses inside seq_ windows).
    typename watch_snapshot_traits<T>::storage value_;
    watch_state state_;
    // seq_ — seqlock mode only. Even: value_ and the version are stable; odd: the sender is
    // writing them. Only the sender writes it (one sender: no writer-writer race).
    // Ordering (Boehm's fence seqlock): the writer stores odd (relaxed), release fence, writes
    // value_ and the version, stores even (release); a reader loads seq_ (acquire), reads, takes
    // an acquire fence and reloads seq_ (relaxed): equal and even means the copy is one version.
    std::atomic<std::uint32_t> seq_{0};

    template <class U>
    static decltype(auto) make_storage(U&& initial) {
        if constexpr (watch_snapshot<T>) {
            using bits = typename watch_snapshot_traits<T>::storage::value_type;
            return bits(std::bit_cast<bits>(T(std::forward<U>(initial))));
        } else {
            return std::forward<U>(initial);
        }
    }

    // Seqlock mode: a copy of the value and the version word it belongs to. Spins while the
    // sender writes (a few nanoseconds); yields the thread if the sender was preempted mid-write.
    std::pair<T, std::uint64_t> read_snapshot() const noexcept {
        for (unsigned spins = 0;; ++spins) {
            const std::uint32_t s1 = seq_.load(std::memory_order_acquire);
            if (!(s1 & 1)) {
                const T v = std::bit_cast<T>(value_.load(std::memory_order_relaxed));
                const std::uint64_t w = state_.load();
                std::atomic_thread_fence(std::memory_order_acquire);
                if (seq_.load(std::memory_order_relaxed) == s1) return {v, w};
            }
            if (spins < 64) {
#if defined(__x86_64__) || defined(__i386__)
                __builtin_ia32_pause();
#endif
            } else {
                std::this_thread::yield();
            }
        }
    }

    // Seqlock mode, sender only: f(T&) -> bool runs on a copy; the copy is published (with a new
    // version if f returned true). If f throws, nothing is published.
    template <class F>
    bool write_snapshot(F& f) {
        T v = std::bit_cast<T>(value_.load(std::memory_order_relaxed));
        const bool modified = f(v);
        const std::uint32_t s = seq_.load(std::memory_order_relaxed);
        seq_.store(s + 1, std::memory_order_relaxed);
        std::atomic_thread_fence(std::memory_order_release);
        value_.store(std::bit_cast<typename decltype(value_)::value_type>(v), std::memory_order_relaxed);
        if (modified) state_.increment_version();
        seq_.store(s + 2, std::memory_order_release);
        return modified;
    }
    alignas(64) watch_notify_list notify_rx_;  // changed() / wait_for() waiters; notified by send and close
    // Receivers alive. seq_cst: a receiver's decrement and a closed() waiter form the Dekker pair
    // of watch_notify_list with notify_tx_ (the condition is "count == 0").
    alignas(64) std::atomic<std::size_t> rx_count_{1};
    const metrics_slot metrics_;   // metrics.hpp; null tests when off
    watch_notify_list notify_tx_;  // closed() waiters; notified when rx_count_ reaches 0

    // Metrics: a receiver moved from version `seen` to `v` (v != seen). Versions in between
    // were coalesced away: counted as lagged (by design for watch; a measure of coalescing).
    void count_observed(std::uint64_t seen, std::uint64_t v) const noexcept {
        if (auto* c = metrics_.get()) [[unlikely]] {
            c->on_received();
            if (v > seen) {
                const std::uint64_t steps = (v - seen) / watch_state::version_step;
                if (steps > 1) c->on_lagged(steps - 1);
            }
        }
    }

    // Lifetime: one reference per handle (sender, each receiver). acq_rel: whoever frees the
    // state sees every write made under the other references.
    void retain() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
    void release() noexcept {
        if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
    }

private:
    std::atomic<std::size_t> refs_{2};
};

}  // namespace detail

namespace watch {

template <class T>
class sender;
template <class T>
class receiver;

template <class T>
std::pair<sender<T>, receiver<T>> channel(T initial, const channel_options& opts = {});

/// A read guard on the value: a shared lock. Do not hold it across a co_await (header comment).
template <class T>
class ref {
public:
    ref(ref&&) noexcept = default;
    ref& operator=(ref&&) noexcept = default;
    ref(const ref&) = delete;
    ref& operator=(const ref&) = delete;

    const T& operator*() const noexcept { return get(); }
    const T* operator->() const noexcept { return &get(); }
    const T& get() const noexcept {
        if constexpr (snapshot) return hold_;
        else return *value_;
    }
    /// Whether the value is a version the borrowing receiver had not seen (false from the sender).
    bool has_changed() const noexcept { return has_changed_; }

private:
    friend class sender<T>;
    friend class receiver<T>;
    static constexpr bool snapshot = detail::watch_snapshot<T>;
    // Lock mode: the shared lock, and the value it guards. Seqlock mode: a copy of the value.
    using hold_type = std::conditional_t<snapshot, T, std::shared_lock<detail::rw_lock>>;
    ref(hold_type hold, const T* v, bool changed) noexcept : hold_(std::move(hold)), value_(v), has_changed_(changed) {}

    hold_type hold_;
    const T* value_;  // lock mode only
    bool has_changed_;
};

/// The sending half. Move-only; destroying it closes the channel.
template <class T>
class sender {
public:
    sender() noexcept = default;
    sender(sender&& o) noexcept : shared_(std::exchange(o.shared_, nullptr)) {}
    sender& operator=(sender&& o) noexcept {
        if (this != &o) {
            drop();
            shared_ = std::exchange(o.shared_, nullptr);
        }
        return *this;
    }
    sender(const sender&) = delete;
    sender& operator=(const sender&) = delete;
    ~sender() { drop(); }

    explicit operator bool() const noexcept { return shared_ != nullptr; }

    /// Stores `value` as a new version and wakes the receivers waiting for a change. Fails,
    /// handing the value back and storing nothing, if there are no receivers (Tokio 1.24).
    /// Precondition (all sender operations): the sender is non-empty.
    result<void, send_error<T>> send(T value) {
        assert(shared_);
        if (receiver_count() == 0) {
            shared_->metrics_.dropped();
            return unexpected(send_error<T>(std::move(value)));
        }
        (void)send_replace(std::move(value));
        return {};
    }

    /// Stores `value` as a new version whether or not there are receivers; returns the old value.
    T send_replace(T value) {
        send_modify([&value](T& v) {
            using std::swap;
            swap(v, value);
        });
        return value;
    }

    /// Calls f(T&) under the write lock, then publishes a new version.
    template <class F>
    void send_modify(F&& f) {
        send_if_modified([&f](T& v) {
            std::forward<F>(f)(v);
            return true;
        });
    }

    /// Calls f(T&) -> bool under the write lock; publishes a new version and wakes receivers only
    /// if it returns true (its changes are visible to borrows either way). If f throws, no
    /// version is published and the exception propagates (in seqlock mode, f works on a copy and
    /// its partial changes are dropped too).
    template <class F>
    bool send_if_modified(F&& f) {
        assert(shared_);
        if constexpr (detail::watch_snapshot<T>) {
            if (!shared_->write_snapshot(f)) return false;
        } else {
            std::unique_lock lock(shared_->value_mutex_);
            if (!std::forward<F>(f)(shared_->value_)) return false;
            // Under the exclusive lock, so a shared borrower reads a matching value and version.
            shared_->state_.increment_version();
        }
        shared_->metrics_.sent();
        // Unlocked first: a woken receiver borrows at once.
        shared_->notify_rx_.notify_waiters();
        return true;
    }

    /// A read guard on the current value (has_changed() is false). Not across a co_await.
    [[nodiscard]] ref<T> borrow() const {
        assert(shared_);
        if constexpr (detail::watch_snapshot<T>) {
            return ref<T>(shared_->read_snapshot().first, nullptr, false);
        } else {
            std::shared_lock lock(shared_->value_mutex_);
            return ref<T>(std::move(lock), &shared_->value_, false);
        }
    }

    /// The channel's counters, if it was made `with_metrics` (corio/channels/metrics.hpp).
    std::optional<channel_metrics> metrics() const noexcept {
        return shared_ ? shared_->metrics_.snapshot() : std::nullopt;
    }

    /// True when there are no receivers (a send would fail).
    bool is_closed() const noexcept { return receiver_count() == 0; }

    std::size_t receiver_count() const noexcept {
        return shared_ ? shared_->rx_count_.load(std::memory_order_seq_cst) : 0;
    }

    /// A new receiver that has seen the current version (it waits for the next one). Works after
    /// every receiver was gone: the channel reopens for send().
    [[nodiscard]] receiver<T> subscribe() const noexcept {
        assert(shared_);
        shared_->retain();
        shared_->rx_count_.fetch_add(1, std::memory_order_seq_cst);
        return receiver<T>(shared_, detail::watch_state::version(shared_->state_.load()));
    }

    /// Sender-side; not concurrently with other closed() awaits on this sender. Completes when
    /// there are no receivers (at once if there are none now). Cancel safe.
    class [[nodiscard]] closed_operation : public leaf_awaiter<closed_operation> {
    public:
        explicit closed_operation(sender* tx) noexcept : tx_(tx) {}
        closed_operation(const closed_operation&) = delete;
        closed_operation& operator=(const closed_operation&) = delete;
        ~closed_operation() { cancel(); }
        void cancel() noexcept override {
            if (tx_->shared_) tx_->shared_->notify_tx_.remove(node_);
        }
        bool poll(context& cx) noexcept override {
            auto* sh = tx_->shared_;
            if (!sh || sh->rx_count_.load(std::memory_order_seq_cst) == 0) return cx.poll_budget();
            sh->notify_tx_.enqueue(node_, cx.waker());
            // Re-check after registering (watch_notify_list protocol step 1).
            if (sh->rx_count_.load(std::memory_order_seq_cst) == 0) return cx.poll_budget();
            return false;
        }
        void await_resume() const noexcept {}

    private:
        sender* tx_;
        detail::list_waiter node_;
    };
    [[nodiscard]] closed_operation closed() noexcept { return closed_operation(this); }

    /// Blocking twin of closed(), for plain threads (not on a runtime worker).
    void blocking_closed() {
        closed_operation op(this);
        ::corio::detail::blocking_poll(op);
    }

private:
    friend std::pair<sender<T>, receiver<T>> channel<T>(T initial, const channel_options& opts);
    explicit sender(detail::watch_shared<T>* s) noexcept : shared_(s) {}

    void drop() noexcept {
        if (auto* s = std::exchange(shared_, nullptr)) {
            s->state_.transition_to_closed();
            s->notify_rx_.notify_waiters();
            s->release();
        }
    }

    detail::watch_shared<T>* shared_ = nullptr;
};

/// The receiving half. Copyable: each copy is a receiver with its own seen version.
template <class T>
class receiver {
public:
    receiver() noexcept = default;
    receiver(const receiver& o) noexcept : shared_(o.shared_), version_(o.version_) { retain(); }
    receiver(receiver&& o) noexcept : shared_(std::exchange(o.shared_, nullptr)), version_(o.version_) {}
    receiver& operator=(const receiver& o) noexcept {
        if (this != &o) {
            drop();
            shared_ = o.shared_;
            version_ = o.version_;
            retain();
        }
        return *this;
    }
    receiver& operator=(receiver&& o) noexcept {
        if (this != &o) {
            drop();
            shared_ = std::exchange(o.shared_, nullptr);
            version_ = o.version_;
        }
        return *this;
    }
    ~receiver() { drop(); }

    explicit operator bool() const noexcept { return shared_ != nullptr; }

    /// A read guard on the latest value, without marking it seen. ref::has_changed() says
    /// whether it is a version this receiver has not seen. Not across a co_await.
    /// Precondition (all receiver operations but changed/has_changed): non-empty receiver.
    [[nodiscard]] ref<T> borrow() const {
        assert(shared_);
        if constexpr (detail::watch_snapshot<T>) {
            auto [value, w] = shared_->read_snapshot();
            return ref<T>(value, nullptr, detail::watch_state::version(w) != version_);
        } else {
            std::shared_lock lock(shared_->value_mutex_);
            const std::uint64_t v = detail::watch_state::version(shared_->state_.load());
            return ref<T>(std::move(lock), &shared_->value_, v != version_);
        }
    }

    /// As borrow(), and marks the borrowed version seen. Not across a co_await.
    [[nodiscard]] ref<T> borrow_and_update() {
        assert(shared_);
        if constexpr (detail::watch_snapshot<T>) {
            auto [value, w] = shared_->read_snapshot();
            return ref<T>(value, nullptr, mark_seen(detail::watch_state::version(w)));
        } else {
            std::shared_lock lock(shared_->value_mutex_);
            // Under the shared lock the version belongs to the value (watch_state Access rule).
            const std::uint64_t v = detail::watch_state::version(shared_->state_.load());
            return ref<T>(std::move(lock), &shared_->value_, mark_seen(v));
        }
    }

    /// Whether a version this receiver has not seen exists; recv_error::closed once the sender
    /// is gone (even if such a version exists, as Tokio).
    result<bool, recv_error> has_changed() const noexcept {
        if (!shared_) return unexpected(recv_error::closed);
        const std::uint64_t s = shared_->state_.load();
        if (detail::watch_state::is_closed(s)) return unexpected(recv_error::closed);
        return detail::watch_state::version(s) != version_;
    }

    /// Marks the current version seen (a pending change is forgotten).
    void mark_unchanged() noexcept {
        if (shared_) version_ = detail::watch_state::version(shared_->state_.load());
    }

    /// Makes the current value count as unseen: the next changed() completes at once.
    void mark_changed() noexcept { version_ -= detail::watch_state::version_step; }

private:
    // Marks version v seen; true if this receiver had not seen it.
    bool mark_seen(std::uint64_t v) noexcept {
        const bool changed = v != version_;
        if (changed) shared_->count_observed(version_, v);
        version_ = v;
        return changed;
    }

public:

    /// Receiver-side; not concurrently with other receiver-side operations. Completes once a
    /// version newer than the last seen exists, and marks it seen (borrow_and_update() then reads
    /// it); recv_error::closed if the sender is gone and no unseen version exists. Wakes once per
    /// new version at most, never for a seen one. Cancel safe: an abandoned changed() marks
    /// nothing seen.
    class [[nodiscard]] changed_operation : public leaf_awaiter<changed_operation> {
    public:
        explicit changed_operation(receiver* rx) noexcept : rx_(rx) {}
        changed_operation(const changed_operation&) = delete;
        changed_operation& operator=(const changed_operation&) = delete;
        ~changed_operation() { cancel(); }
        /// Leaves the waiters, dropping the waker; nothing was marked seen.
        void cancel() noexcept override {
            if (rx_->shared_) rx_->shared_->notify_rx_.remove(node_);
        }

        bool poll(context& cx) noexcept override {
            auto* sh = rx_->shared_;
            if (!sh) return finish(cx, unexpected(recv_error::closed));
            if (const check_result r = check(cx); r != check_result::pending) return r == check_result::ready;
            sh->notify_rx_.enqueue(node_, cx.waker());
            // Re-check after registering (watch_notify_list protocol step 1).
            return check(cx) == check_result::ready;
        }
        result<void, recv_error> await_resume() noexcept { return std::move(*out_); }

    private:
        enum class check_result { pending, ready, budget_spent };
        // ready: out_ is set (and a change marked seen). budget_spent: the task was woken to yield
        // (context::poll_budget), nothing was marked seen; report pending.
        check_result check(context& cx) noexcept {
            const std::uint64_t s = rx_->shared_->state_.load();
            const std::uint64_t v = detail::watch_state::version(s);
            if (v == rx_->version_ && !detail::watch_state::is_closed(s)) return check_result::pending;
            if (!cx.poll_budget()) return check_result::budget_spent;
            if (v != rx_->version_) {
                rx_->shared_->count_observed(rx_->version_, v);
                rx_->version_ = v;
                out_.emplace();
            } else {
                out_.emplace(unexpected(recv_error::closed));
            }
            return check_result::ready;
        }
        bool finish(context& cx, result<void, recv_error> r) noexcept {
            if (!cx.poll_budget()) return false;
            out_.emplace(std::move(r));
            return true;
        }

        receiver* rx_;
        detail::list_waiter node_;
        std::optional<result<void, recv_error>> out_;
    };
    [[nodiscard]] changed_operation changed() noexcept { return changed_operation(this); }

    /// Blocking twin of `co_await rx.changed()`, for plain threads (not on a runtime worker).
    result<void, recv_error> blocking_changed() {
        changed_operation op(this);
        ::corio::detail::blocking_poll(op);
        return op.await_resume();
    }

    /// Receiver-side. Completes with a read guard on the first value (the current one, then each
    /// new version) for which pred(const T&) returns true, marking it seen; recv_error::closed if
    /// the sender is gone and the last version fails pred. pred runs under the read lock (it must
    /// not use the channel); an exception from it is rethrown by the co_await. The returned ref
    /// must not be held across a later co_await. Cancel safe. Pass pred as a named object (g++ 12:
    /// no capturing lambda inside a co_await expression); it is copied into the operation.
    template <class Pred>
    class [[nodiscard]] wait_for_operation : public leaf_awaiter<wait_for_operation<Pred>> {
    public:
        wait_for_operation(receiver* rx, Pred pred) noexcept(std::is_nothrow_move_constructible_v<Pred>)
            : rx_(rx), pred_(std::move(pred)) {}
        wait_for_operation(const wait_for_operation&) = delete;
        wait_for_operation& operator=(const wait_for_operation&) = delete;
        ~wait_for_operation() { cancel(); }
        /// Leaves the waiters, dropping the waker. Versions pred rejected stay seen (as a borrow
        /// would leave them); polled again, pred runs on the current version as on a first poll.
        void cancel() noexcept override {
            if (rx_->shared_) rx_->shared_->notify_rx_.remove(node_);
            checked_ = false;
        }

        bool poll(context& cx) noexcept override {
            auto* sh = rx_->shared_;
            if (!sh) {
                if (!cx.poll_budget()) return false;
                closed_ = true;
                return true;
            }
            for (;;) {
                switch (check(sh, cx)) {
                case check_result::done: return true;
                case check_result::budget_spent: return false;
                case check_result::unmet: break;
                }
                // pred is false for checked_version_: register, then re-check the word.
                sh->notify_rx_.enqueue(node_, cx.waker());
                const std::uint64_t s = sh->state_.load();
                if (detail::watch_state::version(s) != checked_version_) continue;
                if (detail::watch_state::is_closed(s)) {
                    if (!cx.poll_budget()) return false;
                    closed_ = true;
                    return true;
                }
                return false;
            }
        }

        result<ref<T>, recv_error> await_resume() {
            if (error_) std::rethrow_exception(error_);
            if (closed_) return unexpected(recv_error::closed);
            return std::move(*out_);
        }

    private:
        enum class check_result { done, budget_spent, unmet };

        // Runs pred on the current version unless it already failed on it. done: out_ or error_
        // is set. unmet: pred is false for checked_version_.
        check_result check(detail::watch_shared<T>* sh, context& cx) {
            if constexpr (detail::watch_snapshot<T>) {
                // Not a structured binding: clang 14 cannot capture one.
                const std::pair<T, std::uint64_t> snap = sh->read_snapshot();
                return check_version(detail::watch_state::version(snap.second), snap.first, cx,
                                     [&snap] { return snap.first; });
            } else {
                std::shared_lock lock(sh->value_mutex_);
                const std::uint64_t v = detail::watch_state::version(sh->state_.load());
                return check_version(v, sh->value_, cx, [&lock] { return std::move(lock); });
            }
        }
        template <class Hold>
        check_result check_version(std::uint64_t v, const T& value, context& cx, Hold hold) {
            if (checked_ && v == checked_version_) return check_result::unmet;
            if (!cx.poll_budget()) return check_result::budget_spent;
            checked_ = true;
            checked_version_ = v;
            const bool changed = rx_->mark_seen(v);
            try {
                if (pred_(value)) {
                    out_.emplace(ref<T>(hold(), detail::watch_snapshot<T> ? nullptr : &value, changed));
                    return check_result::done;
                }
            } catch (...) {
                error_ = std::current_exception();
                return check_result::done;
            }
            return check_result::unmet;
        }

        receiver* rx_;
        Pred pred_;
        detail::list_waiter node_;
        bool checked_ = false;                 // pred ran on checked_version_ and was false
        std::uint64_t checked_version_ = 0;
        bool closed_ = false;
        std::exception_ptr error_;
        std::optional<ref<T>> out_;
    };

    template <class Pred>
    [[nodiscard]] wait_for_operation<std::decay_t<Pred>> wait_for(Pred&& pred) {
        return wait_for_operation<std::decay_t<Pred>>(this, std::forward<Pred>(pred));
    }

    /// Blocking twin of wait_for(), for plain threads (not on a runtime worker).
    template <class Pred>
    result<ref<T>, recv_error> blocking_wait_for(Pred&& pred) {
        wait_for_operation<std::decay_t<Pred>> op(this, std::forward<Pred>(pred));
        ::corio::detail::blocking_poll(op);
        return op.await_resume();
    }

    /// True if both receive from the same channel.
    bool same_channel(const receiver& o) const noexcept { return shared_ == o.shared_; }

    /// The channel's counters, if it was made `with_metrics` (corio/channels/metrics.hpp).
    std::optional<channel_metrics> metrics() const noexcept {
        return shared_ ? shared_->metrics_.snapshot() : std::nullopt;
    }

private:
    friend class sender<T>;
    friend std::pair<sender<T>, receiver<T>> channel<T>(T initial, const channel_options& opts);
    receiver(detail::watch_shared<T>* s, std::uint64_t version) noexcept : shared_(s), version_(version) {}

    void retain() noexcept {
        if (shared_) {
            shared_->retain();
            shared_->rx_count_.fetch_add(1, std::memory_order_seq_cst);
        }
    }
    void drop() noexcept {
        if (auto* s = std::exchange(shared_, nullptr)) {
            // seq_cst: the notifier side of the closed() Dekker pair (watch_notify_list step 2).
            if (s->rx_count_.fetch_sub(1, std::memory_order_seq_cst) == 1) s->notify_tx_.notify_waiters();
            s->release();
        }
    }

    detail::watch_shared<T>* shared_ = nullptr;
    std::uint64_t version_ = 0;  // the last version seen; this receiver's alone
};

/// Creates a channel holding `initial` (version 0, which the returned receiver has seen).
/// `opts`: e.g. corio::with_metrics to count (corio/channels/metrics.hpp).
template <class T>
std::pair<sender<T>, receiver<T>> channel(T initial, const channel_options& opts) {
    auto* s = new detail::watch_shared<T>(std::move(initial), opts);
    return {sender<T>(s), receiver<T>(s, 0)};
}

}  // namespace watch
}  // namespace corio

template <>
struct fmt::formatter<corio::watch::recv_error> : fmt::formatter<std::string_view> {
    template <class FormatContext>
    auto format(corio::watch::recv_error e, FormatContext& ctx) const {
        return fmt::formatter<std::string_view>::format(to_string(e), ctx);
    }
};
