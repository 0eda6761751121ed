#include "time_driver.hpp"

#include "../idle.hpp"
#include "../scheduler.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

namespace corio::detail {

namespace {
constexpr std::int64_t ns_per_tick = 1'000'000;  // 1 ms ticks
// Wakers collected under the lock and woken after it (Tokio's process_at_time).
constexpr std::size_t wake_batch = 32;
// While paused and some worker runs, the holder re-checks for auto-advance this often.
constexpr std::chrono::milliseconds paused_recheck{1};
}  // namespace

time_handle::time_handle(bool start_paused, const scheduler* sched)
    : base_(time::clock::now()), paused_(start_paused), sched_(sched) {}

time::instant time_handle::now() const noexcept {
    // Acquire: pairs with the release stores in pause()/resume()/advance(), so a frozen time is
    // read together with the flag that says it is frozen.
    if (paused_.load(std::memory_order_acquire))
        return base_ + std::chrono::nanoseconds(frozen_ns_.load(std::memory_order_acquire));
    const std::int64_t offset = offset_ns_.load(std::memory_order_relaxed);
    return time::clock::now() + std::chrono::nanoseconds(offset);
}

std::uint64_t time_handle::deadline_tick(time::instant t) const noexcept {
    if (t <= base_) return 0;
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t - base_).count();
    return static_cast<std::uint64_t>(ns / ns_per_tick + (ns % ns_per_tick != 0 ? 1 : 0));
}

std::uint64_t time_handle::now_tick(time::instant t) const noexcept {
    if (t <= base_) return 0;
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(t - base_).count() / ns_per_tick);
}

time::instant time_handle::tick_time(std::uint64_t tick) const noexcept {
    constexpr std::uint64_t max_ticks = std::uint64_t{1} << 42;  // ~139 years
    return base_ + std::chrono::milliseconds(static_cast<std::int64_t>(std::min(tick, max_ticks)));
}

bool time_handle::poll(timer_entry& e, time::instant deadline, waker_ref w, bool check_clock) noexcept {
    const std::uint64_t when = deadline_tick(deadline);
    if (!e.registered_ && check_clock && now_tick(now()) >= when) {
        e.fired_.store(true, std::memory_order_relaxed);  // owner-only here: never linked
        return true;
    }
    waker old;
    time_driver* to_unpark = nullptr;
    {
        std::lock_guard lock(mutex_);
        if (e.registered_) {
            // Registered, not yet seen fired by the owner: replace the waker, unless fired meanwhile.
            if (e.fired_.load(std::memory_order_relaxed)) return true;
            old = std::exchange(e.waker_, w.clone());
        } else {
            // Due already for the wheel? (The clock was checked above unless the deadline was set
            // at least a tick ahead: timeout_churn's 1 s timers skip that read.)
            if (when <= wheel_.elapsed()) {
                e.fired_.store(true, std::memory_order_relaxed);  // owner-only here: never linked
                return true;
            }
            e.when_ = when;
            e.waker_ = w.clone();
            wheel_.insert(&e);
            e.registered_ = true;
            if (when < next_expiration_hint_.load(std::memory_order_relaxed))
                next_expiration_hint_.store(when, std::memory_order_relaxed);
            if (holder_) {
                if (when < next_wake_) {  // earlier than the holder planned: it must re-plan
                    to_unpark = holder_;
                    next_wake_ = when;
                }
            } else if (!waiting_.empty()) {  // nobody sleeps on the wheel: promote a waiter
                to_unpark = waiting_.back();
                waiting_.pop_back();
            }
        }
    }
    e.waker_data_ = w.data();
    e.waker_vt_ = w.vtable();
    if (to_unpark) to_unpark->unpark();
    return false;  // `old` is dropped here, outside the lock (dropping may free a task)
}

void time_handle::cancel(timer_entry& e) noexcept {
    waker w;
    {
        std::lock_guard lock(mutex_);
        // Lifetime: after this unlock no firer can reach the entry (it is unlinked, or it was
        // fired and the firer moved its waker out under this mutex before we got it).
        wheel_.remove(&e);
        w = std::move(e.waker_);
    }
    e.registered_ = false;
}

void time_handle::reset(timer_entry& e, time::instant deadline) noexcept {
    // Acquire: a fired entry is the owner's again (timer_entry.hpp).
    if (e.fired_.load(std::memory_order_acquire) || !e.registered_) {
        e.fired_.store(false, std::memory_order_relaxed);
        e.registered_ = false;
        e.waker_data_ = nullptr;
        e.waker_vt_ = nullptr;
        return;
    }
    const std::uint64_t when = deadline_tick(deadline);
    time_driver* to_unpark = nullptr;
    {
        std::lock_guard lock(mutex_);
        if (e.fired_.load(std::memory_order_relaxed)) {
            // Fired while we were getting here: re-arm as unregistered.
            e.fired_.store(false, std::memory_order_relaxed);
            e.registered_ = false;
        } else {
            wheel_.remove(&e);
            e.when_ = when;
            wheel_.insert(&e);  // a deadline at or before elapsed goes to the pending list
            if (when < next_expiration_hint_.load(std::memory_order_relaxed))
                next_expiration_hint_.store(when, std::memory_order_relaxed);
            if (holder_) {
                if (when < next_wake_) {
                    to_unpark = holder_;
                    next_wake_ = when;
                }
            } else if (!waiting_.empty()) {
                to_unpark = waiting_.back();
                waiting_.pop_back();
            }
        }
    }
    if (!e.registered_) {
        e.waker_data_ = nullptr;
        e.waker_vt_ = nullptr;
    }
    if (to_unpark) to_unpark->unpark();
}

void time_handle::process(std::uint64_t now_tick) noexcept {
    std::unique_lock lock(mutex_);
    process_locked(lock, now_tick);
}

void time_handle::process_locked(std::unique_lock<std::mutex>& lock, std::uint64_t now_tick) noexcept {
    // Time going backwards (a VM's clock) is clamped inside wheel::poll, which never moves back.
    timer_entry* e = wheel_.poll(now_tick);
    if (!e) {
        // Nothing due: the common case at every park of a busy server. No batch to set up.
        const auto next = wheel_.next_expiration();
        next_expiration_hint_.store(next ? *next : never, std::memory_order_relaxed);
        lock.unlock();
        return;
    }
    std::array<waker, wake_batch> batch;
    std::size_t n = 0;
    wakes_in_flight_.fetch_add(1, std::memory_order_relaxed);  // under mutex_
    for (; e; e = wheel_.poll(now_tick)) {
        batch[n++] = std::move(e->waker_);
        // Release: our last access to the entry; the owner may free it once it sees this.
        e->fired_.store(true, std::memory_order_release);
        if (n == wake_batch) {
            // Never wake under the wheel lock (a woken task may be polled on another worker
            // at once and touch the wheel). Entries still pending stay linked in the wheel's
            // pending list, so a cancel meanwhile unlinks them there.
            lock.unlock();
            for (auto& w : batch) std::move(w).wake();
            n = 0;
            lock.lock();
        }
    }
    const auto next = wheel_.next_expiration();
    next_expiration_hint_.store(next ? *next : never, std::memory_order_relaxed);
    lock.unlock();
    for (std::size_t i = 0; i < n; ++i) std::move(batch[i]).wake();
    // Release: the woken tasks are queued before an auto-advance can see 0 here.
    wakes_in_flight_.fetch_sub(1, std::memory_order_release);
}

void time_handle::process_if_due() noexcept {
    const std::uint64_t hint = next_expiration_hint_.load(std::memory_order_relaxed);
    if (hint == never) return;
    const std::uint64_t t = now_tick(now());
    if (t >= hint) process(t);
}

void time_handle::pause() {
    std::lock_guard lock(mutex_);
    if (paused_.load(std::memory_order_relaxed)) throw std::logic_error("corio::time::pause: the clock is already paused");
    const auto n = std::chrono::duration_cast<std::chrono::nanoseconds>(now() - base_).count();
    frozen_ns_.store(n, std::memory_order_relaxed);
    paused_.store(true, std::memory_order_release);
}

void time_handle::resume() {
    std::lock_guard lock(mutex_);
    if (!paused_.load(std::memory_order_relaxed)) throw std::logic_error("corio::time::resume: the clock is not paused");
    const auto real = std::chrono::duration_cast<std::chrono::nanoseconds>(time::clock::now() - base_).count();
    offset_ns_.store(frozen_ns_.load(std::memory_order_relaxed) - real, std::memory_order_relaxed);
    paused_.store(false, std::memory_order_release);
}

void time_handle::advance(std::chrono::nanoseconds d) {
    std::uint64_t t;
    {
        std::lock_guard lock(mutex_);
        if (!paused_.load(std::memory_order_relaxed)) throw std::logic_error("corio::time::advance: the clock is not paused");
        const std::int64_t f = frozen_ns_.load(std::memory_order_relaxed) + std::max<std::int64_t>(d.count(), 0);
        frozen_ns_.store(f, std::memory_order_release);
        t = static_cast<std::uint64_t>(f / ns_per_tick);
    }
    process(t);
}

// --- time_driver ------------------------------------------------------------------------------

void time_driver::park(std::optional<std::chrono::nanoseconds> timeout) {
    if (timeout && timeout->count() <= 0) {
        // Maintenance poll from a busy worker.
        inner_->park(timeout);
        handle_.process_if_due();
        return;
    }
    std::optional<std::uint64_t> next;
    bool holder = false;
    {
        std::lock_guard lock(handle_.mutex_);
        if (!handle_.holder_claimed_) {
            handle_.holder_claimed_ = true;
            handle_.holder_ = this;
            holder = true;
            next = handle_.wheel_.next_expiration();
            handle_.next_wake_ = next ? *next : time_handle::never;
        } else {
            handle_.waiting_.push_back(this);
        }
    }
    if (holder) {
        park_as_holder(timeout, next);
        return;
    }
    inner_->park(timeout);
    {
        std::lock_guard lock(handle_.mutex_);
        auto& w = handle_.waiting_;
        if (auto it = std::find(w.begin(), w.end(), this); it != w.end()) {
            *it = w.back();
            w.pop_back();
        }
    }
    handle_.process_if_due();
}

void time_driver::park_as_holder(std::optional<std::chrono::nanoseconds> timeout, std::optional<std::uint64_t> next) {
    time_handle& h = handle_;
    if (!next) {
        inner_->park(timeout);
    } else if (*next <= h.now_tick(h.now())) {
        inner_->park(std::chrono::nanoseconds(0));  // already due: just fire it
    } else if (h.is_paused()) {
        if (h.sched_ && h.sched_->can_auto_advance()) {
            // Every worker is parked, no task is queued and no spawn_blocking job is outstanding:
            // nothing can happen before the next timer but an unpark. (The parked count alone is not enough: the last worker to
            // park counts itself parked before it re-checks the queues, and a task a timer just
            // woke may sit in a queue meanwhile; advancing then fired a later timer before it.)
            inner_->park(std::chrono::nanoseconds(0));
            // Acq_rel: pairs with the release store in unpark().
            if (!woken_.exchange(false, std::memory_order_acq_rel)) {
                std::lock_guard lock(h.mutex_);
                // Re-checked under the wheel lock, where no firing can start: a firer that took
                // entries out and has not yet queued their tasks (it wakes after unlocking)
                // holds wakes_in_flight_ up; once it is 0 (acquire: pairs with the firer's
                // release) its tasks are in the queues that is_quiescent reads.
                const auto fresh = h.wheel_.next_expiration();
                if (fresh && h.wakes_in_flight_.load(std::memory_order_acquire) == 0 && h.sched_->can_auto_advance()) {
                    const auto target = static_cast<std::int64_t>(std::min(*fresh, std::uint64_t{1} << 42)) * ns_per_tick;
                    if (h.paused_.load(std::memory_order_relaxed) && target > h.frozen_ns_.load(std::memory_order_relaxed))
                        h.frozen_ns_.store(target, std::memory_order_release);
                }
            }
        } else {
            auto d = std::chrono::nanoseconds(paused_recheck);
            if (timeout) d = std::min(d, *timeout);
            inner_->park(d);
        }
    } else {
        auto d = std::chrono::duration_cast<std::chrono::nanoseconds>(h.tick_time(*next) - h.now());
        if (timeout) d = std::min(d, *timeout);
        inner_->park(d.count() > 0 ? d : std::chrono::nanoseconds(0));
    }
    std::unique_lock lock(h.mutex_);
    h.holder_claimed_ = false;
    h.holder_ = nullptr;
    h.next_wake_ = time_handle::never;
    time_driver* handover = nullptr;
    if (!h.waiting_.empty() && !h.wheel_.is_empty()) {
        // Protocol step 3: we may go and run a long task; someone must sleep on the wheel.
        handover = h.waiting_.back();
        h.waiting_.pop_back();
    }
    h.process_locked(lock, h.now_tick(h.now()));
    if (handover) handover->unpark();
}

// --- the public face --------------------------------------------------------------------------

time_handle* current_time_handle() noexcept {
    worker* w = current_worker();
    return w ? &w->sched_.time_ : nullptr;
}

time::instant time_now(time_handle* h) noexcept { return h ? h->now() : time::clock::now(); }

bool timer_poll(time_handle*& h, timer_entry& e, time::instant deadline, waker_ref w, bool check_clock) noexcept {
    if (!h) {
        h = current_time_handle();
        if (!h) {
            std::fputs("corio: a sleep or timeout was polled outside a corio runtime\n", stderr);
            std::abort();
        }
    }
    return h->poll(e, deadline, w, check_clock);
}

void timer_cancel(time_handle* h, timer_entry& e) noexcept { h->cancel(e); }

void timer_reset(time_handle* h, timer_entry& e, time::instant deadline) noexcept {
    if (!h) {  // never polled: nothing registered, just re-arm
        e.fired_.store(false, std::memory_order_relaxed);
        e.registered_ = false;
        return;
    }
    h->reset(e, deadline);
}

namespace {
time_handle& require_time_handle(const char* what) {
    time_handle* h = current_time_handle();
    if (!h) throw std::logic_error(std::string(what) + " called outside a corio runtime");
    return *h;
}
}  // namespace

void time_pause() { require_time_handle("corio::time::pause").pause(); }
void time_resume() { require_time_handle("corio::time::resume").resume(); }
void time_advance(std::chrono::nanoseconds d) { require_time_handle("corio::time::advance").advance(d); }

std::size_t time_handle::armed_timers() {
    std::lock_guard lock(mutex_);
    return wheel_.size();
}

}  // namespace corio::detail
