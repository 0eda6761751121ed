// corio/runtime/detail/blocking_job.hpp — a unit of work for the blocking pool.
#pragma once

namespace corio::detail {

class blocking_job {
public:
    virtual ~blocking_job() = default;
    virtual void run() noexcept = 0;
};

}  // namespace corio::detail
