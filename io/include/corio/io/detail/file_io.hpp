// corio/io/detail/file_io.hpp — the reactor seam for file operations (not a public API).
//
// On io_uring, a file operation is one SQE (IORING_OP_READ / WRITE / FSYNC / OPENAT) whose cell
// (a uring_op) owns everything the kernel touches: the data buffer (reads land in it and are
// copied out when polled; writes are copied into it at submission), the path of an open, and a
// reference (`keep`) that holds the file's descriptor open until the CQE. The awaiter holds one
// reference to the cell and the ring another; an awaiter destroyed before the CQE asks for
// IORING_OP_ASYNC_CANCEL and drops its reference, the cell lives until the CQE. A late open's
// descriptor is closed with the cell.
// On epoll, regular files are always "ready": corio::fs runs the system calls on the blocking
// pool instead (file_ring_available() is false there).
#pragma once

#include <corio/io/detail/io_source.hpp>
#include <corio/runtime/waker.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>

namespace corio::detail::io {

struct uring_op;

enum class file_opcode : std::uint8_t { read, write, fsync, openat };

// Offset meaning "at the file's current position" (and advance it).
inline constexpr std::uint64_t at_cursor = ~std::uint64_t{0};

struct file_request {
    file_opcode op = file_opcode::read;
    int fd = -1;
    std::uint64_t offset = at_cursor;
    const std::byte* data = nullptr;  // write: copied at submission
    std::size_t len = 0;              // read: bytes to read; write: bytes in data
    const char* path = nullptr;       // openat: copied at submission
    int flags = 0;                    // openat
    unsigned mode = 0;                // openat
    std::shared_ptr<void> keep;       // held by the cell until the CQE
};

// True when the calling thread drives an io_uring reactor (file ops go through the ring).
bool file_ring_available() noexcept;
// Submits `req` to the calling worker's ring. Returns the cell (one reference: the caller's), or
// null with `err` set. Registers cx's waker.
uring_op* file_submit(const file_request& req, context& cx, int& err) noexcept;
// Ready when the CQE arrived: value = the result (bytes, or the opened descriptor, now the
// caller's), or err = errno. A read copies its bytes to `out` (at most out_len).
io_poll file_poll(uring_op* op, context& cx, std::byte* out, std::size_t out_len) noexcept;
// The awaiter is done with the cell (its result seen, or the leaf cancelled): drops the waker
// registered in it, cancels it in the kernel if still in flight, drops the ref.
void file_release(uring_op* op) noexcept;

}  // namespace corio::detail::io
