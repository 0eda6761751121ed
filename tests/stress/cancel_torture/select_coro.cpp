// cancel_torture/select_coro.cpp — the big select with coroutine handlers (select is then a task
// that awaits the winner's handler), fair and biased.
#include "cancel_torture/big_select.hpp"

namespace corio::torture {

template task<void> big_select<false, true>(iteration* it);
template task<void> big_select<true, true>(iteration* it);

}  // namespace corio::torture
