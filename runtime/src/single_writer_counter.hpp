// single_writer_counter: a count that one thread writes and any thread may read (the figures
// behind runtime::metrics(): a worker's counters, a ring's operations in flight).
//
// Writer:   one thread at a time (the owner says which, next to the member).
// Encoding: a relaxed atomic updated with a load and a store, not a fetch_add: no locked
//           instruction, so the writer pays what a plain integer costs. Readers see the value
//           whole, never torn; a value read together with another counter is not one instant.
#pragma once

#include <atomic>
#include <cstdint>

namespace corio::detail {

class single_writer_counter {
public:
    void add(std::uint64_t n = 1) noexcept { v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
    void sub(std::uint64_t n = 1) noexcept { v_.store(v_.load(std::memory_order_relaxed) - n, std::memory_order_relaxed); }
    std::uint64_t get() const noexcept { return v_.load(std::memory_order_relaxed); }

private:
    std::atomic<std::uint64_t> v_{0};
};

}  // namespace corio::detail
