// dump_test: runtime::dump() lists every live task with its name, spawn site and state, and says
// what a suspended task waits on; a dump never loses a wake, an abort or a shutdown that comes
// while it inspects a task (task_state::try_lock_for_inspection); and the registry is off by
// default.
//
// Waits for a state that settles asynchronously (a task suspends at its first poll) go through
// settle(), whose bound only catches a hang.
#include <corio/channels/mpsc.hpp>
#include <corio/channels/oneshot.hpp>
#include <corio/runtime/dump.hpp>
#include <corio/runtime/join_handle.hpp>
#include <corio/runtime/runtime.hpp>
#include <corio/runtime/select.hpp>
#include <corio/runtime/time.hpp>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;

corio::runtime_options with_registry(std::size_t workers = 2) {
    corio::runtime_options o;
    o.worker_threads = workers;
    o.enable_task_registry = true;
    return o;
}

const corio::task_dump* find_named(const corio::runtime_dump& d, std::string_view name) {
    for (const auto& t : d.tasks)
        if (t.name == name) return &t;
    return nullptr;
}

// Dumps until `pred` holds; false after 20 s (a hang).
bool settle(corio::runtime& rt, const std::function<bool(const corio::runtime_dump&)>& pred) {
    const auto give_up = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < give_up) {
        if (pred(rt.dump())) return true;
        std::this_thread::sleep_for(1ms);
    }
    return false;
}

bool suspended(const corio::runtime_dump& d, std::string_view name) {
    const corio::task_dump* t = find_named(d, name);
    return t && t->state == corio::task_dump_state::suspended;
}

corio::task<int> receive_one(corio::mpsc::receiver<int> rx) {
    auto v = co_await rx.recv();
    co_return v.value_or(-1);
}

TEST(dump, without_the_registry_it_carries_the_metrics_only) {
    corio::runtime rt({.worker_threads = 1});
    auto [tx, rx] = corio::mpsc::channel<int>(4);
    auto h = rt.spawn(receive_one(std::move(rx)));
    const corio::runtime_dump d = rt.dump();
    EXPECT_FALSE(d.registry_enabled);
    EXPECT_TRUE(d.tasks.empty());
    EXPECT_EQ(d.metrics.workers.size(), 1u);
    EXPECT_NE(fmt::format("{}", d).find("enable_task_registry is off"), std::string::npos);
    tx.try_send(7).value();
    EXPECT_EQ(h.blocking_join().value(), 7);
}

TEST(dump, names_the_task_its_spawn_site_and_the_channel_it_waits_on) {
    corio::runtime rt(with_registry());
    auto [tx, rx] = corio::mpsc::channel<int>(64);
    const std::uint32_t line = __LINE__ + 1;
    auto h = corio::task_builder().name("jobs-consumer").spawn_on(rt.handle(), receive_one(std::move(rx)));
    ASSERT_TRUE(settle(rt, [](const auto& d) { return suspended(d, "jobs-consumer"); }));

    const corio::runtime_dump d = rt.dump();
    EXPECT_TRUE(d.registry_enabled);
    const corio::task_dump* t = find_named(d, "jobs-consumer");
    ASSERT_NE(t, nullptr);
    EXPECT_NE(std::string(t->site.file).find("dump_test.cpp"), std::string::npos);
    EXPECT_EQ(t->site.line, line);
    EXPECT_GE(t->polls, 1u);
    EXPECT_EQ(t->waiting_on, "recv on mpsc channel (0 of 64 queued, 1 senders alive)");

    const std::string text = fmt::format("{}", d);
    EXPECT_NE(text.find("'jobs-consumer' [suspended]"), std::string::npos) << text;
    EXPECT_NE(text.find("waiting on: recv on mpsc channel"), std::string::npos) << text;
    const std::string json = d.to_json();
    EXPECT_NE(json.find("\"name\":\"jobs-consumer\""), std::string::npos) << json;
    EXPECT_NE(json.find("\"state\":\"suspended\""), std::string::npos) << json;

    // The inspection left the task as it found it: the send wakes it, and it finishes.
    tx.try_send(5).value();
    EXPECT_EQ(h.blocking_join().value(), 5);
    // A completed task has no row.
    ASSERT_TRUE(settle(rt, [](const auto& d2) { return find_named(d2, "jobs-consumer") == nullptr; }));
}

corio::task<void> wait_on_select(corio::mpsc::receiver<int> rx, corio::oneshot::receiver<int> stop) {
    co_await corio::select(corio::branch(rx.recv(), [](std::optional<int>) {}),
                           corio::branch(stop, [](auto) {}),
                           corio::branch(corio::sleep(1h), [] {}));
}

TEST(dump, a_select_lists_its_pending_branches) {
    corio::runtime rt(with_registry());
    auto [tx, rx] = corio::mpsc::channel<int>(8);
    auto [stop_tx, stop_rx] = corio::oneshot::channel<int>();
    auto h = corio::task_builder().name("selector").spawn_on(rt.handle(), wait_on_select(std::move(rx), std::move(stop_rx)));
    ASSERT_TRUE(settle(rt, [](const auto& d) { return suspended(d, "selector"); }));
    const corio::runtime_dump d = rt.dump();
    const corio::task_dump* t = find_named(d, "selector");
    ASSERT_NE(t, nullptr);
    const std::string& w = t->waiting_on;
    EXPECT_EQ(w.rfind("select { ", 0), 0u) << w;
    EXPECT_NE(w.find("recv on mpsc channel (0 of 8 queued, 1 senders alive)"), std::string::npos) << w;
    EXPECT_NE(w.find("recv on oneshot channel"), std::string::npos) << w;
    EXPECT_NE(w.find("sleep, "), std::string::npos) << w;
    EXPECT_NE(w.find(" to go"), std::string::npos) << w;
    EXPECT_TRUE(stop_tx.send(1).has_value());
    h.blocking_join().value();
}

corio::task<std::string> dump_myself() {
    const corio::runtime_dump d = corio::runtime_handle::current().dump();
    for (const auto& t : d.tasks)
        if (t.name == "self") co_return std::string(corio::to_string(t.state));
    co_return "missing";
}

TEST(dump, a_task_sees_itself_running) {
    corio::runtime rt(with_registry(1));
    auto h = corio::task_builder().name("self").spawn_on(rt.handle(), dump_myself());
    EXPECT_EQ(h.blocking_join().value(), "running");
}

TEST(dump, unnamed_tasks_are_listed_by_id_with_their_site) {
    corio::runtime rt(with_registry(1));
    auto [tx, rx] = corio::mpsc::channel<int>(1);
    auto h = rt.spawn(receive_one(std::move(rx)));
    ASSERT_TRUE(settle(rt, [](const auto& d) {
        return d.tasks.size() == 1 && d.tasks[0].state == corio::task_dump_state::suspended;
    }));
    const corio::runtime_dump d = rt.dump();
    EXPECT_TRUE(d.tasks[0].name.empty());
    EXPECT_GE(d.tasks[0].id, 1u);
    EXPECT_NE(std::string(d.tasks[0].site.file).find("dump_test.cpp"), std::string::npos);
    tx.try_send(1).value();
    EXPECT_EQ(h.blocking_join().value(), 1);
}

TEST(dump, json_escapes_names) {
    corio::runtime rt(with_registry(1));
    auto [tx, rx] = corio::mpsc::channel<int>(1);
    auto h = corio::task_builder().name("a \"quoted\"\\name\n").spawn_on(rt.handle(), receive_one(std::move(rx)));
    ASSERT_TRUE(settle(rt, [](const auto& d) { return d.tasks.size() == 1; }));
    const std::string json = rt.dump().to_json();
    EXPECT_NE(json.find(R"("name":"a \"quoted\"\\name\n")"), std::string::npos) << json;
    tx.try_send(1).value();
    h.blocking_join().value();
}

// A consumer is woken for every message while another thread dumps in a loop: a wake that lands
// while the dump holds the consumer's `running` bit must be delivered when the dump lets go.
corio::task<long> sum_until_closed(corio::mpsc::receiver<int> rx) {
    long sum = 0;
    while (auto v = co_await rx.recv()) sum += *v;
    co_return sum;
}

corio::task<void> produce(corio::mpsc::sender<int> tx, int n) {
    for (int i = 1; i <= n; ++i) (void)co_await tx.send(i);
}

TEST(dump_stress, wakes_during_inspection_are_never_lost) {
    corio::runtime rt(with_registry());
    constexpr int n = 20'000;
    auto [tx, rx] = corio::mpsc::channel<int>(1);  // capacity 1: both sides park often
    auto consumer = rt.spawn(sum_until_closed(std::move(rx)));
    auto producer = rt.spawn(produce(std::move(tx), n));
    std::atomic<bool> stop{false};
    std::atomic<long> dumps{0};
    std::thread dumper([&] {
        while (!stop.load()) {
            (void)rt.dump();
            dumps.fetch_add(1);
        }
    });
    producer.blocking_join().value();
    EXPECT_EQ(consumer.blocking_join().value(), static_cast<long>(n) * (n + 1) / 2);
    stop = true;
    dumper.join();
    EXPECT_GT(dumps.load(), 0);
}

// Aborts and a shutdown that come while a dump holds a task's `running` bit are carried out by
// the dump when it lets go: every task ends cancelled, none is left behind.
TEST(dump_stress, aborts_and_shutdown_during_inspection_are_carried_out) {
    for (int round = 0; round < 20; ++round) {
        auto rt = std::make_unique<corio::runtime>(with_registry());
        std::vector<corio::join_handle<int>> handles;
        std::vector<corio::mpsc::sender<int>> keep;
        for (int i = 0; i < 50; ++i) {
            auto [tx, rx] = corio::mpsc::channel<int>(1);
            keep.push_back(std::move(tx));
            handles.push_back(rt->spawn(receive_one(std::move(rx))));
        }
        std::atomic<bool> stop{false};
        std::thread dumper([&] {
            while (!stop.load()) (void)rt->dump();
        });
        for (int i = 0; i < 25; ++i) handles[static_cast<std::size_t>(i)].abort();
        for (int i = 0; i < 25; ++i) {
            auto r = handles[static_cast<std::size_t>(i)].blocking_join();
            ASSERT_FALSE(r.has_value());
            EXPECT_TRUE(r.error().is_cancelled());
        }
        rt->shutdown(10s);
        stop = true;
        dumper.join();
        for (int i = 25; i < 50; ++i) {
            auto r = handles[static_cast<std::size_t>(i)].blocking_join();
            ASSERT_FALSE(r.has_value());
            EXPECT_TRUE(r.error().is_cancelled());
        }
        EXPECT_EQ(rt->metrics().alive_tasks, 0u);
    }
}

}  // namespace
