/// \file
/// corio/channels/mpmc/fwd.hpp — declarations of the mpmc handles and factories, so that each
/// handle header can befriend the others (and the factories' default arguments are given once).
#pragma once

#include <corio/channels/metrics.hpp>

#include <cstddef>
#include <utility>

namespace corio::mpmc {

template <class T>
class sender;
template <class T>
class unbounded_sender;
template <class T>
class receiver;

template <class T>
std::pair<sender<T>, receiver<T>> channel(std::size_t capacity, const channel_options& opts = {});
template <class T>
std::pair<unbounded_sender<T>, receiver<T>> unbounded_channel(const channel_options& opts = {});

}  // namespace corio::mpmc
