// tests/model/model.hpp — what the model tests share: registering and running a Relacy test, a
// waker whose stored copies Relacy can see, and a value type whose moves it checks.
//
// How a model test works: a Relacy test suite builds one small scenario per iteration (2-3
// threads running the real structure, compiled against Relacy through sync_primitives.hpp), and
// Relacy runs it many times, each time under another interleaving and another choice of which
// store every load reads among those the C++ memory model allows. It fails the test on a data
// race on an rl::var, an access to freed memory, a double free or a leak of anything allocated in
// the iteration, a deadlock, a livelock, or an RL_ASSERT; the assertions in the structures
// themselves stay on (the target compiles without NDEBUG) and abort with their message.
//
// What Relacy cannot see: plain (non-atomic) fields are not rl::var, so their races are
// invisible unless the data they hold is. A waker marks its own uses (CORIO_MODEL_ACCESS in
// waker.hpp), so every waker slot is checked; the tests make the rest of what the structures hand
// over visible: model_value for channel values and task outputs, a payload rl::var in queued
// items, and token wakers (below) for what a stored waker refers to. Fields that only the
// structure's own bookkeeping uses (queue_next_, a block's start_index_ and
// observed_tail_position_) stay invisible; an ordering bug there shows only through its effect.
#pragma once

#ifndef CORIO_MODEL_CHECK
#error "tests/model is compiled with CORIO_MODEL_CHECK defined (tests/model/CMakeLists.txt)"
#endif

#include <corio/runtime/detail/sync_primitives.hpp>
#include <corio/runtime/waker.hpp>

#include <algorithm>
#include <initializer_list>
#include <ostream>
#include <streambuf>
#include <string>
#include <string_view>
#include <vector>

namespace corio::model {

// ---- scenarios ------------------------------------------------------------------------------

// One exploration of a scenario. random(n): n iterations (times --scale), each under a random
// interleaving in which every load reads a random one of the stores it may see. bounded(k): every
// interleaving with at most k preemptions, with every choice of stores and of spurious CAS
// failures along each (Relacy's context-bound scheduler): exhaustive within the bound, so used
// where that stays within seconds.
struct search {
    rl::scheduler_type_e type;
    unsigned count;  // iterations (random) or preemptions (bounded)
    static constexpr search random(unsigned iterations) noexcept { return {rl::sched_random, iterations}; }
    static constexpr search bounded(unsigned preemptions) noexcept { return {rl::sched_bound, preemptions}; }
};

// Collects Relacy's output, printed only if the scenario fails. Its buffer is reserved before the
// run: Relacy writes the failing history from inside an iteration, where operator new is its
// own, and a std::ostringstream growing there would free a buffer it had allocated outside.
class capture : public std::streambuf {
public:
    capture() { text_.reserve(std::size_t{16} << 20); }
    std::string_view text() const noexcept { return {text_.data(), text_.size()}; }

protected:
    int_type overflow(int_type c) override {
        if (c != traits_type::eof() && text_.size() < text_.capacity()) text_.push_back(static_cast<char>(c));
        return traits_type::not_eof(c);
    }
    std::streamsize xsputn(const char* s, std::streamsize n) override {
        const auto k = std::min<std::size_t>(static_cast<std::size_t>(n), text_.capacity() - text_.size());
        text_.insert(text_.end(), s, s + k);
        return n;
    }

private:
    std::vector<char> text_;
};

bool report(const char* name, bool ok, std::string_view relacy_output);

// Counts the iterations of the current exploration that reached a path a scenario is meant to
// exercise (`what` is a string literal); --verbose prints them. A scenario that never reaches its
// race proves nothing.
void cover(const char* what) noexcept;
void begin_coverage() noexcept;
void print_coverage(const char* name);

template <class Test>
bool explore_once(const std::string& name, search how, unsigned scale) {
    rl::test_params p;
    capture buf;
    std::ostream out(&buf);
    p.output_stream = &out;
    p.progress_stream = &out;
    p.execution_depth_limit = 20000;
    p.search_type = how.type;
    if (how.type == rl::sched_random) p.iteration_count = how.count * scale;
    else p.context_bound = how.count;
    begin_coverage();
    const bool ok = rl::simulate<Test>(p);
    print_coverage(name.c_str());
    return report(name.c_str(), ok, buf.text());
}

// A scenario: a Relacy test suite and how to explore it (a few explorations, run in order until
// one fails; a failure prints Relacy's report: the failing interleaving, step by step).
struct scenario {
    const char* structure;  // the group CTest runs as one test: model.<structure>
    const char* name;
    search plan[2];
    unsigned steps;
    bool (*run)(const scenario& s, unsigned scale);

    std::string full_name() const { return std::string(structure) + "." + name; }
};

std::vector<scenario>& registry();

template <class Test>
bool run_plan(const scenario& s, unsigned scale) {
    for (unsigned i = 0; i < s.steps; ++i) {
        std::string name = s.full_name();
        if (s.plan[i].type != rl::sched_random) name += " (bounded " + std::to_string(s.plan[i].count) + ")";
        if (!explore_once<Test>(name, s.plan[i], scale)) return false;
    }
    return true;
}

// At namespace scope in a test file:
//     const registrar r = scenario_of<Test>("structure", "name", {search::random(n), ...});
struct registrar {
    explicit registrar(const scenario& s) { registry().push_back(s); }
};

template <class Test>
registrar scenario_of(const char* structure, const char* name, std::initializer_list<search> plan) {
    scenario s{structure, name, {}, 0, &run_plan<Test>};
    for (const search& how : plan) s.plan[s.steps++] = how;
    return registrar(s);
}

// Fails the running iteration with `what` (Relacy then prints how it got there).
#define MODEL_REQUIRE(cond, what) RL_ASSERT_IMPL((cond), rl::test_result_user_assert_failed, what, RL_INFO)

// ---- wakers ----------------------------------------------------------------------------------

// What a test's waker wakes: counts wake() and wake_by_ref() calls on any of its clones.
struct wake_target {
    detail::atomic<int> wakes{0};
    int woken() const noexcept { return wakes.load(std::memory_order_acquire); }
};

// Every clone of a test waker is its own heap token with an rl::var that each use of that clone
// reads (clone, wake_by_ref) or writes (wake, drop): two unordered uses of one clone are a data
// race, a clone used after it was dropped is an access to freed memory, one dropped twice a
// double free, and one never dropped a leak. Clones never compare equal (will_wake compares data
// pointers), so a structure always replaces a stored waker with a new clone instead of keeping it.
struct waker_token {
    explicit waker_token(wake_target* t) : target(t), uses(0) {}
    wake_target* target;
    rl::var<int> uses;
};

extern const waker_vtable token_vtable;

// The waker a test thread polls with: borrowed (only cloned and woken by reference, by the
// polling thread), so it is never dropped through the vtable. Clones may be woken until the
// structure lets go of them, so a test_waker that a thread polls with is a member of the test
// suite (it lives until the iteration ends), like the task a real waker keeps alive.
struct test_waker {
    wake_target target;
    waker_token root{&target};
    waker_ref ref() noexcept { return {&root, &token_vtable}; }
    context cx() noexcept { return context(ref(), nullptr); }
    int woken() const noexcept { return target.woken(); }
};

// ---- values ----------------------------------------------------------------------------------

// A value whose every move reads the source and whose destruction writes it, through an
// rl::var: Relacy reports a race when the structure hands a value from one thread to another
// without a happens-before edge (the reader would not be guaranteed to see the writer's bytes).
// Relacy also reports an rl::var never destroyed ("var leak"), so each value a structure takes
// must be destroyed exactly once: given back, received, or dropped with the structure.
class model_value {
public:
    explicit model_value(int v);
    model_value(model_value&& o) noexcept;
    model_value& operator=(model_value&& o) noexcept;
    model_value(const model_value&) = delete;
    model_value& operator=(const model_value&) = delete;
    ~model_value();

    int get() const;

private:
    rl::var<int> v_;
};

}  // namespace corio::model
