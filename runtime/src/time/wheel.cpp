#include "wheel.hpp"

#include <bit>
#include <cassert>

namespace corio::detail {

namespace {
constexpr std::uint64_t slot_range(unsigned level) noexcept { return std::uint64_t{1} << (wheel::level_bits * level); }
constexpr std::uint64_t level_range(unsigned level) noexcept { return slot_range(level + 1); }
// One full turn of the top level: deadlines further than this from elapsed go to the top level.
constexpr std::uint64_t max_duration = std::uint64_t{1} << (wheel::level_bits * wheel::num_levels);
}  // namespace

unsigned wheel::level_for(std::uint64_t elapsed, std::uint64_t when) noexcept {
    constexpr std::uint64_t slot_mask = slots_per_level - 1;
    // The low bits are masked in so that a deadline in the current level-0 turn lands on level 0.
    std::uint64_t masked = (elapsed ^ when) | slot_mask;
    if (masked >= max_duration) masked = max_duration - 1;  // the top level wraps around
    const unsigned significant = 63u - static_cast<unsigned>(std::countl_zero(masked));
    return significant / level_bits;
}

void wheel::link(timer_list* l, timer_entry* e) noexcept {
    e->prev_ = nullptr;
    e->next_ = l->head;
    if (l->head) l->head->prev_ = e;
    l->head = e;
    e->list_ = l;
}

void wheel::unlink(timer_entry* e) noexcept {
    timer_list* l = e->list_;
    if (e->prev_) e->prev_->next_ = e->next_;
    else l->head = e->next_;
    if (e->next_) e->next_->prev_ = e->prev_;
    e->prev_ = e->next_ = nullptr;
    e->list_ = nullptr;
    if (!l->head && l != &pending_) {
        const auto index = static_cast<std::size_t>(l - &slots_[0][0]);
        occupied_[index / slots_per_level] &= ~(std::uint64_t{1} << (index % slots_per_level));
    }
}

void wheel::add_to_level(unsigned level, timer_entry* e) noexcept {
    const unsigned slot = static_cast<unsigned>((e->when_ >> (level_bits * level)) % slots_per_level);
    link(&slots_[level][slot], e);
    occupied_[level] |= std::uint64_t{1} << slot;
}

void wheel::insert(timer_entry* e) noexcept {
    assert(!e->list_);
    ++size_;
    if (e->when_ > max_tick) e->when_ = max_tick;
    if (e->when_ <= elapsed_) {
        link(&pending_, e);
        return;
    }
    add_to_level(level_for(elapsed_, e->when_), e);
}

bool wheel::remove(timer_entry* e) noexcept {
    if (!e->list_) return false;
    unlink(e);
    --size_;
    return true;
}

bool wheel::is_empty() const noexcept {
    if (pending_.head) return false;
    for (std::uint64_t o : occupied_)
        if (o) return false;
    return true;
}

std::optional<wheel::expiration> wheel::level_next_expiration(unsigned level, std::uint64_t now) const noexcept {
    const std::uint64_t occupied = occupied_[level];
    if (occupied == 0) return std::nullopt;
    const std::uint64_t now_slot = now / slot_range(level);
    // The search visits the slots in deadline order, starting from the first one that can be
    // due. Below the top level that is the current slot (it is empty: an entry due within its
    // span sits on a lower level). The top level acts as a ring, and its current slot can only
    // hold entries at least one turn on (one due within the slot's span this turn would sit on
    // a lower level; one placed there earlier in the turn was processed when the slot began): it
    // is due after every other occupied slot of the ring (the later slots of this turn, then the
    // wrapped ones of the next), so it is visited last. Starting there made one far-off entry in
    // it hide every other top-level slot for a whole turn (Tokio's level.rs does the same).
    const unsigned first = level == num_levels - 1 ? 1 : 0;
    const std::uint64_t start = now_slot + first;
    const std::uint64_t rotated = std::rotr(occupied, static_cast<int>(start % slots_per_level));
    const unsigned slot = static_cast<unsigned>((std::countr_zero(rotated) + start) % slots_per_level);
    const std::uint64_t lr = level_range(level);
    std::uint64_t deadline = (now & ~(lr - 1)) + slot * slot_range(level);
    // A slot at or "before" now can only be on the top level (the current slot, or one that
    // wrapped): it is one turn later. Lower levels only hold entries due after `now` within the
    // current turn of the level above.
    if (deadline <= now) {
        assert(level == num_levels - 1);
        deadline += lr;
    }
    return expiration{level, slot, deadline};
}

std::optional<wheel::expiration> wheel::next_expiration_slot() const noexcept {
    if (pending_.head) return expiration{0, 0, elapsed_};
    for (unsigned level = 0; level < num_levels; ++level)
        if (auto e = level_next_expiration(level, elapsed_)) return e;
    return std::nullopt;
}

std::optional<std::uint64_t> wheel::next_expiration() const noexcept {
    if (auto e = next_expiration_slot()) return e->deadline;
    return std::nullopt;
}

void wheel::process_expiration(const expiration& exp) noexcept {
    // Take the whole slot first: a top-level entry more than one turn away is re-inserted into
    // the very slot being processed, and must not be seen again in this pass.
    timer_list& slot = slots_[exp.level][exp.slot];
    timer_entry* e = slot.head;
    slot.head = nullptr;
    occupied_[exp.level] &= ~(std::uint64_t{1} << exp.slot);
    while (e) {
        timer_entry* next = e->next_;
        e->prev_ = e->next_ = nullptr;
        e->list_ = nullptr;
        if (e->when_ <= exp.deadline) link(&pending_, e);
        else add_to_level(level_for(exp.deadline, e->when_), e);
        e = next;
    }
}

timer_entry* wheel::poll(std::uint64_t now) noexcept {
    for (;;) {
        if (timer_entry* e = pending_.head) {
            unlink(e);
            --size_;
            return e;
        }
        auto exp = next_expiration_slot();
        if (!exp || exp->deadline > now) {
            if (now > elapsed_) elapsed_ = now;
            return nullptr;
        }
        process_expiration(*exp);
        if (exp->deadline > elapsed_) elapsed_ = exp->deadline;
    }
}

}  // namespace corio::detail
