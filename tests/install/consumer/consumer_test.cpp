// A user's coroutine test against the installed corio::testing.
#include <corio/corio.hpp>
#include <corio/testing.hpp>

CORIO_TEST(consumer, a_channel_round_trip) {
    auto [tx, rx] = corio::mpsc::channel<int>(1);
    ASSERT_TRUE((co_await tx.send(5)).has_value());
    auto v = co_await rx.recv();
    ASSERT_TRUE(v.has_value());
    EXPECT_EQ(*v, 5);
}
