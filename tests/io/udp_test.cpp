// udp_test: UDP datagrams over loopback — send_to/recv_from with addresses, connect + send/recv,
// and a receive cancelled by timeout that loses no datagram.
#include "io/io_test_util.hpp"

#include <corio/net/udp_socket.hpp>
#include <corio/runtime/runtime.hpp>
#include <corio/runtime/time.hpp>

#include <gtest/gtest.h>

#include <array>
#include <string>

using namespace std::chrono_literals;
using corio::net::socket_addr;
using corio::net::udp_socket;
using corio::testing::bytes_of;

namespace {

corio::task<std::string> udp_main() {
    auto a = udp_socket::bind(socket_addr::ipv4_loopback(0));
    auto b = udp_socket::bind(socket_addr::ipv4_loopback(0));
    if (!a || !b) co_return "bind failed";
    // A receive cancelled by its timeout, then datagrams: none is lost.
    std::array<std::byte, 64> buf;
    auto t = co_await corio::timeout(20ms, b->recv_from(buf));
    if (t) co_return "the receive should have timed out";
    const socket_addr baddr = *b->local_addr();
    (co_await a->send_to(bytes_of("one"), baddr)).value();
    (co_await a->send_to(bytes_of("two"), baddr)).value();
    auto r1 = co_await b->recv_from(buf);
    if (!r1) co_return r1.error().message();
    std::string got = corio::testing::to_string(std::span<const std::byte>(buf.data(), r1->first));
    if (r1->second != *a->local_addr()) co_return "wrong source address";
    // Connected: send/recv.
    b->connect(*a->local_addr()).value();
    auto r2 = co_await b->recv(buf);
    if (!r2) co_return r2.error().message();
    got += corio::testing::to_string(std::span<const std::byte>(buf.data(), r2->first));
    (co_await b->send(bytes_of("back"))).value();
    auto r3 = co_await a->recv_from(buf);
    if (!r3) co_return r3.error().message();
    got += corio::testing::to_string(std::span<const std::byte>(buf.data(), r3->first));
    co_return got;
}

TEST(udp, datagrams_round_trip_and_a_cancelled_receive_loses_none) {
    corio::runtime rt(corio::testing::two_workers());
    EXPECT_EQ(rt.block_on(udp_main()), "onetwoback");
}

}  // namespace
