/// \file
/// corio/channels/broadcast/sender.hpp — the sending half of a broadcast channel: send(),
/// subscribe(). See corio/channels/broadcast.hpp for the contract.
#pragma once

#include <corio/channels/broadcast/detail/shared.hpp>
#include <corio/channels/broadcast/error.hpp>
#include <corio/channels/broadcast/fwd.hpp>
#include <corio/channels/broadcast/receiver.hpp>
#include <corio/channels/metrics.hpp>
#include <corio/result.hpp>

#include <atomic>
#include <cassert>
#include <cstddef>
#include <mutex>
#include <optional>
#include <utility>

namespace corio::broadcast {

/// The sending half. Copyable; the channel closes when the last sender is destroyed.
template <class T>
class sender {
public:
    sender() noexcept = default;
    /// Another sender on the same channel; the channel stays open while any sender lives.
    sender(const sender& o) noexcept : shared_(o.shared_) { retain(); }
    /// Moves the handle; `o` is left empty and the sender count does not change.
    sender(sender&& o) noexcept : shared_(std::exchange(o.shared_, nullptr)) {}
    /// Drops this handle (closing the channel if it was the last sender), then shares `o`'s channel.
    sender& operator=(const sender& o) noexcept {
        if (this != &o) {
            drop();
            shared_ = o.shared_;
            retain();
        }
        return *this;
    }
    /// Drops this handle (closing the channel if it was the last sender), then takes over `o`.
    sender& operator=(sender&& o) noexcept {
        if (this != &o) {
            drop();
            shared_ = std::exchange(o.shared_, nullptr);
        }
        return *this;
    }
    ~sender() { drop(); }

    /// False for a default-constructed or moved-from sender.
    explicit operator bool() const noexcept { return shared_ != nullptr; }

    /// Sends `value` to every current receiver; yields how many there are. Fails, handing the
    /// value back, when there are none. Never waits: the oldest value is overwritten (receivers
    /// that had not read it will see lagged). Precondition (all sender operations): non-empty.
    result<std::size_t, send_error<T>> send(T value) {
        assert(shared_);
        const std::size_t n = shared_->send(value);
        if (n == 0) return unexpected(send_error<T>(std::move(value)));
        return n;
    }

    /// A receiver of every value sent from now on; with replay(n) (broadcast/replay.hpp), of the
    /// last n values sent first (fewer if fewer were sent), then of every value sent from now on.
    [[nodiscard]] receiver<T> subscribe() const noexcept {
        assert(shared_);
        shared_->retain();
        return receiver<T>(shared_, shared_->add_receiver());
    }

    /// How many receivers would get a value sent now.
    std::size_t receiver_count() const noexcept {
        assert(shared_);
        std::lock_guard lock(shared_->tail_mutex_);
        return shared_->tail_.rx_cnt;
    }

    /// True if both handles are senders of the same channel.
    bool same_channel(const sender& o) const noexcept { return shared_ == o.shared_; }

    /// The channel's counters, if it was made `with_metrics` (corio/channels/metrics.hpp).
    std::optional<channel_metrics> metrics() const noexcept {
        return shared_ ? shared_->metrics_.snapshot() : std::nullopt;
    }

private:
    friend std::pair<sender<T>, receiver<T>> channel<T>(std::size_t capacity, replay history,
                                                       const channel_options& opts);
    explicit sender(detail::broadcast_shared<T>* s) noexcept : shared_(s) {}

    void retain() noexcept {
        if (shared_) {
            shared_->retain();
            // Relaxed: made from a live sender, so the count cannot be 0 meanwhile.
            shared_->num_tx_.fetch_add(1, std::memory_order_relaxed);
        }
    }
    void drop() noexcept {
        if (auto* s = std::exchange(shared_, nullptr)) {
            if (s->num_tx_.fetch_sub(1, std::memory_order_acq_rel) == 1) s->close();
            s->release();
        }
    }

    detail::broadcast_shared<T>* shared_ = nullptr;
};

}  // namespace corio::broadcast
