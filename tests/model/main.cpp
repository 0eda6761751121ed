// tests/model/main.cpp — runs the model tests: `model_check [--scale=N] [--list] [--verbose] [NAME...]`.
// NAME selects the scenarios whose structure or full name (structure.scenario) it equals; none
// selects all. --scale multiplies the random scheduler's iteration counts (deeper local runs);
// --verbose prints Relacy's summary (iterations run) of passing explorations too.
// Exits 1 if any scenario failed (its Relacy report is printed), 2 on a bad command line.
#include "model.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <iostream>
#include <string>

namespace corio::model {

namespace {
bool verbose = false;
}  // namespace

std::vector<scenario>& registry() {
    static std::vector<scenario> r;
    return r;
}

namespace {
struct tally {
    const char* what;
    unsigned long hits;
};
// Fixed storage: cover() runs inside iterations, where operator new is Relacy's.
tally tallies[32];
std::size_t n_tallies = 0;
}  // namespace

void cover(const char* what) noexcept {
    for (std::size_t i = 0; i < n_tallies; ++i) {
        if (tallies[i].what == what) {
            ++tallies[i].hits;
            return;
        }
    }
    if (n_tallies < std::size(tallies)) tallies[n_tallies++] = {what, 1};
}

void begin_coverage() noexcept { n_tallies = 0; }

void print_coverage(const char* name) {
    if (!verbose) return;
    for (std::size_t i = 0; i < n_tallies; ++i)
        std::printf("model: %s: %lu iterations: %s\n", name, tallies[i].hits, tallies[i].what);
}

bool report(const char* name, bool ok, std::string_view relacy_output) {
    if (ok && !verbose) return true;
    std::cout << "model: " << name << (ok ? "\n" : " FAILED\n") << relacy_output << std::flush;
    return ok;
}

// ---- token wakers -----------------------------------------------------------------------------

namespace {
waker_token* token(const void* p) noexcept { return static_cast<waker_token*>(const_cast<void*>(p)); }
}  // namespace

const waker_vtable token_vtable = {
    [](const void* p) noexcept -> const void* {
        waker_token* t = token(p);
        (void)t->uses($).load();
        return new waker_token(t->target);
    },
    [](const void* p) noexcept {
        waker_token* t = token(p);
        t->uses($) = 1;
        t->target->wakes.fetch_add(1, std::memory_order_acq_rel);
        delete t;
    },
    [](const void* p) noexcept {
        waker_token* t = token(p);
        (void)t->uses($).load();
        t->target->wakes.fetch_add(1, std::memory_order_acq_rel);
    },
    [](const void* p) noexcept {
        waker_token* t = token(p);
        t->uses($) = 1;
        delete t;
    },
};

// ---- model_value ------------------------------------------------------------------------------

model_value::model_value(int v) : v_(v) {}
model_value::model_value(model_value&& o) noexcept : v_(o.v_($).load()) {}
model_value& model_value::operator=(model_value&& o) noexcept {
    v_($) = o.v_($).load();
    return *this;
}
model_value::~model_value() { v_($) = -1; }
int model_value::get() const { return v_($).load(); }

}  // namespace corio::model

int main(int argc, char** argv) {
    using corio::model::registry;
    unsigned scale = 1;
    bool list = false;
    std::vector<std::string> names;
    for (int i = 1; i < argc; ++i) {
        if (std::strncmp(argv[i], "--scale=", 8) == 0) {
            scale = static_cast<unsigned>(std::strtoul(argv[i] + 8, nullptr, 10));
            if (scale == 0) return 2;
        } else if (std::strcmp(argv[i], "--list") == 0) {
            list = true;
        } else if (std::strcmp(argv[i], "--verbose") == 0) {
            corio::model::verbose = true;
        } else if (argv[i][0] == '-') {
            std::fprintf(stderr, "usage: model_check [--scale=N] [--list] [--verbose] [NAME...]\n");
            return 2;
        } else {
            names.emplace_back(argv[i]);
        }
    }
    auto selected = [&](const corio::model::scenario& s) {
        if (names.empty()) return true;
        const std::string full = s.full_name();
        for (const auto& n : names)
            if (n == s.structure || n == full) return true;
        return false;
    };

    int failed = 0, run = 0;
    const auto start = std::chrono::steady_clock::now();
    for (const auto& s : registry()) {
        if (!selected(s)) continue;
        const std::string full = s.full_name();
        if (list) {
            std::cout << full << "\n";
            continue;
        }
        const auto t0 = std::chrono::steady_clock::now();
        const bool ok = s.run(s, scale);
        const std::chrono::duration<double> dt = std::chrono::steady_clock::now() - t0;
        std::printf("model: %-48s %s  %.1f s\n", full.c_str(), ok ? "ok" : "FAILED", dt.count());
        std::fflush(stdout);
        ++run;
        if (!ok) ++failed;
    }
    if (list) return 0;
    if (run == 0) {
        std::fprintf(stderr, "model_check: no scenario matches\n");
        return 2;
    }
    const std::chrono::duration<double> total = std::chrono::steady_clock::now() - start;
    std::printf("model: %d of %d scenarios passed in %.1f s\n", run - failed, run, total.count());
    return failed ? 1 : 0;
}
