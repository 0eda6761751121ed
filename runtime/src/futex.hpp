// futex: the thinnest wait/wake on a 32-bit word, with a timeout (std::atomic::wait has none).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>

namespace corio::detail {

// Blocks while *word == expected, until woken or the timeout passes. Spurious returns happen.
void futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected,
                std::optional<std::chrono::nanoseconds> timeout = std::nullopt) noexcept;
void futex_wake(std::atomic<std::uint32_t>& word, int count) noexcept;

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
}

}  // namespace corio::detail
