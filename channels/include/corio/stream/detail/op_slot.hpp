// corio/stream/detail/op_slot.hpp — storage for an operation that a stream keeps between polls.
//
// A stream keeps its in-flight operation (a broadcast recv, a watch changed(), a deadline) between
// polls in an op_slot — the runtime's leaf_slot (corio/runtime/leaf.hpp) — and destroys it when the
// operation completes or the stream goes away; destroying a pending operation cancels it (the
// leaf contract).
#pragma once

#include <corio/runtime/leaf.hpp>

namespace corio::stream::detail {

template <class L>
using op_slot = ::corio::detail::leaf_slot<L>;

}  // namespace corio::stream::detail
