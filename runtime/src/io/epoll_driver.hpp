// epoll_driver: the readiness backend, used where io_uring cannot be set up. Every worker parks
// in the runtime's shared readiness set (readiness_set.hpp has why it is shared, and its
// protocol) when it can take it, else on its own eventfd; sockets wait in that set. Files have
// no readiness: corio::fs runs them on the blocking pool under this backend.
#pragma once

#include "reactor.hpp"
#include "readiness_set.hpp"
#include "wake_fd.hpp"

#include <chrono>
#include <memory>
#include <optional>

namespace corio::detail::io {

class epoll_driver final : public reactor {
public:
    // `group`: the runtime's slot for its readiness_set, created by the first worker's driver.
    explicit epoll_driver(std::shared_ptr<void>& group);

    void park(std::optional<std::chrono::nanoseconds> timeout) override;
    void unpark() noexcept override;
    // Descriptors registered in the runtime (an idle connection still waits for the kernel).
    bool io_pending() const noexcept override { return set_->has_registrations(); }

private:
    std::shared_ptr<readiness_set> set_;
    wake_fd own_wake_;  // this worker's wake when it does not hold the set
    set_wake wake_;
};

}  // namespace corio::detail::io
