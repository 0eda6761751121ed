// Integration tests of the kv and chat sample servers: each runs as a process on a free port and
// is driven over real sockets — concurrent clients, the protocol's replies, subscriptions and
// rooms, malformed and overlong input, a client vanishing mid-line, a SIGHUP config reload — and
// must exit 0 within a generous bound after SIGTERM.
#include "server_process.hpp"

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using servers_test::client;
using servers_test::server_process;

// A connection that reads line by line from its own buffer (client::recv_exact erases from the
// front of its buffer, which is quadratic for megabytes of small lines).
class conn {
public:
    explicit conn(std::uint16_t port) : c_(port) {}
    bool connected() const noexcept { return c_.connected(); }
    bool send(std::string_view data) { return c_.send(data); }
    void close() { c_.close(); }
    void reset() { c_.reset(); }

    // One line without its "\n"; nullopt if the connection ended (or the 20 s guard expired).
    std::optional<std::string> line() {
        for (;;) {
            const auto nl = buf_.find('\n', pos_);
            if (nl != std::string::npos) {
                std::string out = buf_.substr(pos_, nl - pos_);
                pos_ = nl + 1;
                if (pos_ > buf_.size() / 2) {
                    buf_.erase(0, pos_);
                    pos_ = 0;
                }
                return out;
            }
            if (!fill()) return std::nullopt;
        }
    }

    // Reads (and drops) everything up to the end of the stream: true on a clean EOF.
    bool reaches_eof() {
        for (;;) {
            char tmp[65536];
            const ssize_t n = ::recv(c_.fd(), tmp, sizeof tmp, 0);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return n == 0;
        }
    }

private:
    bool fill() {
        char tmp[65536];
        for (;;) {
            const ssize_t n = ::recv(c_.fd(), tmp, sizeof tmp, 0);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return false;
            buf_.append(tmp, static_cast<std::size_t>(n));
            return true;
        }
    }

    client c_;
    std::string buf_;
    std::size_t pos_ = 0;
};

std::optional<std::string> read_line(conn& c) { return c.line(); }

// Sends one command line and returns the next line received.
std::string ask(conn& c, const std::string& line) {
    if (!c.send(line + "\n")) return "<send failed>";
    return read_line(c).value_or("<closed>");
}

// Reads lines until one starts with `prefix` (skipping others); nullopt if the connection ends.
std::optional<std::string> read_until(conn& c, const std::string& prefix) {
    for (int i = 0; i < 10000; ++i) {
        auto l = read_line(c);
        if (!l) return std::nullopt;
        if (l->rfind(prefix, 0) == 0) return l;
    }
    return std::nullopt;
}

// Sends one command line and returns the first line received that starts with `prefix` (chat:
// room traffic may come before the reply).
std::string ask_until(conn& c, const std::string& line, const std::string& prefix) {
    if (!c.send(line + "\n")) return "<send failed>";
    return read_until(c, prefix).value_or("<closed>");
}

// "STATS a=1 b=2" -> {a: 1, b: 2} (numeric fields only).
std::map<std::string, unsigned long long> parse_stats(const std::string& line) {
    std::map<std::string, unsigned long long> out;
    std::istringstream in(line);
    std::string tok;
    while (in >> tok) {
        const auto eq = tok.find('=');
        if (eq == std::string::npos) continue;
        out[tok.substr(0, eq)] = std::strtoull(tok.c_str() + eq + 1, nullptr, 10);
    }
    return out;
}

void expect_clean_exit(server_process& srv) {
    std::optional<int> st = srv.stop(SIGTERM, 20s);
    ASSERT_TRUE(st.has_value()) << "server did not exit within 20 s of SIGTERM";
    ASSERT_TRUE(WIFEXITED(*st)) << "server died from signal " << (WIFSIGNALED(*st) ? WTERMSIG(*st) : 0);
    EXPECT_EQ(WEXITSTATUS(*st), 0);
}

// A config file in the test's temp dir, removed at the end.
class temp_config {
public:
    explicit temp_config(const std::string& text) {
        char tmpl[] = "/tmp/kv_chat_test_XXXXXX";
        const int fd = ::mkstemp(tmpl);
        if (fd >= 0) ::close(fd);
        path_ = tmpl;
        write(text);
    }
    ~temp_config() { std::remove(path_.c_str()); }
    // Written aside and renamed over the file: the server never reads a half-written file.
    void write(const std::string& text) const {
        const std::string tmp = path_ + ".new";
        {
            std::ofstream out(tmp, std::ios::trunc);
            out << text;
        }
        std::rename(tmp.c_str(), path_.c_str());
    }
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

// ---- kv ---------------------------------------------------------------------------------------

TEST(kv_server, concurrent_clients_set_get_del_round_trips) {
    auto srv = server_process::start(KV_SERVER_PATH);
    ASSERT_TRUE(srv);
    constexpr int clients = 6;
    constexpr int keys = 20;
    std::vector<std::thread> threads;
    for (int id = 0; id < clients; ++id) {
        threads.emplace_back([port = srv->port(), id] {
            conn c(port);
            ASSERT_TRUE(c.connected());
            for (int k = 0; k < keys; ++k) {
                const std::string key = "c" + std::to_string(id) + ":" + std::to_string(k);
                EXPECT_EQ(ask(c, "GET " + key), "NOT_FOUND");
                EXPECT_EQ(ask(c, "SET " + key + " value " + std::to_string(k)), "OK");
                EXPECT_EQ(ask(c, "GET " + key), "VALUE value " + std::to_string(k));  // spaces kept
            }
            for (int k = 0; k < keys; k += 2) {
                const std::string key = "c" + std::to_string(id) + ":" + std::to_string(k);
                EXPECT_EQ(ask(c, "DEL " + key), "DELETED");
                EXPECT_EQ(ask(c, "DEL " + key), "NOT_FOUND");
                EXPECT_EQ(ask(c, "GET " + key), "NOT_FOUND");
            }
        });
    }
    for (auto& t : threads) t.join();

    conn c(srv->port());
    const auto stats = parse_stats(ask(c, "STATS"));
    EXPECT_EQ(stats.at("keys"), static_cast<unsigned long long>(clients * keys / 2));
    expect_clean_exit(*srv);
}

TEST(kv_server, subscriber_sees_other_clients_changes_for_its_prefix) {
    auto srv = server_process::start(KV_SERVER_PATH);
    ASSERT_TRUE(srv);
    conn sub(srv->port());
    conn all(srv->port());
    conn writer(srv->port());
    ASSERT_EQ(ask(sub, "SUBSCRIBE user:"), "OK");
    ASSERT_EQ(ask(all, "SUBSCRIBE"), "OK");

    EXPECT_EQ(ask(writer, "SET user:1 ada lovelace"), "OK");
    EXPECT_EQ(ask(writer, "SET other x"), "OK");
    EXPECT_EQ(ask(writer, "DEL user:1"), "DELETED");
    EXPECT_EQ(ask(writer, "DEL user:1"), "NOT_FOUND");  // no change: no event
    EXPECT_EQ(ask(writer, "SET user:2 bob"), "OK");

    // Events arrive in the order the actor applied the changes; `other` is filtered out.
    EXPECT_EQ(read_line(sub), "EVENT SET user:1 ada lovelace");
    EXPECT_EQ(read_line(sub), "EVENT DEL user:1");
    EXPECT_EQ(read_line(sub), "EVENT SET user:2 bob");
    EXPECT_EQ(read_line(all), "EVENT SET user:1 ada lovelace");
    EXPECT_EQ(read_line(all), "EVENT SET other x");
    EXPECT_EQ(read_line(all), "EVENT DEL user:1");
    EXPECT_EQ(read_line(all), "EVENT SET user:2 bob");

    // A subscribed connection still takes commands; its own change comes back as an event
    // after the command's reply.
    EXPECT_EQ(ask(sub, "GET user:2"), "VALUE bob");
    EXPECT_EQ(ask(sub, "SET user:3 cy"), "OK");
    EXPECT_EQ(read_line(sub), "EVENT SET user:3 cy");
    expect_clean_exit(*srv);
}

TEST(kv_server, stats_reports_channel_metrics_and_connections) {
    auto srv = server_process::start(KV_SERVER_PATH);
    ASSERT_TRUE(srv);
    conn a(srv->port());
    conn b(srv->port());
    ASSERT_EQ(ask(b, "SUBSCRIBE"), "OK");
    for (int i = 0; i < 5; ++i) ASSERT_EQ(ask(a, "SET k" + std::to_string(i) + " v"), "OK");
    for (int i = 0; i < 5; ++i) ASSERT_EQ(read_line(b), "EVENT SET k" + std::to_string(i) + " v");

    const std::string line = ask(a, "STATS");
    ASSERT_EQ(line.rfind("STATS ", 0), 0u) << line;
    const auto s = parse_stats(line);
    EXPECT_EQ(s.at("connections"), 2u);
    EXPECT_EQ(s.at("keys"), 5u);
    // Requests: the subscribe, 5 sets and this STATS went through the actor's mpsc.
    EXPECT_GE(s.at("requests.sent"), 7u);
    EXPECT_GE(s.at("requests.received"), 7u);
    EXPECT_EQ(s.at("requests.dropped"), 0u);
    EXPECT_GE(s.at("requests.high_water"), 1u);
    // Events: 5 sets, each received by the one subscriber.
    EXPECT_EQ(s.at("events.sent"), 5u);
    EXPECT_EQ(s.at("events.received"), 5u);
    EXPECT_EQ(s.at("events.lagged"), 0u);
    expect_clean_exit(*srv);
}

TEST(kv_server, malformed_commands_get_err_and_the_connection_keeps_going) {
    auto srv = server_process::start(KV_SERVER_PATH);
    ASSERT_TRUE(srv);
    conn c(srv->port());
    EXPECT_EQ(ask(c, "FROB x"), "ERR unknown command");
    EXPECT_EQ(ask(c, ""), "ERR empty command");
    EXPECT_EQ(ask(c, "GET"), "ERR usage: GET key");
    EXPECT_EQ(ask(c, "SET onlykey"), "ERR usage: SET key value");
    EXPECT_EQ(ask(c, "DEL a b"), "ERR usage: DEL key");
    EXPECT_EQ(ask(c, "get lower"), "ERR unknown command");
    EXPECT_EQ(ask(c, "SET k v\r"), "OK");  // "\r\n" line ends are fine
    EXPECT_EQ(ask(c, "GET k"), "VALUE v");
    expect_clean_exit(*srv);
}

TEST(kv_server, overlong_line_gets_an_error_and_is_closed_others_unaffected) {
    auto srv = server_process::start(KV_SERVER_PATH, {"--max-line", "64"});
    ASSERT_TRUE(srv);
    conn other(srv->port());
    EXPECT_EQ(ask(other, "SET a 1"), "OK");

    conn c(srv->port());
    ASSERT_TRUE(c.send("SET big " + std::string(200, 'x')));  // no newline: the limit still applies
    EXPECT_EQ(read_line(c), "ERR line too long");
    EXPECT_TRUE(c.reaches_eof()) << "the server closes an overlong line's connection";

    conn d(srv->port());
    EXPECT_EQ(ask(d, "SET big " + std::string(200, 'y')), "ERR line too long");  // with a newline too
    EXPECT_EQ(ask(other, "GET a"), "VALUE 1");
    EXPECT_EQ(ask(other, "SET exact " + std::string(64 - 10, 'z')), "OK");  // exactly 64 bytes
    expect_clean_exit(*srv);
}

TEST(kv_server, sighup_reloads_the_limits_from_the_config_file) {
    temp_config conf("# test limits\nmax_value_size = 16\nmax_keys = 3\n");
    auto srv = server_process::start(KV_SERVER_PATH, {"--config", conf.path()});
    ASSERT_TRUE(srv);
    conn c(srv->port());
    const std::string ten(10, 'v');
    EXPECT_EQ(ask(c, "SET a " + ten), "OK");
    EXPECT_EQ(ask(c, "SET a " + std::string(17, 'v')), "ERR value too large");
    EXPECT_EQ(ask(c, "SET b 1"), "OK");
    EXPECT_EQ(ask(c, "SET c 1"), "OK");
    EXPECT_EQ(ask(c, "SET d 1"), "ERR too many keys");
    EXPECT_EQ(ask(c, "SET c 2"), "OK");  // replacing is not adding

    // Reloads are asynchronous: poll STATS (which shows the limits and the reload counts).
    auto wait_for_stat = [&c](const std::string& key, unsigned long long want) {
        for (int i = 0; i < 2000; ++i) {
            if (parse_stats(ask(c, "STATS"))[key] == want) return true;
            std::this_thread::sleep_for(10ms);
        }
        return false;
    };
    // A broken file is refused: the limits stay.
    conf.write("max_value_size = lots\n");
    ASSERT_EQ(::kill(srv->pid(), SIGHUP), 0);
    ASSERT_TRUE(wait_for_stat("reload_errors", 1)) << "the broken reload was not reported within 20 s\n" << srv->signal_report();
    EXPECT_EQ(parse_stats(ask(c, "STATS"))["max_value_size"], 16u);
    EXPECT_EQ(ask(c, "SET a " + ten), "OK");

    conf.write("max_value_size = 8\nmax_keys = 10\n");
    ASSERT_EQ(::kill(srv->pid(), SIGHUP), 0);
    ASSERT_TRUE(wait_for_stat("max_value_size", 8)) << "SIGHUP did not change max_value_size within 20 s\n" << srv->signal_report();
    EXPECT_EQ(parse_stats(ask(c, "STATS"))["reloads"], 1u);
    EXPECT_EQ(ask(c, "SET a " + ten), "ERR value too large");  // accepted before the reload
    EXPECT_EQ(ask(c, "SET a 12345678"), "OK");
    EXPECT_EQ(ask(c, "SET d 1"), "OK");  // max_keys went up
    expect_clean_exit(*srv);
}

TEST(kv_server, a_client_vanishing_mid_line_does_not_disturb_others) {
    auto srv = server_process::start(KV_SERVER_PATH);
    ASSERT_TRUE(srv);
    conn steady(srv->port());
    conn watcher(srv->port());
    ASSERT_EQ(ask(watcher, "SUBSCRIBE"), "OK");
    for (int i = 0; i < 5; ++i) {
        conn gone(srv->port());
        ASSERT_TRUE(gone.send("SET half"));  // no newline, then gone
        if (i % 2 == 0) gone.close();
        else gone.reset();  // RST instead of FIN
        EXPECT_EQ(ask(steady, "SET k" + std::to_string(i) + " v"), "OK");
        EXPECT_EQ(read_line(watcher), "EVENT SET k" + std::to_string(i) + " v");  // nothing from `half`
    }
    EXPECT_EQ(ask(steady, "GET half"), "NOT_FOUND");
    expect_clean_exit(*srv);
}

TEST(kv_server, a_subscriber_that_falls_behind_is_told_lagged_and_nothing_goes_unaccounted) {
    // Big values and a subscriber that does not read: its connection blocks writing once the
    // socket buffers are full (a few MB on loopback), the events pile up in the broadcast, and
    // when it resumes it is more than subscriber_buffer behind.
    temp_config conf("max_value_size = 65536\nsubscriber_buffer = 4\n");
    auto srv = server_process::start(KV_SERVER_PATH, {"--config", conf.path(), "--max-line", "70000"});
    ASSERT_TRUE(srv);
    conn slow(srv->port());
    conn writer(srv->port());
    ASSERT_EQ(ask(slow, "SUBSCRIBE"), "OK");
    constexpr int sets = 400;  // 400 x 64 KiB = 25 MiB: more than loopback buffers hold
    const std::string value(65536, 'v');
    for (int i = 0; i < sets; ++i) ASSERT_EQ(ask(writer, "SET k " + value), "OK");

    std::uint64_t events = 0;
    std::uint64_t lagged = 0;
    int lagged_lines = 0;
    while (events + lagged < sets) {
        auto l = read_line(slow);
        ASSERT_TRUE(l.has_value()) << "after " << events << " events and " << lagged << " lagged";
        if (l->rfind("EVENT SET k ", 0) == 0) {
            ++events;
        } else {
            ASSERT_EQ(l->rfind("LAGGED ", 0), 0u) << l->substr(0, 40);
            lagged += std::strtoull(l->c_str() + 7, nullptr, 10);
            ++lagged_lines;
        }
    }
    EXPECT_EQ(events + lagged, static_cast<std::uint64_t>(sets));
    EXPECT_GE(lagged_lines, 1);
    EXPECT_GT(lagged, 0u);
    EXPECT_EQ(ask(slow, "GET missing"), "NOT_FOUND");  // and it still serves commands
    expect_clean_exit(*srv);
}

TEST(kv_server, sigterm_with_idle_and_subscribed_clients_exits_zero) {
    auto srv = server_process::start(KV_SERVER_PATH, {"--deadline-ms", "2000"});
    ASSERT_TRUE(srv);
    conn idle(srv->port());
    conn sub(srv->port());
    ASSERT_EQ(ask(sub, "SUBSCRIBE"), "OK");
    ASSERT_TRUE(idle.send("GET par"));  // mid-line when the signal comes
    expect_clean_exit(*srv);
    EXPECT_TRUE(sub.reaches_eof());
}

TEST(kv_server, refuses_to_start_with_an_invalid_config) {
    temp_config conf("max_value_size = 10\nbogus = 1\n");
    std::optional<int> st = servers_test::run_to_exit(KV_SERVER_PATH, {"0", "--config", conf.path()});
    ASSERT_TRUE(st.has_value());
    ASSERT_TRUE(WIFEXITED(*st));
    EXPECT_EQ(WEXITSTATUS(*st), 2);
}

// ---- chat -------------------------------------------------------------------------------------

// Connects and reads the welcome line.
conn chat_client(std::uint16_t port) {
    conn c(port);
    auto hello = read_line(c);
    EXPECT_TRUE(hello && hello->rfind("* welcome guest", 0) == 0) << hello.value_or("<closed>");
    return c;
}

TEST(chat_server, members_of_a_room_see_each_others_messages) {
    auto srv = server_process::start(CHAT_SERVER_PATH);
    ASSERT_TRUE(srv);
    conn ada = chat_client(srv->port());
    conn bob = chat_client(srv->port());
    EXPECT_EQ(ask(ada, "NICK ada"), "OK nick ada");
    EXPECT_EQ(ask(bob, "NICK bob"), "OK nick bob");
    EXPECT_EQ(ask(ada, "JOIN general"), "OK joined general");
    EXPECT_EQ(read_line(ada), "* ada joined general");
    EXPECT_EQ(ask(bob, "JOIN general"), "OK joined general");
    EXPECT_EQ(read_line(bob), "* bob joined general");
    EXPECT_EQ(read_line(ada), "* bob joined general");

    ASSERT_TRUE(ada.send("MSG hello bob\n"));
    EXPECT_EQ(read_line(bob), "[general] ada: hello bob");
    EXPECT_EQ(read_line(ada), "[general] ada: hello bob");  // the sender sees the room's order too
    ASSERT_TRUE(bob.send("MSG hi ada\n"));
    EXPECT_EQ(read_line(ada), "[general] bob: hi ada");
    EXPECT_EQ(read_line(bob), "[general] bob: hi ada");

    EXPECT_EQ(ask(bob, "LEAVE"), "OK left general");
    EXPECT_EQ(read_line(ada), "* bob left general");
    EXPECT_EQ(ask(bob, "MSG anyone?"), "ERR join a room first");
    expect_clean_exit(*srv);
}

TEST(chat_server, rooms_are_isolated_and_listed) {
    auto srv = server_process::start(CHAT_SERVER_PATH);
    ASSERT_TRUE(srv);
    conn a = chat_client(srv->port());
    conn b = chat_client(srv->port());
    conn c = chat_client(srv->port());
    ASSERT_EQ(ask(a, "JOIN general"), "OK joined general");
    ASSERT_EQ(ask(b, "JOIN general"), "OK joined general");
    ASSERT_EQ(ask(c, "JOIN random"), "OK joined random");
    EXPECT_EQ(ask_until(c, "ROOMS", "ROOMS"), "ROOMS general(2) random(1)");

    ASSERT_TRUE(a.send("MSG secret\n"));
    ASSERT_TRUE(read_until(b, "[general]").has_value());  // delivered to general...
    ASSERT_TRUE(c.send("MSG ping\n"));
    auto first = read_until(c, "[");
    ASSERT_TRUE(first.has_value());
    EXPECT_EQ(first->find("secret"), std::string::npos) << "random received general's message";  // ...not to random
    EXPECT_NE(first->find("[random]"), std::string::npos) << *first;

    // Several concurrent talkers in one room: every member sees every message, in one order.
    constexpr int talkers = 4;
    constexpr int each = 10;
    std::vector<conn> more;
    for (int i = 0; i < talkers; ++i) {
        more.push_back(chat_client(srv->port()));
        ASSERT_EQ(ask(more.back(), "NICK t" + std::to_string(i)), "OK nick t" + std::to_string(i));
        ASSERT_EQ(ask(more.back(), "JOIN busy"), "OK joined busy");
    }
    std::vector<std::thread> threads;
    for (int i = 0; i < talkers; ++i)
        threads.emplace_back([&more, i] {
            for (int k = 0; k < each; ++k) more[i].send("MSG m" + std::to_string(k) + "\n");
        });
    for (auto& t : threads) t.join();
    std::vector<std::vector<std::string>> seen(talkers);
    for (int i = 0; i < talkers; ++i) {
        while (seen[i].size() < static_cast<std::size_t>(talkers * each)) {
            auto l = read_until(more[i], "[busy]");
            ASSERT_TRUE(l.has_value());
            seen[i].push_back(*l);
        }
    }
    for (int i = 1; i < talkers; ++i) EXPECT_EQ(seen[i], seen[0]);
    EXPECT_EQ(ask_until(c, "ROOMS", "ROOMS"), "ROOMS busy(4) general(2) random(1)");
    expect_clean_exit(*srv);
}

TEST(chat_server, a_member_that_falls_behind_is_told_how_many_messages_it_missed) {
    // Big messages and a member that does not read: once its socket buffers are full its
    // connection blocks writing, the room's ring (64 messages) laps it, and when it reads again
    // it is told `* missed n messages` and carries on with the newest ones.
    auto srv = server_process::start(CHAT_SERVER_PATH, {"--max-line", "70000"});
    ASSERT_TRUE(srv);
    conn slow = chat_client(srv->port());
    conn talker = chat_client(srv->port());
    ASSERT_EQ(ask(slow, "JOIN r"), "OK joined r");
    ASSERT_EQ(ask(talker, "JOIN r"), "OK joined r");
    constexpr int messages = 400;  // 400 x 60 KB: more than loopback buffers hold
    const std::string body(60000, 'm');
    // The talker's own copies must be read while it talks, or its connection would block too.
    std::thread drain([&talker] { read_until(talker, "[r] guest2: " + std::to_string(messages - 1) + " "); });
    for (int i = 0; i < messages; ++i) ASSERT_TRUE(talker.send("MSG " + std::to_string(i) + " " + body + "\n"));
    drain.join();

    std::uint64_t missed = 0;
    int received = 0;
    for (;;) {
        auto l = read_line(slow);
        ASSERT_TRUE(l.has_value()) << "after " << received << " messages and " << missed << " missed";
        if (l->rfind("* missed ", 0) == 0) {
            missed += std::strtoull(l->c_str() + 9, nullptr, 10);
        } else if (l->rfind("[r] guest2: ", 0) == 0) {
            ++received;
            if (l->rfind("[r] guest2: " + std::to_string(messages - 1) + " ", 0) == 0) break;  // the last one
        }
    }
    EXPECT_GT(missed, 0u);
    EXPECT_GE(received + missed, static_cast<std::uint64_t>(messages));  // + the join lines it may have missed
    EXPECT_LE(received + missed, static_cast<std::uint64_t>(messages) + 2);
    expect_clean_exit(*srv);
}

TEST(chat_server, malformed_overlong_and_vanishing_clients) {
    auto srv = server_process::start(CHAT_SERVER_PATH, {"--max-line", "100"});
    ASSERT_TRUE(srv);
    conn a = chat_client(srv->port());
    EXPECT_EQ(ask(a, "SHOUT hi"), "ERR unknown command");
    EXPECT_EQ(ask(a, "JOIN"), "ERR usage: JOIN room (1-32 of A-Z a-z 0-9 _ -)");
    EXPECT_EQ(ask(a, "NICK two words"), "ERR usage: NICK name (1-32 of A-Z a-z 0-9 _ -)");
    EXPECT_EQ(ask(a, "LEAVE"), "ERR not in a room");
    EXPECT_EQ(ask(a, "JOIN lobby"), "OK joined lobby");
    EXPECT_EQ(read_line(a), "* guest1 joined lobby");

    {
        conn gone = chat_client(srv->port());
        ASSERT_EQ(ask(gone, "JOIN lobby"), "OK joined lobby");
        ASSERT_TRUE(gone.send("MSG half a mess"));  // mid-line, then reset
        gone.reset();
    }
    auto joined = read_until(a, "* guest2 left lobby");
    EXPECT_TRUE(joined.has_value()) << "the room hears that a vanished client left";

    conn big = chat_client(srv->port());
    EXPECT_EQ(ask(big, "MSG " + std::string(300, 'x')), "ERR line too long");
    EXPECT_TRUE(big.reaches_eof());

    ASSERT_TRUE(a.send("MSG still here\n"));
    EXPECT_EQ(read_until(a, "[lobby]"), "[lobby] guest1: still here");
    expect_clean_exit(*srv);
    EXPECT_EQ(read_line(a), "* server shutting down");
}

}  // namespace
