// tests/support/pending_forever.hpp — a leaf that never becomes ready, and counts its destruction.
//
// `co_await corio::testing::pending_forever(&destroyed);` parks the task for good; the only way
// out is cancellation (abort, runtime shutdown), which destroys the awaiter and increments
// `*destroyed`. `*polled` (optional) counts polls, so a test can wait until the task is parked.
#pragma once

#include <corio/runtime/leaf.hpp>
#include <corio/runtime/waker.hpp>

#include <atomic>

namespace corio::testing {

class [[nodiscard]] pending_forever : public leaf_awaiter<pending_forever> {
public:
    explicit pending_forever(std::atomic<int>* destroyed, std::atomic<int>* polled = nullptr) noexcept
        : destroyed_(destroyed), polled_(polled) {}
    pending_forever(const pending_forever&) = delete;
    pending_forever& operator=(const pending_forever&) = delete;
    ~pending_forever() {
        if (destroyed_) destroyed_->fetch_add(1, std::memory_order_acq_rel);
    }

    bool poll(context& cx) noexcept override {
        waker_.set(cx.waker());  // kept, never woken: the task is parked until cancelled
        if (polled_) polled_->fetch_add(1, std::memory_order_acq_rel);
        return false;
    }
    void cancel() noexcept override { waker_.reset(); }
    void await_resume() const noexcept {}

private:
    std::atomic<int>* destroyed_;
    std::atomic<int>* polled_;
    waker waker_;
};

}  // namespace corio::testing
