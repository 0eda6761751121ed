// blocking_pool: threads for spawn_blocking, apart from the workers, so blocking calls never
// stall the scheduler. Grows on demand up to max_threads; a thread idle for keep_alive retires.
// Jobs queue FIFO when every thread is busy and the limit is reached.
//
// Outstanding jobs: accepted and not yet finished (queued or running). The paused clock does not
// auto-advance while there are any (scheduler::can_auto_advance): a job's outcome, not a timer,
// is what the runtime waits for then.
//
// Shutdown: no new jobs are accepted (a rejected job is destroyed unrun, which its waiter sees);
// queued jobs still run; shutdown waits for the threads up to a timeout. Threads that outlive the
// timeout keep the pool's state alive through a shared_ptr and exit when their job returns.
#pragma once

#include <corio/runtime/detail/blocking_job.hpp>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace corio::detail {

class blocking_pool {
public:
    blocking_pool(std::size_t max_threads, std::chrono::milliseconds keep_alive, std::string thread_name);
    ~blocking_pool();

    // False if the pool is shut down (the job has been destroyed unrun).
    bool spawn(std::unique_ptr<blocking_job> job);
    void shutdown(std::optional<std::chrono::nanoseconds> timeout);

    std::size_t thread_count() const;
    // Threads alive, of which idle, and jobs waiting for a thread (runtime::metrics()). Any thread.
    struct counts {
        std::size_t threads = 0, idle = 0, queued = 0;
    };
    counts count() const;
    // Whether no accepted job is still queued or running. Any thread; seq_cst (see state::outstanding).
    bool is_idle() const noexcept;

private:
    struct state;
    static void thread_main(std::shared_ptr<state> st);
    std::shared_ptr<state> state_;
};

}  // namespace corio::detail
