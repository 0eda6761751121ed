/// \file
/// corio/io/error.hpp — io errors that are not an errno.
///
/// Every io operation reports failure as a std::error_code: system errors (the kernel's errno,
/// from a syscall or a negative CQE result) in std::system_category(), and the few conditions
/// below in corio::io::io_category(). Compare with std::errc values or these enumerators:
///     if (r.error() == std::errc::connection_refused) ...
///     if (r.error() == corio::io::error::unexpected_eof) ...
/// fmt: fmt::format("{}", corio::io::error::unexpected_eof) == "unexpected end of stream" (the
/// category's message). A std::error_code itself has no formatter in fmt 9: print ec.message().
#pragma once

#include <fmt/format.h>

#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>

namespace corio::io {

/// The io conditions that are not an errno, in io_category(); they compare equal with a
/// std::error_code holding them.
enum class error {
    unexpected_eof = 1,  ///< read_exact: the peer closed before the buffer was full
    write_zero = 2,      ///< write_all: the socket accepted 0 bytes
    no_runtime = 3,      ///< an io operation was polled outside a corio runtime worker
    line_too_long = 4,   ///< buf_reader::read_line / read_until: no delimiter within max_len bytes
};

/// The category of corio::io::error codes (its name is "corio.io").
const std::error_category& io_category() noexcept;

/// The std::error_code of `e` (found by ADL, so `ec == io::error::unexpected_eof` works).
inline std::error_code make_error_code(error e) noexcept { return {static_cast<int>(e), io_category()}; }

}  // namespace corio::io

template <>
struct std::is_error_code_enum<corio::io::error> : std::true_type {};

template <>
struct fmt::formatter<corio::io::error> : fmt::formatter<std::string_view> {
    template <class FormatContext>
    auto format(corio::io::error e, FormatContext& ctx) const {
        return fmt::formatter<std::string_view>::format(corio::io::make_error_code(e).message(), ctx);
    }
};
