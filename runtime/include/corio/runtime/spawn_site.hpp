// corio/runtime/spawn_site.hpp — where a task was spawned: file, line and function of the call.
//
// Every spawn overload takes a spawn_site as a defaulted last argument, so the site is that of
// the caller's `spawn(...)` expression. The runtime keeps it only when the task registry is on
// (runtime_options::enable_task_registry): dumps show it next to each task. With the registry
// off it costs three constants passed in registers.
//
// Why not std::source_location: libstdc++ implements it with __builtin_source_location, which
// clang 14 lacks, so <source_location> is empty there (docs/design/compilers.md). The three
// builtins used here exist in both compilers and, as default arguments, evaluate at the caller.
#pragma once

#include <cstdint>

namespace corio {

/// The file, line and function of a call: spawn overloads take one as a defaulted argument.
struct spawn_site {
    const char* file = "";     ///< source file of the call, as the compiler spelled it
    std::uint32_t line = 0;    ///< line of the call
    const char* function = "";  ///< the calling function's name

    /// The caller's site: as a default argument, the site of the call that uses the default.
    static constexpr spawn_site current(const char* file = __builtin_FILE(), std::uint32_t line = __builtin_LINE(),
                                        const char* function = __builtin_FUNCTION()) noexcept {
        return spawn_site{file, line, function};
    }
};

}  // namespace corio
