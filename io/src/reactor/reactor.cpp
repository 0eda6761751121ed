#include "reactor.hpp"

#include "epoll_driver.hpp"
#include "uring_driver.hpp"

#include <fmt/format.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string_view>
#include <utility>
#include <vector>

namespace corio::detail {
class worker;
worker* current_worker() noexcept;  // runtime/src/scheduler.cpp
}  // namespace corio::detail

namespace corio::detail::io {

namespace {

backend_kind choose_backend() noexcept {
    const char* env = std::getenv("CORIO_IO_BACKEND");
    const std::string_view want = env ? env : "";
    if (want == "epoll") return backend_kind::epoll;
    const int err = uring_driver::probe();
    if (err == 0) return backend_kind::io_uring;
    if (want == "io_uring") {
        fmt::print(stderr, "corio: CORIO_IO_BACKEND=io_uring but io_uring cannot be set up ({}); aborting\n",
                   std::strerror(err));
        std::abort();
    }
    fmt::print(stderr, "corio: io_uring unavailable ({}); using the epoll reactor\n", std::strerror(err));
    return backend_kind::epoll;
}

// Which reactor belongs to which worker. Looked up once per thread and worker, then cached in
// thread-locals; gen_ invalidates every cache when a reactor goes away (a later runtime's worker
// may be allocated at the same address).
struct registry {
    std::mutex mutex;
    std::vector<std::pair<const void*, reactor*>> entries;  // guarded by mutex
    // Release (under mutex) on every removal; acquire in current_reactor(): a cache filled before
    // the removal is seen as stale.
    std::atomic<std::uint64_t> gen{1};
};

registry& the_registry() {
    static registry* r = new registry;  // never destroyed: reactors may die during static teardown
    return *r;
}

}  // namespace

backend_kind backend() noexcept {
    static const backend_kind k = choose_backend();
    return k;
}

net_model net() noexcept {
    static const net_model m = [] {
        const char* env = std::getenv("CORIO_IO_NET");
        return env && std::string_view(env) == "ring" ? net_model::ring : net_model::readiness;
    }();
    return m;
}

void reactor::register_for(const void* worker_key) {
    worker_key_ = worker_key;
    registry& r = the_registry();
    std::lock_guard lock(r.mutex);
    r.entries.emplace_back(worker_key, this);
}

void reactor::unregister() noexcept {
    if (!worker_key_) return;
    registry& r = the_registry();
    std::lock_guard lock(r.mutex);
    for (auto& e : r.entries) {
        if (e.second == this) {
            e = r.entries.back();
            r.entries.pop_back();
            break;
        }
    }
    r.gen.fetch_add(1, std::memory_order_release);
    worker_key_ = nullptr;
}

namespace {
thread_local const void* t_cached_key = nullptr;
thread_local reactor* t_cached_reactor = nullptr;
thread_local std::uint64_t t_cached_gen = 0;
}  // namespace

// Not inline, and reached only through this call: clang may cache a thread_local's address
// across a coroutine suspension (docs/design/task-model.md, "thread_local across a suspension").
[[gnu::noinline]] reactor* current_reactor() noexcept {
    const void* key = current_worker();
    if (!key) return nullptr;
    registry& r = the_registry();
    const std::uint64_t g = r.gen.load(std::memory_order_acquire);
    if (key == t_cached_key && g == t_cached_gen) return t_cached_reactor;
    reactor* found = nullptr;
    {
        std::lock_guard lock(r.mutex);
        for (auto& e : r.entries)
            if (e.first == key) found = e.second;
    }
    t_cached_key = key;
    t_cached_reactor = found;
    t_cached_gen = g;
    return found;
}

}  // namespace corio::detail::io

namespace corio::detail {
std::unique_ptr<driver> make_io_driver(const void* worker_key, bool current_thread, std::shared_ptr<void>& group) {
    if (io::backend() == io::backend_kind::io_uring)
        return std::make_unique<io::uring_driver>(worker_key, current_thread, group);
    return std::make_unique<io::epoll_driver>(worker_key, group);
}
}  // namespace corio::detail
