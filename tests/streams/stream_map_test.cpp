// stream_map_test: stream_map<K, S> — keyed items, removal of ended streams, insert/remove/replace,
// fairness, the empty map, and a cancelled next().
#include <corio/channels/broadcast.hpp>
#include <corio/channels/mpsc.hpp>
#include <corio/runtime/runtime.hpp>
#include <corio/runtime/time.hpp>
#include <corio/stream.hpp>

#include "streams/stream_test_support.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

using namespace std::chrono_literals;
namespace st = corio::stream;
using corio::testing::paused_runtime;

namespace {

using int_iter = st::iter_stream<std::vector<int>>;

std::string kv_text(const std::pair<std::string, int>& kv) { return kv.first + std::to_string(kv.second); }

corio::task<std::vector<std::string>> keyed_and_fair() {
    st::stream_map<std::string, int_iter> m;
    m.insert("a", st::iter(std::vector<int>{1, 2, 3}));
    m.insert("b", st::iter(std::vector<int>{1}));
    m.insert("c", st::iter(std::vector<int>{1, 2}));
    std::vector<std::string> out;
    while (auto kv = co_await m.next()) {
        out.push_back(kv_text(*kv));
        out.push_back(std::to_string(m.size()));
    }
    out.push_back(m.empty() ? "empty" : "not empty");
    co_return out;
}

TEST(stream_map, yields_keyed_items_in_turn_and_removes_ended_streams) {
    corio::runtime rt({.worker_threads = 1});
    // a1 b1 c1 a2; then b ends (removed, nothing yielded) and c2 comes in its turn; a3; c and a
    // end: empty.
    EXPECT_EQ(rt.block_on(keyed_and_fair()), (std::vector<std::string>{"a1", "3", "b1", "3", "c1", "3", "a2", "3", "c2",
                                                                        "2", "a3", "2", "empty"}));
}

corio::task<std::vector<std::string>> insert_remove_replace() {
    st::stream_map<std::string, int_iter> m;
    std::vector<std::string> out;
    auto none = co_await m.next();
    out.push_back(none ? "item from an empty map" : "empty: nullopt");
    m.insert("x", st::iter(std::vector<int>{1, 2}));
    auto old = m.insert("x", st::iter(std::vector<int>{7}));  // replaces, hands the old one back
    out.push_back(old ? "old returned" : "no old");
    m.insert("y", st::iter(std::vector<int>{5, 6}));
    auto v = co_await m.next();
    out.push_back(v ? kv_text(*v) : "none");
    auto y = m.remove("y");  // with its unread items
    out.push_back(m.contains("y") ? "y still there" : "y removed");
    if (y) {
        while (auto i = co_await y->next()) out.push_back("y:" + std::to_string(*i));
    }
    if (old) {
        auto first = co_await old->next();
        out.push_back(first ? "old:" + std::to_string(*first) : "old empty");
    }
    while (auto kv = co_await m.next()) out.push_back(kv_text(*kv));
    out.push_back(m.remove("nope") ? "removed a missing key" : "missing: nullopt");
    co_return out;
}

TEST(stream_map, insert_replace_remove_and_the_empty_map) {
    corio::runtime rt({.worker_threads = 1});
    EXPECT_EQ(rt.block_on(insert_remove_replace()),
              (std::vector<std::string>{"empty: nullopt", "old returned", "x7", "y removed", "y:5", "y:6", "old:1",
                                        "missing: nullopt"}));
}

corio::task<std::vector<std::string>> map_of_channels() {
    st::stream_map<int, st::broadcast_stream<int>> m;
    auto [tx1, rx1] = corio::broadcast::channel<int>(8);
    auto [tx2, rx2] = corio::broadcast::channel<int>(8);
    m.insert(1, st::broadcast_stream(std::move(rx1)));
    m.insert(2, st::broadcast_stream(std::move(rx2)));
    std::vector<std::string> out;
    // A pending next() is cancelled: nothing is lost, and the map (whose streams keep their recv
    // registered) can still change before the next next().
    auto r = co_await corio::timeout(5ms, m.next());
    out.push_back(r ? "not cancelled" : "cancelled");
    (void)tx2.send(20);
    auto a = co_await m.next();
    out.push_back(a && a->second ? std::to_string(a->first) + ":" + std::to_string(*a->second) : "lost");
    m.erase(2);  // destroys the stream with its registered recv
    (void)tx1.send(10);
    { auto gone = std::move(tx1); }
    while (auto kv = co_await m.next()) {
        out.push_back(kv->second ? std::to_string(kv->first) + ":" + std::to_string(*kv->second) : "lag");
    }
    out.push_back(std::to_string(m.size()));
    co_return out;
}

TEST(stream_map, a_cancelled_next_loses_nothing_and_streams_can_be_erased_after_it) {
    corio::runtime rt(paused_runtime());
    EXPECT_EQ(rt.block_on(map_of_channels()), (std::vector<std::string>{"cancelled", "2:20", "1:10", "0"}));
}

}  // namespace
