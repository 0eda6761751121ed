// select_test_support.hpp — what the select tests share: polling a select by hand (no runtime)
// a bounded wait for a condition another thread makes true, and a value sent a little later.
#pragma once

#include "support/manual_poll.hpp"

#include <corio/channels/mpsc.hpp>
#include <corio/runtime/task.hpp>
#include <corio/runtime/time.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <thread>
#include <utility>

namespace corio::testing {

// Polls `op` (pending), runs `between`, polls again (ready), and returns the result. Called in
// the full-expression that builds `op`, so the temporaries its branches point at are alive.
template <class Op, class F>
auto pending_then(Op&& op, F between) {
    counting_waker& w = new_waker();  // a losing oneshot receive may keep its clone (manual_poll.hpp)
    EXPECT_FALSE(poll_once(op, w)) << "the select should be pending before `between`";
    between();
    EXPECT_TRUE(poll_once(op, w)) << "the select should be ready after `between`";
    return op.await_resume();
}

// True once `pred` holds; false after `limit` (a hang bound, not a timing assertion).
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = std::chrono::milliseconds(5000)) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (!pred()) {
        if (std::chrono::steady_clock::now() > end) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
}

// Sends `v` on `tx` after 5 ms (a value that arrives while a select waits).
inline corio::task<void> send_later(corio::mpsc::sender<int> tx, int v) {
    co_await corio::sleep(std::chrono::milliseconds(5));
    (void)co_await tx.send(v);
}

}  // namespace corio::testing
