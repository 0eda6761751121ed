/// \file
/// corio/channels/broadcast/fwd.hpp — declarations of the broadcast handles and channel(), so that
/// each handle header can befriend the others (and channel()'s default argument is given once).
#pragma once

#include <corio/channels/broadcast/replay.hpp>
#include <corio/channels/metrics.hpp>

#include <cstddef>
#include <utility>

namespace corio::broadcast {

template <class T>
class sender;
template <class T>
class receiver;

template <class T>
std::pair<sender<T>, receiver<T>> channel(std::size_t capacity, const channel_options& opts = {});
template <class T>
std::pair<sender<T>, receiver<T>> channel(std::size_t capacity, replay history, const channel_options& opts = {});

}  // namespace corio::broadcast
