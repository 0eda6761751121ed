/// \file
/// corio/io/owned_fd.hpp — a file descriptor owned by exactly one object.
///
/// Closing is the owner's last act: the io reactor cancels every operation on a descriptor and
/// waits for their completions before it closes it (a ring holds its own file reference, so
/// close() alone would not cancel them).
#pragma once

#include <unistd.h>

#include <utility>

namespace corio::io {

/// A file descriptor owned by exactly one object; closed when the owner is destroyed or reset.
/// Move-only.
class owned_fd {
public:
    owned_fd() noexcept = default;
    /// Takes ownership of `fd` (-1 for none).
    explicit owned_fd(int fd) noexcept : fd_(fd) {}
    /// Moves the descriptor; `o` is left empty.
    owned_fd(owned_fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    /// Closes what this holds, then takes over `o`'s descriptor.
    owned_fd& operator=(owned_fd&& o) noexcept {
        if (this != &o) reset(std::exchange(o.fd_, -1));
        return *this;
    }
    owned_fd(const owned_fd&) = delete;
    owned_fd& operator=(const owned_fd&) = delete;
    ~owned_fd() { reset(); }

    /// The descriptor (-1 if none), still owned.
    int get() const noexcept { return fd_; }
    /// True if a descriptor is held.
    explicit operator bool() const noexcept { return fd_ >= 0; }
    /// Gives up ownership: returns the descriptor (-1 if none) without closing it.
    int release() noexcept { return std::exchange(fd_, -1); }
    /// Closes the held descriptor (if any) and takes ownership of `fd`.
    void reset(int fd = -1) noexcept {
        if (fd_ >= 0) ::close(fd_);
        fd_ = fd;
    }

private:
    int fd_ = -1;
};

}  // namespace corio::io
