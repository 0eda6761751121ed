/// \file
/// corio/channels/mpsc/unbounded.hpp — the unbounded channel's handles (Tokio's
/// sync/mpsc/unbounded.rs): unbounded_sender (send never waits), weak_unbounded_sender, and
/// unbounded_channel(). In place of capacity the channel counts messages in flight
/// (mpsc/detail/chan.hpp, unbounded_state_). See corio/channels/mpsc.hpp for the contract.
#pragma once

#include <corio/channels/error.hpp>
#include <corio/channels/metrics.hpp>
#include <corio/channels/mpsc/detail/chan.hpp>
#include <corio/channels/mpsc/detail/sender_base.hpp>
#include <corio/channels/mpsc/fwd.hpp>
#include <corio/channels/mpsc/receiver.hpp>
#include <corio/result.hpp>

#include <cassert>
#include <limits>
#include <optional>
#include <utility>

namespace corio::mpsc {

/// The sending half of an unbounded channel. Copyable; send() never waits.
template <class T>
class unbounded_sender : public detail::sender_base<T> {
    using base = detail::sender_base<T>;
    using base::chan_;

public:
    unbounded_sender() noexcept = default;

    /// Queues v, or hands it back if the receiver is gone or closed. Never waits.
    result<void, send_error<T>> send(T value) {
        assert(chan_ && "mpsc unbounded_sender: send on an empty sender");
        if (!chan_->try_inc_unbounded()) {
            chan_->metrics().dropped();
            return unexpected(send_error<T>(std::move(value)));
        }
        chan_->push(std::move(value));
        return {};
    }

    /// A handle that does not keep the channel open; upgrade() gives a sender back while any sender
    /// is alive.
    weak_unbounded_sender<T> downgrade() const noexcept { return weak_unbounded_sender<T>(chan_); }

private:
    friend std::pair<unbounded_sender<T>, receiver<T>> unbounded_channel<T>(const channel_options&);
    friend class weak_unbounded_sender<T>;
    explicit unbounded_sender(detail::chan<T>* c) noexcept : base(c) {}
};

/// An unbounded sender that does not keep the channel open (Tokio's WeakUnboundedSender).
template <class T>
class weak_unbounded_sender : public detail::weak_base<T> {
    using detail::weak_base<T>::chan_;

public:
    weak_unbounded_sender() noexcept = default;
    /// A strong sender, unless every strong sender is already gone.
    std::optional<unbounded_sender<T>> upgrade() const noexcept {
        if (!chan_ || !chan_->try_upgrade()) return std::nullopt;
        chan_->retain();
        return unbounded_sender<T>(chan_);
    }

private:
    friend class unbounded_sender<T>;
    explicit weak_unbounded_sender(detail::chan<T>* c) noexcept : detail::weak_base<T>(c) {}
};

/// A channel without capacity limit: sends never wait (memory is the limit).
template <class T>
std::pair<unbounded_sender<T>, receiver<T>> unbounded_channel(const channel_options& opts) {
    auto* c = new detail::chan<T>(false, std::numeric_limits<std::size_t>::max(), opts);
    return {unbounded_sender<T>(c), receiver<T>(c)};
}

}  // namespace corio::mpsc
