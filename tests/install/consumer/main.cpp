// corio_consumer — links the installed corio::corio and runs a tiny block_on. It also formats
// corio types with fmt: the installed headers carry the formatters, and find_package(corio)
// must bring fmt in (the consumer links nothing but corio::corio).
#include <corio/runtime/join_handle.hpp>
#include <corio/runtime/runtime.hpp>
#include <corio/runtime/task.hpp>
#include <corio/runtime/yield_now.hpp>

#include <fmt/core.h>

#include <string>

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
        fmt::print(stderr, "corio_consumer: expected 385, got {}\n", got);
        return 1;
    }
    const std::string err = fmt::format("{}", corio::join_error::cancelled(3));
    if (err != "task 3 was cancelled") {
        fmt::print(stderr, "corio_consumer: join_error formatted as '{}'\n", err);
        return 1;
    }
    fmt::print("corio_consumer: ok ({}) with {}\n", got, corio::runtime_options{.worker_threads = 2});
    return 0;
}
