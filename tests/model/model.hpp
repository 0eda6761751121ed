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
// What Relacy cannot see: plain (non-atomic) fields of the structures — the waker slots, a
// channel's value, queue_next_ — are not rl::var, so their races are invisible unless the data
// they hold is. The tests therefore pass data that is: token wakers (below), model_value, and
// payload rl::vars in queued items. A race on such a field then shows as a race on its contents.
#pragma once

#ifndef CORIO_MODEL_CHECK
#error "tests/model is compiled with CORIO_MODEL_CHECK defined (tests/model/CMakeLists.txt)"
#endif

#include <corio/runtime/detail/sync_primitives.hpp>
#include <corio/runtime/waker.hpp>

#include <algorithm>
#include <ostream>
#include <streambuf>
#include <string_view>
#include <vector>

namespace corio::model {

// ---- scenarios ------------------------------------------------------------------------------

// One exploration: a Relacy test suite run under one scheduler. `run` returns false on failure,
// having printed Relacy's report (the failing interleaving, step by step).
struct scenario {
    const char* structure;  // the group CTest runs as one test: model.<structure>
    const char* name;
    bool (*run)(unsigned scale);
};

std::vector<scenario>& registry();

struct registrar {
    explicit registrar(scenario s) { registry().push_back(s); }
};

// Random scheduler: `iterations` random interleavings (times `scale`, the command line's
// --scale). Context-bound scheduler: every interleaving with at most `bound` preemptions (one
// more than the default of Relacy), regardless of `iterations`; only for the smallest scenarios.
enum class search { random, bounded };

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
bool explore(const char* name, search how, unsigned iterations, unsigned scale) {
    rl::test_params p;
    capture buf;
    std::ostream out(&buf);
    p.output_stream = &out;
    p.progress_stream = &out;
    p.execution_depth_limit = 20000;
    if (how == search::random) {
        p.search_type = rl::sched_random;
        p.iteration_count = iterations * scale;
    } else {
        p.search_type = rl::sched_bound;
        p.context_bound = 2;
    }
    begin_coverage();
    const bool ok = rl::simulate<Test>(p);
    print_coverage(name);
    return report(name, ok, buf.text());
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
// reads (clone, wake_by_ref) or writes (wake, drop). What a structure stores in a waker slot is
// therefore visible: two unordered uses of one stored waker are a data race, a stored waker used
// after it was dropped is an access to freed memory, one dropped twice a double free, and one
// never dropped a leak. Clones never compare equal (will_wake compares data pointers), so a
// structure always replaces a stored waker with a new clone instead of keeping it.
struct waker_token {
    explicit waker_token(wake_target* t) : target(t), uses(0) {}
    wake_target* target;
    rl::var<int> uses;
};

extern const waker_vtable token_vtable;

// The waker a test thread polls with: borrowed (only cloned and woken by reference, by the
// polling thread), so it is never dropped through the vtable.
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
