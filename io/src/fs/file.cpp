// corio::fs::file: each operation is a file_operation leaf; io_uring submits one SQE through the
// reactor seam (corio/io/detail/file_io.hpp), epoll runs the system call on the blocking pool.
#include <corio/fs/file.hpp>
#include <corio/runtime/runtime.hpp>
#include <corio/runtime/spawn_blocking.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>

namespace corio::fs {

namespace cdio = corio::detail::io;

int open_options::flags() const noexcept {
    int f = 0;
    const bool w = write || append;
    if (read && w) f = O_RDWR;
    else if (w) f = O_WRONLY;
    else f = O_RDONLY;
    if (append) f |= O_APPEND;
    if (create_new) f |= O_CREAT | O_EXCL;
    else if (create) f |= O_CREAT;
    if (truncate) f |= O_TRUNC;
    return f | O_CLOEXEC;
}

// --- the blocking-pool path ---------------------------------------------------------------------

namespace detail {

// Shared by the awaiter and the pool job. The job owns what the system call touches (buf, path,
// the descriptor through keep); the awaiter copies a read's bytes out when it sees done.
// mutex orders done/value/err/buf between the pool thread and the awaiting task.
struct pool_cell {
    std::mutex mutex;
    bool done = false;  // guarded by mutex
    waker w;            // guarded by mutex
    std::int64_t value = 0;
    int err = 0;
    cdio::file_request req;  // req.data / req.path point into buf / path below
    std::vector<std::byte> buf;
    std::string path;

    bool abandoned = false;  // guarded by mutex: the awaiter is gone

    void finish(std::int64_t v, int e) noexcept {
        waker wk;
        bool orphan_fd = false;
        {
            std::lock_guard lock(mutex);
            value = v;
            err = e;
            done = true;
            wk = std::move(w);
            orphan_fd = abandoned && req.op == cdio::file_opcode::openat && e == 0;
        }
        if (orphan_fd) ::close(static_cast<int>(v));  // nobody will take it
        std::move(wk).wake();
    }
};

namespace {
class pool_job final : public corio::detail::blocking_job {
public:
    explicit pool_job(std::shared_ptr<pool_cell> c) noexcept : c_(std::move(c)) {}
    ~pool_job() override {
        if (c_) c_->finish(0, ECANCELED);  // dropped unrun (runtime shutting down)
    }
    void run() noexcept override {
        auto c = std::move(c_);
        const auto& q = c->req;
        std::int64_t r = 0;
        do {
            switch (q.op) {
                case cdio::file_opcode::read:
                    r = q.offset == cdio::at_cursor ? ::read(q.fd, c->buf.data(), q.len)
                                                    : ::pread(q.fd, c->buf.data(), q.len, static_cast<off_t>(q.offset));
                    break;
                case cdio::file_opcode::write:
                    r = q.offset == cdio::at_cursor ? ::write(q.fd, c->buf.data(), q.len)
                                                    : ::pwrite(q.fd, c->buf.data(), q.len, static_cast<off_t>(q.offset));
                    break;
                case cdio::file_opcode::fsync: r = ::fsync(q.fd); break;
                case cdio::file_opcode::openat: r = ::open(c->path.c_str(), q.flags | O_CLOEXEC, q.mode); break;
            }
        } while (r < 0 && errno == EINTR);
        if (r < 0) {
            c->finish(0, errno);
            return;
        }
        c->finish(r, 0);
    }

private:
    std::shared_ptr<pool_cell> c_;
};
}  // namespace

}  // namespace detail

// --- file_operation -----------------------------------------------------------------------------

void file_operation::cancel() noexcept {
    if (!cell_ && !pool_) return;  // never polled, or the last poll was ready
    // Drops the waker, cancels in the kernel; a late open's fd closes with the cell.
    if (cell_) cdio::file_release(std::exchange(cell_, nullptr));
    if (pool_) {
        int late_fd = -1;
        waker dropped;  // destroyed after the unlock
        {
            std::lock_guard lock(pool_->mutex);
            if (!pool_->done) {
                pool_->abandoned = true;  // the job closes what a late open returns
                dropped = std::move(pool_->w);
            } else if (req_.op == cdio::file_opcode::openat && pool_->err == 0) {
                late_fd = static_cast<int>(pool_->value);  // done, never seen by the caller
            }
        }
        if (late_fd >= 0) ::close(late_fd);
        pool_.reset();  // the job keeps its own reference
    }
    started_ = false;
    value_ = 0;
    err_ = 0;
}

bool file_operation::poll(context& cx) noexcept {
    if (!started_) {
        started_ = true;
        if (req_.op == cdio::file_opcode::openat) req_.path = path_.c_str();
        if (cdio::file_ring_available()) {
            int err = 0;
            cell_ = cdio::file_submit(req_, cx, err);
            if (!cell_) {
                err_ = err;
                return true;
            }
        } else {
            corio::detail::scheduler* s = corio::detail::current_scheduler();
            if (!s) {
                err_ = -1;
                return true;
            }
            try {
                pool_ = std::make_shared<detail::pool_cell>();
                pool_->req = req_;
                pool_->path = path_;
                if (req_.op == cdio::file_opcode::read || req_.op == cdio::file_opcode::write) pool_->buf.resize(req_.len);
                if (req_.op == cdio::file_opcode::write && req_.len) std::memcpy(pool_->buf.data(), req_.data, req_.len);
                pool_->req.data = nullptr;
                pool_->req.path = nullptr;
                pool_->w = cx.waker().clone();
                if (!corio::detail::scheduler_spawn_blocking(s, std::make_unique<detail::pool_job>(pool_))) {
                    // the job was dropped: its destructor finished the cell with ECANCELED
                }
            } catch (...) {
                pool_.reset();
                err_ = ENOMEM;
                return true;
            }
        }
    }
    if (cell_) {
        const cdio::io_poll r = cdio::file_poll(cell_, cx, out_, req_.len);
        if (!r.ready) return false;
        value_ = r.value;
        err_ = r.err;
        cdio::file_release(std::exchange(cell_, nullptr));
        return true;
    }
    if (pool_) {
        {
            std::lock_guard lock(pool_->mutex);
            if (!pool_->done) {
                pool_->w.set(cx.waker());
                return false;
            }
        }
        if (!cx.poll_budget()) return false;
        value_ = pool_->value;
        err_ = pool_->err;
        if (!err_ && req_.op == cdio::file_opcode::read && out_)
            std::memcpy(out_, pool_->buf.data(), std::min<std::size_t>(static_cast<std::size_t>(value_), req_.len));
        pool_.reset();  // (an opened descriptor is now value_, the caller's)
        return true;
    }
    return true;
}

io_result file_operation::await_resume() const noexcept {
    if (err_) return unexpected(io::detail::to_error_code(err_));
    return static_cast<std::size_t>(value_);
}

// --- open ---------------------------------------------------------------------------------------

namespace {
cdio::file_request open_request(const open_options& o) {
    cdio::file_request q;
    q.op = cdio::file_opcode::openat;
    q.flags = o.flags();
    q.mode = o.mode;
    return q;
}
}  // namespace

open_operation::open_operation(std::string_view path, const open_options& o) : op_(open_request(o)) {
    op_.path_ = std::string(path);
}

result<file, std::error_code> open_operation::await_resume() {
    auto r = op_.await_resume();
    if (!r) return unexpected(r.error());
    return file(std::make_shared<io::owned_fd>(static_cast<int>(*r)));
}

open_operation file::open(std::string_view path) {
    open_options o;
    o.read = true;
    return open_operation(path, o);
}

open_operation file::create(std::string_view path) {
    open_options o;
    o.write = true;
    o.create = true;
    o.truncate = true;
    return open_operation(path, o);
}

file file::from_fd(int fd) { return file(std::make_shared<io::owned_fd>(fd)); }

// --- operations ---------------------------------------------------------------------------------

cdio::file_request file::request(cdio::file_opcode op) const {
    cdio::file_request q;
    q.op = op;
    q.fd = native_handle();
    q.keep = fd_;
    return q;
}

file_operation file::read_at(std::span<std::byte> buf, std::uint64_t offset) const {
    auto q = request(cdio::file_opcode::read);
    q.len = buf.size();
    q.offset = offset;
    return file_operation(std::move(q), buf.data());
}

file_operation file::write_at(std::span<const std::byte> buf, std::uint64_t offset) const {
    auto q = request(cdio::file_opcode::write);
    q.data = buf.data();
    q.len = buf.size();
    q.offset = offset;
    return file_operation(std::move(q));
}

file_operation file::read(std::span<std::byte> buf) const {
    auto q = request(cdio::file_opcode::read);
    q.len = buf.size();
    return file_operation(std::move(q), buf.data());
}

file_operation file::write(std::span<const std::byte> buf) const {
    auto q = request(cdio::file_opcode::write);
    q.data = buf.data();
    q.len = buf.size();
    return file_operation(std::move(q));
}

file_operation file::sync_all() const { return file_operation(request(cdio::file_opcode::fsync)); }

result<std::uint64_t, std::error_code> file::len() const {
    struct ::stat st {};
    if (::fstat(native_handle(), &st) != 0) return unexpected(std::error_code(errno, std::system_category()));
    return static_cast<std::uint64_t>(st.st_size);
}

corio::task<io_result> file::read_to_end(std::vector<std::byte>& out) const {
    constexpr std::size_t chunk = 256 * 1024;
    const std::size_t start = out.size();
    for (;;) {
        const std::size_t old = out.size();
        out.resize(old + chunk);
        std::span<std::byte> dst(out.data() + old, chunk);
        auto n = co_await read(dst);
        if (!n) {
            out.resize(old);
            co_return unexpected(n.error());
        }
        out.resize(old + *n);
        if (*n == 0) co_return out.size() - start;
    }
}

corio::task<io_result> file::write_all(std::span<const std::byte> buf) const {
    std::size_t done = 0;
    while (done < buf.size()) {
        auto n = co_await write(buf.subspan(done));
        if (!n) co_return unexpected(n.error());
        if (*n == 0) co_return unexpected(make_error_code(io::error::write_zero));
        done += *n;
    }
    co_return done;
}

// --- whole-file helpers -------------------------------------------------------------------------

corio::task<result<std::vector<std::byte>, std::error_code>> read(std::string path) {
    auto f = co_await file::open(path);
    if (!f) co_return unexpected(f.error());
    std::vector<std::byte> out;
    if (auto len = f->len(); len) out.reserve(*len);
    auto n = co_await f->read_to_end(out);
    if (!n) co_return unexpected(n.error());
    co_return out;
}

corio::task<result<std::string, std::error_code>> read_to_string(std::string path) {
    auto bytes = co_await read(std::move(path));
    if (!bytes) co_return unexpected(bytes.error());
    std::string s(reinterpret_cast<const char*>(bytes->data()), bytes->size());
    co_return s;
}

corio::task<result<void, std::error_code>> write(std::string path, std::vector<std::byte> data) {
    auto f = co_await file::create(path);
    if (!f) co_return unexpected(f.error());
    auto n = co_await f->write_all(data);
    if (!n) co_return unexpected(n.error());
    co_return result<void, std::error_code>{};
}

corio::task<result<void, std::error_code>> write(std::string path, std::string data) {
    auto f = co_await file::create(path);
    if (!f) co_return unexpected(f.error());
    auto n = co_await f->write_all(std::string_view(data));
    if (!n) co_return unexpected(n.error());
    co_return result<void, std::error_code>{};
}

}  // namespace corio::fs
