// corio_consumer — links the installed corio::corio and runs a tiny block_on.
#include <corio/runtime/join_handle.hpp>
#include <corio/runtime/runtime.hpp>
#include <corio/runtime/task.hpp>
#include <corio/runtime/yield_now.hpp>

#include <cstdio>

namespace {

corio::task<int> square(int x) {
    co_await corio::yield_now();
    co_return x * x;
}

corio::task<int> sum_of_squares(int n) {
    int sum = 0;
    for (int i = 1; i <= n; ++i) {
        corio::join_handle<int> h = corio::spawn(square(i));
        int v = (co_await h).value();
        sum += v;
    }
    co_return sum;
}

}  // namespace

int main() {
    corio::runtime rt({.worker_threads = 2});
    int got = rt.block_on(sum_of_squares(10));
    if (got != 385) {
        std::fprintf(stderr, "corio_consumer: expected 385, got %d\n", got);
        return 1;
    }
    std::printf("corio_consumer: ok (%d)\n", got);
    return 0;
}
