/// \file
/// corio/channels/metrics.hpp — built-in channel metrics, off by default and free when off.
///
///     auto [tx, rx] = corio::mpsc::channel<job>(256, corio::with_metrics);
///     ...
///     if (auto m = tx.metrics()) fmt::print("sent={} received={} dropped={} high_water={}\n",
///                                           m->sent, m->received, m->dropped, m->high_water);
///
/// A channel made without `with_metrics` has no counter block: every hook is one test of a null
/// pointer that lives in a cache line the operation touches anyway, so the cost when off is a
/// predicted branch (docs/performance.md). With metrics on, each operation adds one relaxed
/// fetch_add on the counter block, which is split into a producer line and a consumer line so
/// that counting does not add a cache-line ping-pong of its own between the two sides.
///
/// What each counter means, per channel kind (docs/channels.md has the table):
///   sent        messages that entered the channel (mpsc: pushed; broadcast: send() that found
///               receivers; watch: versions published; oneshot: a successful send).
///   received    messages handed to a receiver (broadcast: one per receiver copy;
///               watch: versions a receiver observed with changed()/borrow_and_update()).
///   dropped     messages that did not reach a receiver: try_send on a full or closed channel,
///               send / send_timeout that failed or timed out (the value handed back counts too:
///               it never entered the channel), values still queued when the receiver went away,
///               broadcast/watch sends that found no receiver, a oneshot value never received.
///   lagged      broadcast only: messages receivers skipped because they fell behind (the sum of
///               every recv_error::lagged count).
///   high_water  the largest length seen at a send (mpsc: queued + reserved; broadcast: values
///               retained in the ring). Sampled by the sender after it pushes, so concurrent
///               receives may make it read slightly high, never low. 0 for watch and oneshot.
/// fmt: fmt::format("{}", *m) == "sent=12 received=10 dropped=2 lagged=0 high_water=4".
/// Counters are monotonic and read relaxed: a snapshot is consistent per counter, not across
/// counters (received may briefly exceed what sent showed a moment earlier).
#pragma once

#include <fmt/format.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>

namespace corio {

/// A snapshot of a channel's counters.
struct channel_metrics {
    /// Messages that entered the channel (mpsc: pushed; broadcast: a send() that found receivers;
    /// watch: versions published; oneshot: a successful send).
    std::uint64_t sent = 0;
    /// Messages handed to a receiver (broadcast: one per receiver's copy; watch: versions a
    /// receiver observed).
    std::uint64_t received = 0;
    /// Messages that never reached a receiver: failed or timed-out sends (the value handed back
    /// counts), values queued when the receiver went away, sends that found no receiver.
    std::uint64_t dropped = 0;
    /// Broadcast only: values receivers skipped because they fell behind (the sum of the
    /// recv_error::lagged counts).
    std::uint64_t lagged = 0;
    /// The largest length seen at a send (mpsc: queued plus reserved; broadcast: values retained);
    /// may read slightly high, never low. 0 for watch and oneshot.
    std::uint64_t high_water = 0;
};

/// Options for a channel's factory function.
struct channel_options {
    /// Count the channel's traffic (channel_metrics); off by default, and free when off.
    bool metrics = false;
};

/// `mpsc::channel<T>(cap, corio::with_metrics)`: a channel that counts.
inline constexpr channel_options with_metrics{true};

namespace detail {

// The counter block. Producers write the first line, consumers the second; all increments are
// relaxed (counters order nothing: the channel's own synchronization orders the messages).
class channel_counters {
public:
    void on_sent(std::uint64_t n = 1) noexcept { sent_.fetch_add(n, std::memory_order_relaxed); }
    void on_dropped(std::uint64_t n = 1) noexcept { dropped_.fetch_add(n, std::memory_order_relaxed); }
    void on_received(std::uint64_t n = 1) noexcept { received_.fetch_add(n, std::memory_order_relaxed); }
    void on_lagged(std::uint64_t n) noexcept { lagged_.fetch_add(n, std::memory_order_relaxed); }
    // Raises high_water to `len` if it is higher. A plain load first: at a steady length the
    // line is only read, so producers don't contend on it.
    void observe_len(std::uint64_t len) noexcept {
        std::uint64_t cur = high_water_.load(std::memory_order_relaxed);
        while (len > cur && !high_water_.compare_exchange_weak(cur, len, std::memory_order_relaxed)) {
        }
    }

    channel_metrics snapshot() const noexcept {
        channel_metrics m;
        m.sent = sent_.load(std::memory_order_relaxed);
        m.received = received_.load(std::memory_order_relaxed);
        m.dropped = dropped_.load(std::memory_order_relaxed);
        m.lagged = lagged_.load(std::memory_order_relaxed);
        m.high_water = high_water_.load(std::memory_order_relaxed);
        return m;
    }

private:
    alignas(64) std::atomic<std::uint64_t> sent_{0};
    std::atomic<std::uint64_t> dropped_{0};
    std::atomic<std::uint64_t> high_water_{0};
    alignas(64) std::atomic<std::uint64_t> received_{0};
    std::atomic<std::uint64_t> lagged_{0};
};

/// Held by a channel's shared state: null when metrics are off. Every hook is a null test.
class metrics_slot {
public:
    explicit metrics_slot(const channel_options& o)
        : counters_(o.metrics ? std::make_unique<channel_counters>() : nullptr) {}

    channel_counters* get() const noexcept { return counters_.get(); }
    std::optional<channel_metrics> snapshot() const noexcept {
        if (!counters_) return std::nullopt;
        return counters_->snapshot();
    }

    void sent(std::uint64_t n = 1) const noexcept {
        if (counters_) [[unlikely]] counters_->on_sent(n);
    }
    // `len` is a callable: the length is read only when metrics are on.
    template <class Len>
    void sent_with_len(Len&& len) const noexcept {
        if (counters_) [[unlikely]] {
            counters_->on_sent();
            counters_->observe_len(static_cast<std::uint64_t>(len()));
        }
    }
    void dropped(std::uint64_t n = 1) const noexcept {
        if (counters_) [[unlikely]] counters_->on_dropped(n);
    }
    void received(std::uint64_t n = 1) const noexcept {
        if (counters_) [[unlikely]] counters_->on_received(n);
    }
    void lagged(std::uint64_t n) const noexcept {
        if (counters_) [[unlikely]] counters_->on_lagged(n);
    }

private:
    std::unique_ptr<channel_counters> counters_;
};

}  // namespace detail
}  // namespace corio

template <>
struct fmt::formatter<corio::channel_metrics> {
    constexpr auto parse(fmt::format_parse_context& ctx) { return ctx.begin(); }

    template <class FormatContext>
    auto format(const corio::channel_metrics& m, FormatContext& ctx) const {
        return fmt::format_to(ctx.out(), "sent={} received={} dropped={} lagged={} high_water={}", m.sent, m.received,
                              m.dropped, m.lagged, m.high_water);
    }
};
