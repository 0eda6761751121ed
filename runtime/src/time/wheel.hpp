// wheel: the hierarchical timing wheel (Tokio's runtime/time/wheel/{mod,level}.rs).
//
// Shape:    6 levels of 64 slots; a tick is 1 ms. A slot of level L covers 64^L ticks, a level
//           64^(L+1): level 0 = 64 ms by 1 ms, level 1 = 4.1 s by 64 ms, ... level 5 ≈ 2.2 years
//           by 12.7 days. Deadlines further out sit in the top level, which acts as a ring and
//           re-cascades them each time around.
// Placement: an entry due at tick `when` goes to level level_for(elapsed, when) = the highest
//           6-bit group in which `when` and `elapsed` differ, slot (when >> 6L) & 63. Level 0 slots
//           therefore hold exactly one tick each.
// Occupancy: one 64-bit word per level; the next non-empty slot is a rotate + count-trailing-zeros.
// Expiry:   poll(now) finds the earliest occupied slot at or before `now`, takes its whole list,
//           and either moves each entry to `pending_` (due) or re-inserts it lower (cascade).
//           Entries are handed out from `pending_` one at a time; the caller fires them.
//           The top level's current slot holds only entries a turn (or more) away, so the search
//           of that level visits it last (level_next_expiration).
// Costs:    insert, remove: O(1) (doubly linked slot lists; the list pointer in the entry finds the
//           occupancy bit). poll: O(levels) per slot visited plus O(1) per entry moved.
// Access:   every member is guarded by the time handle's mutex (time_driver.hpp).
#pragma once

#include <corio/runtime/detail/timer_entry.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>

namespace corio::detail {

struct timer_list {
    timer_entry* head = nullptr;
};

class wheel {
public:
    static constexpr unsigned num_levels = 6;
    static constexpr unsigned level_bits = 6;
    static constexpr unsigned slots_per_level = 1u << level_bits;
    // Deadlines are clamped so tick arithmetic never overflows: ~146 million years of ms.
    static constexpr std::uint64_t max_tick = std::uint64_t{1} << 62;

    wheel() = default;
    wheel(const wheel&) = delete;
    wheel& operator=(const wheel&) = delete;

    // Every entry at or before this tick has been handed out by poll().
    std::uint64_t elapsed() const noexcept { return elapsed_; }

    // Links `e` (unlinked, e->when_ set). A deadline at or before elapsed() goes to the pending
    // list: it is handed out by the next poll().
    void insert(timer_entry* e) noexcept;
    // Unlinks `e` if it is linked; returns whether it was.
    bool remove(timer_entry* e) noexcept;

    // The tick at which poll() next has something to do (elapsed() if entries are pending).
    std::optional<std::uint64_t> next_expiration() const noexcept;

    // Advances to `now` and returns the next due entry, unlinked, or null once nothing is due.
    timer_entry* poll(std::uint64_t now) noexcept;

    bool is_empty() const noexcept;
    // Entries linked (armed timers, pending ones included): runtime::metrics().
    std::size_t size() const noexcept { return size_; }

private:
    struct expiration {
        unsigned level;
        unsigned slot;
        std::uint64_t deadline;
    };

    static unsigned level_for(std::uint64_t elapsed, std::uint64_t when) noexcept;
    std::optional<expiration> next_expiration_slot() const noexcept;
    std::optional<expiration> level_next_expiration(unsigned level, std::uint64_t now) const noexcept;
    void process_expiration(const expiration& exp) noexcept;
    void link(timer_list* l, timer_entry* e) noexcept;
    void unlink(timer_entry* e) noexcept;
    void add_to_level(unsigned level, timer_entry* e) noexcept;

    std::uint64_t elapsed_ = 0;
    std::uint64_t occupied_[num_levels] = {};
    timer_list slots_[num_levels][slots_per_level] = {};
    timer_list pending_;
    std::size_t size_ = 0;  // insert() minus remove() and poll() hand-outs
};

}  // namespace corio::detail
