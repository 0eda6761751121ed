// Per-thread free lists in front of a global depot (the magazine/depot scheme of tcmalloc's
// transfer cache): a thread whose list overflows moves a batch of blocks to the depot, a thread
// whose list is empty takes a batch from it before it asks malloc. Blocks therefore flow from
// the threads that free them (workers finishing tasks) back to the threads that allocate (the
// spawner) with one lock per batch, and glibc's cross-arena free, which serialises both workers
// on the allocating arena's mutex, is never reached in steady state.
#include <corio/runtime/detail/frame_allocator.hpp>
#include <corio/runtime/detail/task_header.hpp>

#include <cstdint>
#include <mutex>
#include <new>
#include <utility>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#define CORIO_FRAME_CACHE 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CORIO_FRAME_CACHE 0
#endif
#endif
#ifndef CORIO_FRAME_CACHE
#define CORIO_FRAME_CACHE 1
#endif

namespace corio::detail {

namespace {

constexpr std::size_t granule = 64;
constexpr std::size_t num_classes = 16;  // up to 1 KiB
constexpr std::uint32_t batch = 128;
constexpr std::uint32_t thread_cap = 2 * batch;      // a thread keeps at most this many per class
constexpr std::size_t depot_cap_batches = 512;        // beyond this, blocks go back to malloc

struct free_block {
    free_block* next;
};

constexpr std::size_t class_size(std::size_t c) noexcept { return (c + 1) * granule; }
constexpr std::size_t class_of(std::size_t size) noexcept { return (size + granule - 1) / granule - 1; }

void free_list(free_block* b) noexcept {
    while (b) {
        free_block* next = b->next;
        ::operator delete(static_cast<void*>(b));
        b = next;
    }
}

// Full batches of `batch` blocks, linked through free_block::next.
struct depot {
    struct alignas(64) shelf {
        std::mutex mutex;
        std::vector<free_block*> batches;  // guarded by mutex
    };
    shelf shelves[num_classes];

    free_block* take(std::size_t c) noexcept {
        shelf& s = shelves[c];
        std::lock_guard lock(s.mutex);
        if (s.batches.empty()) return nullptr;
        free_block* b = s.batches.back();
        s.batches.pop_back();
        return b;
    }
    // False if the depot is full: the caller frees the batch.
    bool put(std::size_t c, free_block* b) noexcept {
        shelf& s = shelves[c];
        std::lock_guard lock(s.mutex);
        if (s.batches.size() >= depot_cap_batches) return false;
        try {
            s.batches.push_back(b);
        } catch (...) {
            return false;
        }
        return true;
    }
};

depot& global_depot() {
    // Leaked on purpose: threads may free blocks during static destruction.
    static depot* d = new depot;
    return *d;
}

thread_local bool t_cache_gone = false;  // trivially destructible: readable during thread exit

// Owned by one thread: pushed and popped only by it.
struct frame_cache {
    free_block* heads[num_classes] = {};
    std::uint32_t counts[num_classes] = {};

    ~frame_cache() {
        t_cache_gone = true;
        for (std::size_t c = 0; c < num_classes; ++c) free_list(heads[c]);
    }

    // Moves the `batch` most recently freed blocks to the depot.
    void spill(std::size_t c) noexcept {
        free_block* first = heads[c];
        free_block* last = first;
        for (std::uint32_t i = 1; i < batch; ++i) last = last->next;
        heads[c] = last->next;
        counts[c] -= batch;
        last->next = nullptr;
        if (!global_depot().put(c, first)) free_list(first);
    }
};

thread_local frame_cache t_cache;

}  // namespace

// Not inline, and never called across a suspension: see docs/design/task-model.md, "thread_local across a suspension".
[[gnu::noinline]] void* allocate_frame(std::size_t size) {
    const std::size_t c = class_of(size);
    if (CORIO_FRAME_CACHE && c < num_classes && !t_cache_gone) {
        frame_cache& cache = t_cache;
        if (!cache.heads[c]) {
            if (free_block* b = global_depot().take(c)) {
                cache.heads[c] = b;
                cache.counts[c] = batch;
            }
        }
        if (free_block* b = cache.heads[c]) {
            cache.heads[c] = b->next;
            --cache.counts[c];
            return b;
        }
        return ::operator new(class_size(c));
    }
    return ::operator new(size);
}

[[gnu::noinline]] void deallocate_frame(void* p, std::size_t size) noexcept {
    const std::size_t c = class_of(size);
    if (CORIO_FRAME_CACHE && c < num_classes) {
        if (t_cache_gone) {
            ::operator delete(p);
            return;
        }
        frame_cache& cache = t_cache;
        auto* b = static_cast<free_block*>(p);
        b->next = cache.heads[c];
        cache.heads[c] = b;
        if (++cache.counts[c] >= thread_cap) cache.spill(c);
        return;
    }
    ::operator delete(p);
}

namespace {
thread_local frame_prefix* t_last_prefix = nullptr;
}

[[gnu::noinline]] void* allocate_task_frame(std::size_t size) {
    const std::size_t total = size + sizeof(frame_prefix);
    auto* prefix = static_cast<frame_prefix*>(allocate_frame(total));
    prefix->defer_to = nullptr;
    prefix->size = total;
    t_last_prefix = prefix;
    return prefix + 1;
}

[[gnu::noinline]] void deallocate_task_frame(void* frame, std::size_t) noexcept {
    frame_prefix* prefix = static_cast<frame_prefix*>(frame) - 1;
    if (task_header* owner = prefix->defer_to) {
        // Lifetime: the owner header is alive (it destroys its root frame before it goes, and
        // clears defer_to when it does so from its own destructor).
        owner->deferred_frame_ = prefix;
        return;
    }
    deallocate_frame(prefix, prefix->size);
}

[[gnu::noinline]] frame_prefix* take_last_frame_prefix() noexcept { return std::exchange(t_last_prefix, nullptr); }

}  // namespace corio::detail
