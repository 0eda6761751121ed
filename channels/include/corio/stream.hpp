/// \file
/// corio/stream.hpp — every stream adapter and combinator (docs/streams.md is the guide).
///
///     #include <corio/stream.hpp>
///     namespace st = corio::stream;
///     auto s = st::receiver_stream(std::move(rx)) | st::filter(is_valid) | st::chunks_timeout(64, 10ms);
///     while (auto batch = co_await s.next()) flush(*batch);
#pragma once

#include <corio/stream/stream.hpp>

#include <corio/stream/chunks_timeout.hpp>
#include <corio/stream/interval_stream.hpp>
#include <corio/stream/iter.hpp>
#include <corio/stream/map.hpp>
#include <corio/stream/merge.hpp>
#include <corio/stream/receiver_streams.hpp>
#include <corio/stream/stream_map.hpp>
#include <corio/stream/take.hpp>
#include <corio/stream/throttle.hpp>
#include <corio/stream/timeout.hpp>
