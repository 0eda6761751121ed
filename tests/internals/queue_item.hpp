// internals/queue_item.hpp — what the run-queue tests queue: a task header that is never run,
// with an id, and a count of how often it was taken out of a queue (exactly once is the rule).
#pragma once

#include <corio/runtime/detail/task_header.hpp>

#include <atomic>
#include <memory>
#include <vector>

namespace corio::testing {

class queue_item final : public detail::task_header {
public:
    explicit queue_item(int id) noexcept : id_(id) {}

    void store_output_and_destroy_frame() noexcept override {}
    void cancel_and_destroy_frame() noexcept override {}
    void drop_output() noexcept override {}

    int id() const noexcept { return id_; }
    // Relaxed: the count is read after the threads that take items are joined.
    void taken() noexcept { taken_.fetch_add(1, std::memory_order_relaxed); }
    int times_taken() const noexcept { return taken_.load(std::memory_order_relaxed); }

private:
    int id_;
    std::atomic<int> taken_{0};
};

inline std::vector<std::unique_ptr<queue_item>> make_items(int n) {
    std::vector<std::unique_ptr<queue_item>> v;
    v.reserve(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) v.push_back(std::make_unique<queue_item>(i));
    return v;
}

inline int id_of(detail::task_header* t) { return t ? static_cast<queue_item*>(t)->id() : -1; }

}  // namespace corio::testing
