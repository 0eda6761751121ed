// corio/stream/detail/op_slot.hpp — storage for an operation that a stream keeps between polls.
//
// Leaves are built in place from a factory's prvalue (they need not be movable, and are pinned
// once polled: a waiter list or the timer wheel points at them). A stream keeps its in-flight
// operation (a broadcast recv, a watch changed(), a deadline) in an op_slot and destroys it when
// the operation completes or the stream goes away; destroying a pending operation unregisters it
// and gives back what it reserved (cancel safety). Same idea as corio::detail::leaf_slot; this
// one names the destructor it calls, so clang's -Wdelete-non-abstract-non-virtual-dtor stays
// quiet for leaf types that are not final.
#pragma once

#include <new>
#include <utility>

namespace corio::stream::detail {

template <class L>
class op_slot {
public:
    op_slot() noexcept = default;
    op_slot(const op_slot&) = delete;
    op_slot& operator=(const op_slot&) = delete;
    ~op_slot() { reset(); }

    template <class F>
    void emplace(F&& make) {
        ::new (static_cast<void*>(buf_)) L(std::forward<F>(make)());  // prvalue: no move
        live_ = true;
    }
    void reset() noexcept {
        if (live_) {
            live_ = false;
            get()->L::~L();
        }
    }
    explicit operator bool() const noexcept { return live_; }
    L* get() noexcept { return std::launder(reinterpret_cast<L*>(buf_)); }
    const L* get() const noexcept { return std::launder(reinterpret_cast<const L*>(buf_)); }
    L* operator->() noexcept { return get(); }
    const L* operator->() const noexcept { return get(); }

private:
    alignas(L) unsigned char buf_[sizeof(L)];
    bool live_ = false;
};

}  // namespace corio::stream::detail
