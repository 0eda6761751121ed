// tests/model/queue_item.hpp — what the run-queue model tests queue: a task header that is never
// run, carrying a payload the pushing thread writes just before it queues the item and the
// taking thread reads, so that a queue that hands an item over without a happens-before edge is
// a data race on the payload, and a count of how often it was taken out.
#pragma once

#include "model.hpp"

#include <corio/runtime/detail/task_header.hpp>

namespace corio::model {

class queue_item final : public detail::task_header {
public:
    explicit queue_item(int id = 0) : payload_(-1), id_(id) {}
    void set_id(int id) noexcept { id_ = id; }

    void store_output_and_destroy_frame() noexcept override {}
    void cancel_and_destroy_frame() noexcept override {}
    void drop_output() noexcept override {}

    // The pushing thread, before it queues the item.
    void publish() { payload_($) = id_; }

    // The thread that took the item out of a queue.
    void take() {
        MODEL_REQUIRE(payload_($).load() == id_, "an item was taken before its push published it");
        MODEL_REQUIRE(taken_.fetch_add(1, std::memory_order_relaxed) == 0, "an item was taken twice");
    }
    int times_taken() const noexcept { return taken_.load(std::memory_order_relaxed); }

private:
    rl::var<int> payload_;
    detail::atomic<int> taken_{0};
    int id_;
};

}  // namespace corio::model
