// spawn_many, spawn_join, yield_many, chained_spawn (docs/workloads.md).
#include "workload.hpp"

#include <corio/channels/oneshot.hpp>
#include <corio/runtime/runtime.hpp>
#include <corio/runtime/yield_now.hpp>

#include <fmt/format.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace {

using bench::clock;

corio::task<std::uint64_t> identity(std::uint64_t i) { co_return i; }

corio::task<bench::sample> spawn_join(double scale) {
    const std::uint64_t n = bench::scaled(100'000, scale);
    auto t0 = clock::now();
    std::vector<corio::join_handle<std::uint64_t>> handles;
    handles.reserve(n);
    for (std::uint64_t i = 0; i < n; ++i) handles.push_back(corio::spawn(identity(i)));
    std::uint64_t sum = 0;
    for (auto& h : handles) {
        auto r = co_await h;
        if (!r) co_return bench::failed("task failed");
        sum += *r;
    }
    bench::sample s = bench::make_sample(n, t0);
    if (sum != n * (n - 1) / 2) co_return bench::failed(fmt::format("sum {} != {}", sum, n * (n - 1) / 2));
    co_return s;
}

corio::task<void> yielder(std::uint64_t yields) {
    for (std::uint64_t i = 0; i < yields; ++i) co_await corio::yield_now();
}

corio::task<bench::sample> yield_many(double scale) {
    const std::uint64_t tasks = 200;
    const std::uint64_t yields = bench::scaled(1'000, scale);
    auto t0 = clock::now();
    std::vector<corio::join_handle<void>> handles;
    handles.reserve(tasks);
    for (std::uint64_t i = 0; i < tasks; ++i) handles.push_back(corio::spawn(yielder(yields)));
    for (auto& h : handles) {
        auto r = co_await h;
        if (!r) co_return bench::failed("task failed");
    }
    co_return bench::make_sample(tasks * yields, t0);
}

struct spawn_many_shared {
    std::atomic<std::uint64_t> remaining;
    std::atomic<std::uint64_t> signals{0};
    std::mutex mutex;
    std::optional<corio::oneshot::sender<bool>> done;  // guarded by mutex
};

corio::task<void> decrement(std::shared_ptr<spawn_many_shared> s) {
    if (s->remaining.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        s->signals.fetch_add(1, std::memory_order_relaxed);
        std::optional<corio::oneshot::sender<bool>> tx;
        {
            std::lock_guard lock(s->mutex);
            tx.swap(s->done);
        }
        if (tx) (void)tx->send(true);
    }
    co_return;
}

corio::task<bench::sample> spawn_many(double scale) {
    const std::uint64_t n = bench::scaled(200'000, scale);
    auto t0 = clock::now();
    auto [tx, rx] = corio::oneshot::channel<bool>();
    auto shared = std::make_shared<spawn_many_shared>();
    shared->remaining.store(n);
    shared->done.emplace(std::move(tx));
    for (std::uint64_t i = 0; i < n; ++i) corio::spawn(decrement(shared)).detach();
    auto got = co_await rx;
    bench::sample s = bench::make_sample(n, t0);
    if (!got) co_return bench::failed("signal not received");
    if (shared->signals.load() != 1) co_return bench::failed(fmt::format("signalled {} times", shared->signals.load()));
    co_return s;
}

void chain(std::uint64_t n, corio::oneshot::sender<bool> done);

corio::task<void> chain_link(std::uint64_t n, corio::oneshot::sender<bool> done) {
    chain(n, std::move(done));
    co_return;
}

void chain(std::uint64_t n, corio::oneshot::sender<bool> done) {
    if (n == 0) {
        (void)done.send(true);
        return;
    }
    corio::spawn(chain_link(n - 1, std::move(done))).detach();
}

corio::task<bench::sample> chained_spawn(double scale) {
    const std::uint64_t n = bench::scaled(100'000, scale);
    auto t0 = clock::now();
    auto [tx, rx] = corio::oneshot::channel<bool>();
    chain(n, std::move(tx));
    auto got = co_await rx;
    bench::sample s = bench::make_sample(n, t0);
    if (!got) co_return bench::failed("signal not received");
    co_return s;
}

bench::registrar r0("spawn_many", spawn_many);
bench::registrar r3("chained_spawn", chained_spawn);
bench::registrar r1("spawn_join", spawn_join);
bench::registrar r2("yield_many", yield_many);

}  // namespace
