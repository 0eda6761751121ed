// corio/channels/mpmc/detail/ring.hpp — the FIFO of values of an mpmc channel: a growable ring
// buffer (Rust's VecDeque, which flume uses; Go's hchan allocates its ring at make()).
//
// Why not std::deque: under the channel's lock every operation pays for it. deque::size() is
// computed from two iterators, push_back and pop_front check block boundaries, and every 64
// values (512-byte blocks of u64) the back allocates a block and the front frees one, usually on
// another thread. A ring is an index and a mask: in mpmc_contended the deque cost ~60 of ~540
// instructions per message (docs/design/mpmc.md, "Performance").
//
// Shape: slots_[(head_ + i) & (cap - 1)] for i < size_ hold the values, oldest first; cap is 0 or
//   a power of two. A push onto a full ring doubles it (at least min_cap), moving the values in
//   order; a bounded channel never holds more than its capacity, so its ring stops at the next
//   power of two above it. A pop that empties a ring of more than keep_cap slots frees it: an
//   unbounded channel does not keep a burst's memory for good. Growing back costs about two
//   moves per value, paid only after more than keep_cap values have been queued at once.
// Not thread-safe: the channel guards it with its mutex, except size(), which may be read from
//   any thread as a snapshot (chan::len()): size_ is an atomic written only under the mutex, with
//   relaxed plain stores (no read-modify-write: there is one writer at a time). It lives here,
//   not in a second counter beside the ring, so that the lock and everything an operation writes
//   fit in one cache line (chan.hpp, Layout). T's move constructor and destructor must
//   not throw (the channel's contract says so); an allocation failure terminates, as the deque's
//   did under the channel's noexcept functions.
#pragma once

#include <bit>
#include <cstddef>
#include <atomic>
#include <new>
#include <optional>
#include <utility>

namespace corio::detail::mpmc {

template <class T>
class ring {
public:
    ring() noexcept = default;
    ring(ring&& o) noexcept
        : slots_(std::exchange(o.slots_, nullptr)),
          cap_(std::exchange(o.cap_, 0)),
          head_(std::exchange(o.head_, 0)),
          size_(o.size_.exchange(0, std::memory_order_relaxed)) {}
    ring& operator=(ring&& o) noexcept {
        if (this != &o) {
            ring gone(std::move(*this));
            slots_ = std::exchange(o.slots_, nullptr);
            cap_ = std::exchange(o.cap_, 0);
            head_ = std::exchange(o.head_, 0);
            size_.store(o.size_.exchange(0, std::memory_order_relaxed), std::memory_order_relaxed);
        }
        return *this;
    }
    ring(const ring&) = delete;
    ring& operator=(const ring&) = delete;
    ~ring() { release(); }

    std::size_t size() const noexcept { return size_.load(std::memory_order_relaxed); }
    bool empty() const noexcept { return size() == 0; }

    void push_back(T&& v) noexcept {
        const std::size_t n = size();
        if (n == cap_) [[unlikely]]
            grow();
        ::new (static_cast<void*>(slots_ + ((head_ + n) & (cap_ - 1)))) T(std::move(v));
        size_.store(n + 1, std::memory_order_relaxed);
    }

    /// Moves the oldest value into `out` and removes it. Precondition: !empty().
    void pop_front_into(std::optional<T>& out) noexcept {
        T& front = slots_[head_];
        out.emplace(std::move(front));
        front.~T();
        head_ = (head_ + 1) & (cap_ - 1);
        const std::size_t n = size() - 1;
        size_.store(n, std::memory_order_relaxed);
        if (n == 0 && cap_ > keep_cap) [[unlikely]]
            release();
    }

private:
    static constexpr std::size_t min_cap = 16;
    static constexpr std::size_t keep_cap = 4096;

    static T* allocate(std::size_t n) {
        return static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t{alignof(T)}));
    }
    static void deallocate(T* p) noexcept { ::operator delete(static_cast<void*>(p), std::align_val_t{alignof(T)}); }

    [[gnu::noinline]] void grow() noexcept {
        const std::size_t cap = cap_ ? cap_ * 2 : min_cap;
        T* slots = allocate(cap);  // throws bad_alloc -> terminate (noexcept), as the deque did
        for (std::size_t i = 0, n = size(); i < n; ++i) {
            T& v = slots_[(head_ + i) & (cap_ - 1)];
            ::new (static_cast<void*>(slots + i)) T(std::move(v));
            v.~T();
        }
        if (slots_) deallocate(slots_);
        slots_ = slots;
        cap_ = cap;
        head_ = 0;
    }

    // Destroys the values left and frees the slots.
    void release() noexcept {
        for (std::size_t n = size(); n != 0; --n) {
            slots_[head_].~T();
            head_ = (head_ + 1) & (cap_ - 1);
        }
        size_.store(0, std::memory_order_relaxed);
        if (slots_) deallocate(std::exchange(slots_, nullptr));
        cap_ = 0;
        head_ = 0;
    }

    T* slots_ = nullptr;
    std::size_t cap_ = 0;  // 0 or a power of two
    std::size_t head_ = 0;
    std::atomic<std::size_t> size_{0};
};

}  // namespace corio::detail::mpmc
