/// \file
/// corio/channels/watch/fwd.hpp — declarations of the watch handles and channel(), so that each
/// handle header can befriend the others (and channel()'s default argument is given once).
#pragma once

#include <corio/channels/metrics.hpp>

#include <utility>

namespace corio::watch {

template <class T>
class sender;
template <class T>
class receiver;

template <class T>
std::pair<sender<T>, receiver<T>> channel(T initial, const channel_options& opts = {});

}  // namespace corio::watch
