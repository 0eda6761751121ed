/// \file
/// corio/fs/file.hpp — an open file (Tokio's tokio::fs::File).
///
///     auto f = co_await corio::fs::file::open("data.bin", {.read = true});   // result<file, error_code>
///     std::array<std::byte, 4096> buf;
///     auto n = co_await f->read_at(buf, 8192);        // result<size_t, error_code>; 0 = end of file
///     auto w = co_await f->write_all(bytes);          // a task: every byte, at the cursor
///     co_await f->sync_all();
///
/// Backends: on io_uring every operation is one SQE on the calling worker's ring
///   (IORING_OP_OPENAT / READ / WRITE / FSYNC). On epoll (regular files are always "ready") the
///   system call runs on the runtime's blocking pool, as Tokio does. Same API and semantics.
/// Leaves: open, read, read_at, write, write_at and sync_all are corio LEAVES (usable in select /
///   timeout). read_to_end and write_all are TASKS (loops of those leaves).
/// Cancellation and buffers (the sockets' rules): an operation whose awaiter is destroyed (abort,
///   timeout, a lost select branch) is cancelled in the kernel (io_uring) or abandoned (pool). The
///   kernel / pool thread never touches the caller's buffer: reads land in a buffer owned by the
///   operation's cell and are copied out when the awaiter sees the result; writes are copied into
///   the cell when submitted. The cell (and the file's descriptor) live until the operation ends.
///   read_at / write_at are cancel safe as far as the file position goes (they do not use it);
///   a cancelled write_at may still have written. read / write at the cursor are not cancel safe:
///   a cancelled one may still move the position (and its bytes are lost).
/// cancel() (the leaf contract; select/timeout call it on a losing operation, the destructor of a
///   pending one does the same): the operation's waker is dropped and it is cancelled in the
///   kernel (io_uring) or abandoned to its pool job, as above; a late open's descriptor is
///   closed. Polled again, the operation is submitted afresh with the same arguments.
/// Open: `open_options` mirror std::fs::OpenOptions; an open whose awaiter is dropped closes the
///   descriptor when the kernel completes it. Errors: std::error_code (errc::no_such_file_or_directory...).
/// Thread safety: one operation at a time per file (the cursor is the kernel's file position).
/// Lifetime: a file may be dropped with operations in flight (they keep the descriptor open).
#pragma once

#include <corio/runtime/detail/file_io.hpp>
#include <corio/io/owned_fd.hpp>
#include <corio/io/stream_ops.hpp>  // io_result
#include <corio/result.hpp>
#include <corio/runtime/leaf.hpp>
#include <corio/runtime/task.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace corio::fs {

using io::io_result;

/// How file::open opens a file (std::fs::OpenOptions' fields); set them with designated
/// initializers: `{.read = true}`.
struct open_options {
    /// Open for reading.
    bool read = false;
    /// Open for writing.
    bool write = false;
    bool create = false;    ///< O_CREAT
    bool truncate = false;  ///< O_TRUNC
    bool append = false;    ///< O_APPEND (implies write): writes go to the end
    bool create_new = false;  ///< O_CREAT|O_EXCL: fail if it exists
    unsigned mode = 0644;   ///< for a created file (before the umask)

    /// The open(2) flags (O_CLOEXEC is always added).
    int flags() const noexcept;
};

class file;

namespace detail {
struct pool_cell;  // the blocking-pool path's state (file.cpp)
}

/// One file system call: co_await yields io_result (bytes, 0 for fsync; for open the descriptor,
/// wrapped by open_operation).
class [[nodiscard]] file_operation : public leaf_awaiter<file_operation> {
public:
    /// Made by the file's operations; not called directly.
    explicit file_operation(corio::detail::io::file_request req, std::byte* out = nullptr) noexcept
        : req_(std::move(req)), out_(out) {}
    file_operation(const file_operation&) = delete;
    file_operation& operator=(const file_operation&) = delete;
    ~file_operation() { file_operation::cancel(); }

    /// Submits the system call (io_uring, or the blocking pool on epoll) with the task's waker, or
    /// reports its result.
    bool poll(context& cx) noexcept override;
    /// Cancels it in the kernel or abandons it to its pool job; the caller's buffer is never
    /// touched afterwards. Polled again, it is submitted afresh.
    void cancel() noexcept override;
    /// Bytes read or written (0 for sync_all), or the error.
    io_result await_resume() const noexcept;

private:
    corio::detail::io::file_request req_;
    std::byte* out_;  // read: the caller's buffer, written only inside poll
    std::string path_;  // openat: owned copy (req_.path points here)
    // State: never polled (started_ false) -> submitted (cell_ or pool_ set, by the first poll)
    //   -> ready (the poll that saw the result drops cell_ / pool_; value_ / err_ hold it).
    // cancel() takes a submitted operation back to never polled: cell_ / pool_ are let go
    // (cancelled in the kernel / abandoned to the job) and started_ is cleared. A poll that
    // fails to submit is ready at once (err_), with neither set.
    corio::detail::io::uring_op* cell_ = nullptr;
    std::shared_ptr<detail::pool_cell> pool_;
    bool started_ = false;
    std::int64_t value_ = 0;
    int err_ = 0;

    friend class open_operation;
};

/// The awaiter of file::open: co_await yields result<file, error_code>.
class [[nodiscard]] open_operation : public leaf_awaiter<open_operation> {
public:
    /// Made by file::open(); not called directly.
    open_operation(std::string_view path, const open_options& o);
    open_operation(const open_operation&) = delete;
    open_operation& operator=(const open_operation&) = delete;

    /// As file_operation::poll.
    bool poll(context& cx) noexcept override { return op_.poll(cx); }
    /// As file_operation::cancel; a late open's descriptor is closed.
    void cancel() noexcept override { op_.cancel(); }  // a late open's descriptor is closed
    /// The open file, or the error (errc::no_such_file_or_directory, ...).
    result<file, std::error_code> await_resume();

private:
    std::string path_;
    file_operation op_;
};

/// An open file (Tokio's fs::File): leaves for open, read, read_at, write, write_at and sync_all
/// (usable in select and timeout), tasks for read_to_end and write_all. One operation at a time per
/// file; the descriptor stays open while operations are in flight.
class file {
public:
    file() noexcept = default;
    /// Moves the file; `o` is left empty.
    file(file&&) noexcept = default;
    /// Closes this file (once its operations are done), then takes over `o`'s.
    file& operator=(file&&) noexcept = default;

    /// `co_await file::open(path, opts)`: the open file, or the error.
    [[nodiscard]] static open_operation open(std::string_view path, const open_options& o) { return open_operation(path, o); }
    /// Read-only.
    [[nodiscard]] static open_operation open(std::string_view path);
    /// Write-only; created, or truncated if it exists.
    [[nodiscard]] static open_operation create(std::string_view path);
    /// Adopts an open descriptor.
    static file from_fd(int fd);

    /// Reads up to buf.size() bytes at `offset` (0 = end of file); the cursor does not move.
    [[nodiscard]] file_operation read_at(std::span<std::byte> buf, std::uint64_t offset) const;
    /// Writes some of buf at `offset` (the cursor does not move; O_APPEND files append anyway).
    [[nodiscard]] file_operation write_at(std::span<const std::byte> buf, std::uint64_t offset) const;
    /// Reads at the cursor and advances it.
    [[nodiscard]] file_operation read(std::span<std::byte> buf) const;
    /// read() into a char buffer.
    [[nodiscard]] file_operation read(std::span<char> buf) const { return read(std::as_writable_bytes(buf)); }
    /// Writes at the cursor (at the end with append) and advances it; may be partial.
    [[nodiscard]] file_operation write(std::span<const std::byte> buf) const;
    /// fsync(2): data and metadata reach the device. Yields 0.
    [[nodiscard]] file_operation sync_all() const;

    /// Appends everything from the cursor to the end of file to out; yields the bytes read.
    corio::task<io_result> read_to_end(std::vector<std::byte>& out) const;
    /// Writes all of buf at the cursor (a task; buf must stay valid while it runs).
    corio::task<io_result> write_all(std::span<const std::byte> buf) const;
    /// write_all() of a string.
    corio::task<io_result> write_all(std::string_view s) const { return write_all(std::as_bytes(std::span(s.data(), s.size()))); }

    /// The file's size (fstat).
    result<std::uint64_t, std::error_code> len() const;
    /// The file descriptor (-1 if none), still owned by the file.
    int native_handle() const noexcept { return fd_ ? fd_->get() : -1; }
    /// True if the file is open.
    explicit operator bool() const noexcept { return fd_ && *fd_; }

private:
    friend class open_operation;
    explicit file(std::shared_ptr<io::owned_fd> fd) noexcept : fd_(std::move(fd)) {}
    corio::detail::io::file_request request(corio::detail::io::file_opcode op) const;

    // Shared with in-flight operations' cells and pool jobs: the descriptor closes after the
    // last of them is done.
    std::shared_ptr<io::owned_fd> fd_;
};

/// The whole file as a string.
corio::task<result<std::string, std::error_code>> read_to_string(std::string path);
/// The whole file as bytes.
corio::task<result<std::vector<std::byte>, std::error_code>> read(std::string path);
/// Creates or truncates `path` and writes data to it.
corio::task<result<void, std::error_code>> write(std::string path, std::string data);
/// Creates or truncates `path` and writes `data` to it.
corio::task<result<void, std::error_code>> write(std::string path, std::vector<std::byte> data);

}  // namespace corio::fs
