#include "reactor.hpp"

#include "../scheduler.hpp"
#include "epoll_driver.hpp"
#include "uring_driver.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

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

std::unique_ptr<reactor> make_reactor(bool current_thread, std::shared_ptr<void>& group) {
    if (backend() == backend_kind::io_uring) return std::make_unique<uring_driver>(current_thread, group);
    return std::make_unique<epoll_driver>(group);
}

reactor* current_reactor() noexcept {
    worker* w = current_worker();  // not inline: see its declaration
    return w ? &w->reactor() : nullptr;
}

}  // namespace corio::detail::io
