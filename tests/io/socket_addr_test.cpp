// socket_addr_test: parsing and printing of IPv4 / IPv6 "host:port" addresses.
#include <corio/net/socket_addr.hpp>

#include <gtest/gtest.h>

using corio::net::socket_addr;

TEST(socket_addr, parses_ipv4_host_port) {
    auto a = socket_addr::parse("127.0.0.1:8080");
    ASSERT_TRUE(a);
    EXPECT_TRUE(a->is_ipv4());
    EXPECT_EQ(a->port(), 8080);
    EXPECT_EQ(a->ip_string(), "127.0.0.1");
    EXPECT_EQ(a->to_string(), "127.0.0.1:8080");
}

TEST(socket_addr, parses_bracketed_ipv6) {
    auto a = socket_addr::parse("[::1]:443");
    ASSERT_TRUE(a);
    EXPECT_TRUE(a->is_ipv6());
    EXPECT_EQ(a->port(), 443);
    EXPECT_EQ(a->to_string(), "[::1]:443");
    EXPECT_EQ(*a, socket_addr::ipv6_loopback(443));
}

TEST(socket_addr, rejects_malformed_input) {
    for (const char* s : {"", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:8x", "::1:80", "[::1]80",
                          "localhost:80", "1.2.3:80", "[::1"}) {
        auto a = socket_addr::parse(s);
        ASSERT_FALSE(a) << s;
        EXPECT_EQ(a.error(), std::errc::invalid_argument) << s;
    }
}

TEST(socket_addr, loopback_and_any_constructors) {
    EXPECT_EQ(socket_addr::ipv4_loopback(1).to_string(), "127.0.0.1:1");
    EXPECT_EQ(socket_addr::ipv4_any(0).to_string(), "0.0.0.0:0");
    auto a = socket_addr::ipv4_loopback(5);
    a.set_port(6);
    EXPECT_EQ(a.port(), 6);
}
