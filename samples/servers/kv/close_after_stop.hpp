// samples/servers/kv/close_after_stop.hpp — close a connection on shutdown without leaving a read
// in the kernel. Used by the kv and chat servers when their stop token wins a select.
//
// When `stop.cancelled()` wins a select, the losing socket read is cancelled, but under io_uring
// the cancellation completes asynchronously: the read's completion (-ECANCELED, or data) arrives
// later and the stream's next read waits for it (docs/io.md, "Cancellation and buffer
// ownership"). If the connection task simply returns, that completion may still be pending when
// the runtime shuts down a moment later, and a pending operation holds its task's waker — which
// today keeps the task's frame and the runtime's reactors alive past shutdown (LeakSanitizer
// reports it). Shutting the socket down in both directions makes every read return at once, and
// reading to the end waits out the cancelled one, so nothing is in flight when the task ends.
// It is also the polite close: queued replies are flushed, then FIN.
#pragma once

#include <corio/net/tcp_stream.hpp>
#include <corio/runtime/task.hpp>

#include <array>
#include <span>

namespace corio_samples {

inline corio::task<void> close_after_stop(corio::net::tcp_stream& stream) {
    (void)stream.shutdown(corio::net::shutdown_how::both);
    std::array<char, 4096> sink{};
    // Bounded: after SHUT_RD a read returns what was already received, then 0. A peer that keeps
    // sending cannot hold the shutdown up for long.
    for (int i = 0; i < 16; ++i) {
        auto n = co_await stream.read(std::span<char>(sink));
        if (!n || *n == 0) break;
    }
}

}  // namespace corio_samples
