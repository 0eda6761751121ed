// tests/support/test_event.hpp — a one-shot event that tasks await and any thread sets.
//
// `co_await ev.wait()` is ready once `ev.set()` was called. Lets a test decide the order in which
// tasks finish without sleeping. Every waiter is woken (outside the lock) by set().
#pragma once

#include <corio/runtime/leaf.hpp>
#include <corio/runtime/waker.hpp>

#include <mutex>
#include <utility>
#include <vector>

namespace corio::testing {

class test_event {
public:
    void set() {
        std::vector<std::pair<const void*, waker>> ws;
        {
            std::lock_guard lock(mutex_);
            set_ = true;
            ws.swap(waiters_);
        }
        for (auto& w : ws) std::move(w.second).wake();
    }

    class [[nodiscard]] wait_operation : public leaf_awaiter<wait_operation> {
    public:
        explicit wait_operation(test_event* ev) noexcept : ev_(ev) {}
        bool poll(context& cx) noexcept override {
            std::lock_guard lock(ev_->mutex_);
            if (ev_->set_) return true;
            ev_->waiters_.emplace_back(this, cx.waker().clone());  // spurious repolls add clones: harmless
            return false;
        }
        // Removes this operation's registrations (the leaf contract: cancel leaves none behind).
        void cancel() noexcept override {
            std::vector<waker> gone;  // dropped after unlock
            std::lock_guard lock(ev_->mutex_);
            for (auto it = ev_->waiters_.begin(); it != ev_->waiters_.end();) {
                if (it->first == this) {
                    gone.push_back(std::move(it->second));
                    it = ev_->waiters_.erase(it);
                } else {
                    ++it;
                }
            }
        }
        ~wait_operation() { cancel(); }
        void await_resume() const noexcept {}

    private:
        test_event* ev_;
    };

    wait_operation wait() noexcept { return wait_operation(this); }

private:
    std::mutex mutex_;
    bool set_ = false;             // guarded by mutex_
    std::vector<std::pair<const void*, waker>> waiters_;  // guarded by mutex_: (operation, its waker)
};

}  // namespace corio::testing
