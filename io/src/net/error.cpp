#include <corio/io/error.hpp>

namespace corio::io {

namespace {
class category final : public std::error_category {
public:
    const char* name() const noexcept override { return "corio.io"; }
    std::string message(int v) const override {
        switch (static_cast<error>(v)) {
            case error::unexpected_eof: return "unexpected end of stream";
            case error::write_zero: return "write returned zero bytes";
            case error::no_runtime: return "io operation polled outside a corio runtime";
            case error::line_too_long: return "line longer than the maximum length";
        }
        return "unknown corio io error";
    }
};
}  // namespace

const std::error_category& io_category() noexcept {
    static const category c;
    return c;
}

}  // namespace corio::io
