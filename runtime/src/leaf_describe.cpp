// The default leaf::describe(): the leaf's dynamic type, demangled. Leaves that users meet often
// (channels, locks, timers, sockets, combinators) override it with what they wait for.
#include <corio/runtime/leaf.hpp>

#include <cxxabi.h>

#include <cstdlib>
#include <memory>
#include <typeinfo>

namespace corio::detail {

void leaf::describe(std::string& out) const {
    const char* mangled = typeid(*this).name();
    int status = 0;
    std::unique_ptr<char, decltype(&std::free)> name(abi::__cxa_demangle(mangled, nullptr, nullptr, &status), &std::free);
    out += "an operation of type ";
    out += status == 0 && name ? name.get() : mangled;
}

}  // namespace corio::detail
