// cancel_torture/select_plain.cpp — the big select with plain handlers, fair and biased.
#include "cancel_torture/big_select.hpp"

namespace corio::torture {

template task<void> big_select<false, false>(iteration* it);
template task<void> big_select<true, false>(iteration* it);

}  // namespace corio::torture
