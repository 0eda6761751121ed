/// \file
/// corio/stream/stream_map.hpp — stream_map<K, S>: a keyed, changing set of streams read as one.
///
///     corio::stream::stream_map<std::string, corio::stream::receiver_stream<msg>> rooms;
///     rooms.insert("lobby", corio::stream::receiver_stream(std::move(rx)));
///     while (auto kv = co_await rooms.next()) {
///         auto& [room, m] = *kv;                    // std::pair<K, Item>
///         ...; if (leaving) rooms.remove(room);
///     }
///
/// Holds streams of one type S under distinct keys (tokio-stream's StreamMap) and yields
/// std::pair<K, Item> from whichever has an item. A stream that ends is removed from the map
/// (nothing is yielded for it). next() yields nullopt while the map is empty — at once, not by
/// waiting — so unlike the other streams a stream_map can yield items again after an insert.
/// insert/remove/clear are made by the owning task between next() calls (a stream inserted while
/// a next() is pending is polled at the next wake-up of that next()).
/// Fairness: each next() starts at the stream after the one that yielded last, so busy streams
/// cannot starve the others.
/// Cancel safety: cancel safe when S's next() is: a pending next() has consumed nothing.
/// Cost: insert, remove and lookups are linear in the number of streams (as Tokio's); a poll visits
///   each stream at most once. Allocation: one per inserted stream (so that a stream is never moved
///   once polled: a broadcast_stream or a timeout is pinned), plus the index vector's growth; none
///   per item.
/// Thread safety: one task at a time, like every stream.
#pragma once

#include <corio/stream/stream.hpp>

#include <algorithm>
#include <cstddef>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

namespace corio::stream {

/// A keyed, changing set of streams of one type read as one (tokio-stream's StreamMap): yields
/// std::pair<K, Item> from whichever stream has an item; a stream that ends is removed. Yields
/// nullopt while empty, so it can yield again after an insert. Fair, and cancel safe when S is.
template <class K, class S>
    requires stream<S>
class stream_map : public stream_base<stream_map<K, S>> {
public:
    /// The key type.
    using key_type = K;
    /// The streams' type.
    using stream_type = S;
    /// A key and the item its stream yielded.
    using item_type = std::pair<K, item_t<S>>;

    stream_map() = default;
    /// Moves the map and its streams (between polls).
    stream_map(stream_map&&) noexcept = default;
    /// Replaces the map's streams by `o`'s (between polls).
    stream_map& operator=(stream_map&&) noexcept = default;

    /// Adds `s` under `k`; if `k` was present, its stream is replaced and returned.
    std::optional<S> insert(K k, S s) {
        auto e = std::make_unique<entry>(std::move(k), std::move(s));
        if (auto it = find(e->key); it != entries_.end()) {
            std::optional<S> old(std::move((*it)->stream));
            *it = std::move(e);
            return old;
        }
        entries_.push_back(std::move(e));
        return std::nullopt;
    }

    /// Removes the stream under `k` and returns it (nullopt if absent). Precondition for the
    /// returned stream: S is movable in its current state (pinned streams: use erase()).
    std::optional<S> remove(const K& k) {
        auto it = find(k);
        if (it == entries_.end()) return std::nullopt;
        std::optional<S> s(std::move((*it)->stream));
        entries_.erase(it);
        return s;
    }
    /// Removes and destroys the stream under `k` (cancelling what it waits on); true if present.
    bool erase(const K& k) {
        auto it = find(k);
        if (it == entries_.end()) return false;
        entries_.erase(it);
        return true;
    }
    /// Removes and destroys every stream.
    void clear() noexcept { entries_.clear(); }

    /// True if a stream is held under `k`.
    bool contains(const K& k) const { return find(k) != entries_.end(); }
    /// The stream under `k`, or null.
    S* get(const K& k) {
        auto it = find(k);
        return it == entries_.end() ? nullptr : &(*it)->stream;
    }
    /// How many streams are held.
    std::size_t size() const noexcept { return entries_.size(); }
    /// True if no stream is held (next() then yields nullopt at once).
    bool empty() const noexcept { return entries_.empty(); }
    /// The keys, in the map's current order.
    std::vector<K> keys() const {
        std::vector<K> ks;
        ks.reserve(entries_.size());
        for (const auto& e : entries_) ks.push_back(e->key);
        return ks;
    }

    /// Polls each stream once, starting after the one that yielded last; ready with the first (key,
    /// item), with nullopt if the map is empty; a stream that ends is removed.
    bool poll_next(context& cx, std::optional<item_type>& out) {
        std::size_t remaining = entries_.size();
        std::size_t i = entries_.empty() ? 0 : start_ % entries_.size();
        while (remaining-- > 0) {
            if (i >= entries_.size()) i = 0;
            entry& e = *entries_[i];
            std::optional<item_t<S>> v;
            if (!e.stream.poll_next(cx, v)) {
                ++i;
                continue;
            }
            if (v) {
                out.emplace(e.key, std::move(*v));
                start_ = i + 1;
                return true;
            }
            // Ended: removed; the stream after it moves into slot i and is polled next.
            entries_.erase(entries_.begin() + static_cast<std::ptrdiff_t>(i));
        }
        if (!entries_.empty()) return false;
        out.reset();
        return true;
    }

    /// Cancels every stream's pending poll.
    void cancel_next() noexcept {
        for (auto& e : entries_) detail::cancel_next(e->stream);
    }

private:
    struct entry {
        entry(K k, S s) : key(std::move(k)), stream(std::move(s)) {}
        K key;
        S stream;
    };
    using entries_t = std::vector<std::unique_ptr<entry>>;

    typename entries_t::iterator find(const K& k) {
        return std::find_if(entries_.begin(), entries_.end(), [&k](const auto& e) { return e->key == k; });
    }
    typename entries_t::const_iterator find(const K& k) const {
        return std::find_if(entries_.begin(), entries_.end(), [&k](const auto& e) { return e->key == k; });
    }

    entries_t entries_;
    std::size_t start_ = 0;  // where the next poll begins (fairness)
};

}  // namespace corio::stream
