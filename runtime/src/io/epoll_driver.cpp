#include "epoll_driver.hpp"

#include <time.h>

namespace corio::detail::io {

epoll_driver::epoll_driver(std::shared_ptr<void>& group) : reactor(backend_kind::epoll) {
    set_ = readiness_set::of_group(group);
    readiness_ = set_.get();
}

void epoll_driver::park(std::optional<std::chrono::nanoseconds> timeout) {
    // Acquire: pairs with unpark's store (an unpark before this park makes it return at once).
    const bool notified = wake_.token_.exchange(0, std::memory_order_seq_cst) != 0;
    const bool poll_only = notified || (timeout && timeout->count() <= 0);
    ::timespec ts{};
    const ::timespec* tsp = &ts;  // zero: poll
    if (!poll_only) tsp = timeout ? (ts = to_timespec(*timeout), &ts) : nullptr;
    if (set_->try_park(wake_, tsp)) {
        // Whatever woke us is served by returning. An unpark that wrote our own eventfd meanwhile
        // only makes a later private wait return early (the parker loops).
        wake_.token_.store(0, std::memory_order_relaxed);
        return;
    }
    if (poll_only) return;
    // Another worker holds the set: sleep on our own eventfd.
    own_wake_.wait(timeout);
    wake_.token_.store(0, std::memory_order_relaxed);
}

void epoll_driver::unpark() noexcept {
    if (!wake_.notify(*set_)) own_wake_.signal();
}

}  // namespace corio::detail::io
