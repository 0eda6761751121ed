// corio/channels/watch/detail/shared.hpp — the one allocation of a watch channel: the value (under
// an rw_lock, or in a seqlock for small trivially copyable T), the version word, the two waiter
// lists and the receiver count.
#pragma once

#include <corio/channels/detail/rw_lock.hpp>
#include <corio/channels/metrics.hpp>
#include <corio/channels/watch/detail/notify_list.hpp>
#include <corio/channels/watch/detail/state.hpp>

#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <thread>
#include <type_traits>
#include <utility>

namespace corio::detail {

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

}  // namespace corio::detail
