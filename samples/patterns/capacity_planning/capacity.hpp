// capacity.hpp — size a bounded channel from produce rate, consume rate and burst length.
//
//     capacity::load l{.produce_per_sec = 1000, .consume_per_sec = 250, .burst = 40ms};
//     capacity::plan p = capacity::plan_for(l);        // p.capacity == 38, p.drain_time == 120ms
//     auto [tx, rx] = corio::mpsc::channel<job>(p.capacity);
//
// The model. During a burst the producer sends at P values/s while the consumer takes C values/s.
// If P > C the backlog grows by (P - C) every second, so at the end of a burst of length B it
// peaks at
//
//     peak = (P - C) * B
//
// A channel with room for the peak absorbs the whole burst: the producer never waits (send) and
// never drops (try_send). After the burst the consumer needs peak / C to drain the backlog, so
// bursts must be at least that far apart (drain_time); if they come more often, the backlog
// carries over from burst to burst, and no capacity is enough in the long run: the consumer is
// simply too slow (on average P_avg >= C) and the answer is a faster consumer, not a bigger
// queue. The capacity is the peak times a headroom factor (1.25 by default) because the rates
// are averages and real arrivals jitter, rounded up, and at least 1. If P <= C the backlog does
// not grow, and one slot (times the headroom) suffices.
//
// A bigger capacity is not free: every slot is memory, and values in a long queue are old by the
// time they are consumed (latency = backlog / C). Size for the burst you must absorb and let
// backpressure (send) or shedding (try_send) handle the rest.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <stdexcept>

namespace capacity {

struct load {
    double produce_per_sec = 0;           // P: the producer's rate during a burst
    double consume_per_sec = 0;           // C: the consumer's sustained rate
    std::chrono::milliseconds burst{0};   // B: how long a burst lasts
};

struct plan {
    double peak_backlog = 0;                  // (P - C) * B, values
    std::size_t capacity = 1;                 // ceil(peak * headroom), at least 1
    std::chrono::milliseconds drain_time{0};  // peak / C: the minimum gap between bursts
};

inline plan plan_for(const load& l, double headroom = 1.25) {
    if (!(l.consume_per_sec > 0) || l.produce_per_sec < 0 || l.burst.count() < 0 || headroom < 1)
        throw std::invalid_argument("capacity::plan_for: need C > 0, P >= 0, B >= 0, headroom >= 1");
    plan p;
    const double seconds = std::chrono::duration<double>(l.burst).count();
    p.peak_backlog = std::max(0.0, l.produce_per_sec - l.consume_per_sec) * seconds;
    p.capacity = std::max<std::size_t>(1, static_cast<std::size_t>(std::ceil(p.peak_backlog * headroom)));
    p.drain_time = std::chrono::milliseconds(static_cast<long long>(std::ceil(p.peak_backlog / l.consume_per_sec * 1000)));
    return p;
}

}  // namespace capacity
