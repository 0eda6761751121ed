// tests/support/manual_poll.hpp — drive a leaf by hand from the test's own thread.
//
// A counting_waker is a waker whose wakes are counted instead of scheduling a task; poll_once()
// polls a leaf with it (no cooperative budget), as a worker would. With these a test can put an
// operation in a precise state (pending, granted but not yet polled, cancelled) and check what
// the leaf contract (corio/runtime/leaf.hpp) says about it: after cancel() nothing of it is
// registered (a later event does not wake it) and what it had been granted went to the next
// waiter; a cancelled leaf can be polled again.
#pragma once

#include <corio/runtime/leaf.hpp>
#include <corio/runtime/waker.hpp>

#include <atomic>

namespace corio::testing {

class counting_waker {
public:
    counting_waker() noexcept = default;
    counting_waker(const counting_waker&) = delete;
    counting_waker& operator=(const counting_waker&) = delete;

    waker_ref ref() const noexcept { return {this, &vtable_}; }
    int wakes() const noexcept { return wakes_.load(std::memory_order_acquire); }
    int clones_alive() const noexcept { return clones_.load(std::memory_order_acquire); }

private:
    static const counting_waker* of(const void* p) noexcept { return static_cast<const counting_waker*>(p); }
    // Defined after the class: the lambdas use members, so they need it complete.
    static const waker_vtable vtable_;
    mutable std::atomic<int> wakes_{0};
    mutable std::atomic<int> clones_{0};  // clones handed out and not dropped: registrations held
};

inline const waker_vtable counting_waker::vtable_ = {
    [](const void* p) noexcept -> const void* {
        of(p)->clones_.fetch_add(1, std::memory_order_acq_rel);
        return p;
    },
    [](const void* p) noexcept {
        of(p)->wakes_.fetch_add(1, std::memory_order_acq_rel);
        of(p)->clones_.fetch_sub(1, std::memory_order_acq_rel);
    },
    [](const void* p) noexcept { of(p)->wakes_.fetch_add(1, std::memory_order_acq_rel); },
    [](const void* p) noexcept { of(p)->clones_.fetch_sub(1, std::memory_order_acq_rel); },
};

/// One poll of `l` with `w`'s waker, as a worker would poll it (unlimited budget).
template <class L>
bool poll_once(L& l, const counting_waker& w) {
    context cx(w.ref(), nullptr);
    return l.poll(cx);
}

}  // namespace corio::testing
