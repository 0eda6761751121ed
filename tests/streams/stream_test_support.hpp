// stream_test_support.hpp — what the stream tests share: a paused runtime and collect().
#pragma once

#include <corio/runtime/runtime.hpp>
#include <corio/runtime/task.hpp>
#include <corio/runtime/time.hpp>
#include <corio/stream/stream.hpp>

#include <chrono>
#include <vector>

namespace corio::testing {

// One worker and a paused clock: virtual time moves only when every task waits on a timer, so
// orders and instants are exact.
inline runtime_options paused_runtime() {
    runtime_options o;
    o.worker_threads = 1;
    o.start_paused = true;
    return o;
}

// Every item of s, until it ends.
template <class S>
task<std::vector<stream::item_t<S>>> collect(S& s) {
    std::vector<stream::item_t<S>> out;
    while (auto v = co_await s.next()) out.push_back(std::move(*v));
    co_return out;
}

// Milliseconds of the runtime's clock since t0.
inline long ms_since(time::instant t0) {
    return static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(time::now() - t0).count());
}

}  // namespace corio::testing
