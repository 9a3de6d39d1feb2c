// cpp-exceptions: C++ exceptions used the way real programs use them, compiled to Wasm exception
// handling (see build.sh). Each numbered scenario prints what it does; destructors print too, so the
// output shows that RAII cleanup runs while the stack unwinds. The expected output is in
// expected.toml (as wasmtime prints it).
#include <array>
#include <cstdio>
#include <exception>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

// A resource that reports its lifetime: constructed, destroyed, and whether it was destroyed
// during unwinding (std::uncaught_exceptions() > 0) or on a normal exit.
struct Guard {
    std::string name;
    explicit Guard(std::string n) : name(std::move(n)) { std::printf("  + %s\n", name.c_str()); }
    ~Guard() {
        std::printf("  - %s%s\n", name.c_str(), std::uncaught_exceptions() ? " (unwinding)" : "");
    }
};

// An application error hierarchy on top of the standard one.
struct AppError : std::runtime_error {
    int code;
    AppError(const std::string &what, int code) : std::runtime_error(what), code(code) {}
};
struct ParseError : AppError {
    int line;
    ParseError(const std::string &what, int line) : AppError("parse: " + what, 2), line(line) {}
};
struct IoError : AppError {
    IoError(const std::string &what) : AppError("io: " + what, 3) {}
};

static int depth3(int x) {
    Guard g("depth3");
    if (x == 1) throw ParseError("unexpected token", 42);
    if (x == 2) throw IoError("disk full");
    if (x == 3) throw std::out_of_range("index 9 of 3");
    if (x == 4) throw 7;                          // not a class type at all
    if (x == 5) throw "a C string";
    return x * 10;
}
static int depth2(int x) {
    Guard g("depth2");
    return depth3(x) + 1;
}
static int depth1(int x) {
    Guard g("depth1");
    std::vector<Guard> many;                      // several objects in one frame
    many.reserve(2);
    many.emplace_back("vec[0]");
    many.emplace_back("vec[1]");
    return depth2(x) + 1;
}

// 1. Throw through three frames, catch by type; a derived class is caught by a base reference.
static void classify(int x) {
    std::printf("classify(%d)\n", x);
    try {
        int r = depth1(x);
        std::printf("  returned %d\n", r);
    } catch (const ParseError &e) {
        std::printf("  ParseError: %s (line %d, code %d)\n", e.what(), e.line, e.code);
    } catch (const AppError &e) {
        std::printf("  AppError: %s (code %d)\n", e.what(), e.code);
    } catch (const std::logic_error &e) {
        std::printf("  logic_error: %s\n", e.what());
    } catch (int v) {
        std::printf("  int: %d\n", v);
    } catch (...) {
        std::printf("  something else\n");
    }
}

// 2. Exceptions the standard library throws.
static void library_errors() {
    std::printf("library errors\n");
    std::vector<int> v{1, 2, 3};
    try {
        std::printf("  v.at(1) = %d\n", v.at(1));
        std::printf("  v.at(5) = %d\n", v.at(5));
    } catch (const std::out_of_range &e) {
        std::printf("  out_of_range caught\n");
    }
    std::map<std::string, int> ages{{"ada", 36}, {"alan", 41}};
    try {
        std::printf("  ages.at(\"ada\") = %d\n", ages.at("ada"));
        std::printf("  ages.at(\"bob\") = %d\n", ages.at("bob"));
    } catch (const std::exception &e) {               // caught through the std::exception base
        std::printf("  std::exception caught\n");
    }
    // (std::string::at is compiled into zig's libc++, which is built without exceptions and
    // aborts there; header-only containers throw from this program's own code.)
    std::array<char, 6> s{'h', 'e', 'l', 'l', 'o', 0};
    try {
        s.at(10) = 'x';
    } catch (const std::logic_error &e) {             // out_of_range is a logic_error
        std::printf("  logic_error caught, s = %s\n", s.data());
    }
}

// 3. catch (...) that cleans up and rethrows with `throw;`; the outer handler sees the original type.
static void rethrowing(int x) {
    Guard g("rethrowing");
    try {
        depth3(x);
    } catch (...) {
        std::printf("  cleanup in catch(...), rethrowing\n");
        throw;
    }
}
static void rethrow_demo() {
    std::printf("rethrow\n");
    try {
        rethrowing(2);
    } catch (const IoError &e) {
        std::printf("  outer caught IoError: %s\n", e.what());
    }
    try {
        rethrowing(5);
    } catch (const char *msg) {
        std::printf("  outer caught const char*: %s\n", msg);
    }
}

// 4. Nested try blocks: the inner one does not match and the exception goes on to the outer one;
//    a handler throws a new exception (translation of errors); a try inside a catch handler.
static void nested() {
    std::printf("nested\n");
    try {
        Guard a("outer-scope");
        try {
            Guard b("inner-scope");
            throw std::invalid_argument("bad width");
        } catch (const std::out_of_range &) {
            std::printf("  wrong: inner handler\n");
        }
        std::printf("  wrong: after inner try\n");
    } catch (const std::invalid_argument &e) {
        std::printf("  outer handler: %s\n", e.what());
    }
    try {
        try {
            depth3(1);
        } catch (const ParseError &e) {
            std::printf("  translating ParseError at line %d\n", e.line);
            try {
                throw std::runtime_error("inside a handler");
            } catch (const std::runtime_error &inner) {
                std::printf("  caught inside handler: %s\n", inner.what());
            }
            // the first exception is still the current one here
            throw AppError(std::string("wrapped ") + e.what(), 9);
        }
    } catch (const AppError &e) {
        std::printf("  outer: %s (code %d)\n", e.what(), e.code);
    }
}

// 5. A constructor that throws: the members already constructed are destroyed, the object is not.
struct Widget {
    Guard first{"widget.first"};
    Guard second{"widget.second"};
    std::unique_ptr<Guard> owned;
    explicit Widget(bool fail) : owned(new Guard("widget.owned")) {
        if (fail) throw std::length_error("widget too long");
        std::printf("  widget built\n");
    }
    ~Widget() { std::printf("  ~Widget\n"); }
};
static void constructors() {
    std::printf("constructors\n");
    try {
        Widget ok(false);
        Widget bad(true);
        std::printf("  wrong: not reached\n");
    } catch (const std::length_error &e) {
        std::printf("  caught: %s\n", e.what());
    }
}

// 6. std::exception_ptr: capture an exception, rethrow it later, outside the handler.
static void exception_ptrs() {
    std::printf("exception_ptr\n");
    std::exception_ptr saved;
    try {
        depth3(2);
    } catch (...) {
        saved = std::current_exception();
    }
    std::printf("  saved: %s\n", saved ? "yes" : "no");
    try {
        std::rethrow_exception(saved);
    } catch (const AppError &e) {
        std::printf("  rethrown from exception_ptr: %s\n", e.what());
    }
}

// 7. Many throws: each exception is allocated and freed, the results add up.
static int checked_div(int a, int b) {
    if (b == 0) throw std::domain_error("division by zero");
    return a / b;
}
static void many() {
    std::printf("many throws\n");
    long sum = 0;
    int caught = 0;
    for (int i = 0; i < 2000; i++) {
        try {
            sum += checked_div(1000000, i % 7);
        } catch (const std::domain_error &) {
            caught++;
        }
    }
    std::printf("  sum %ld, caught %d\n", sum, caught);
}

// 8. Across modules: `call_each` is in another instance (callbacks.wat); it calls back into this
//    module through the function table, and an exception a callback throws passes through it.
extern "C" {
__attribute__((import_module("env"), import_name("call_each"))) int call_each(int n, void (*f)(int));
__attribute__((import_module("env"), import_name("cleanups"))) int cleanups();
}
static int visited;
static void visit(int i) {
    Guard g("visit " + std::to_string(i));
    if (i == 3) throw AppError("callback failed at " + std::to_string(i), 5);
    visited += i;
}
static void quiet(int i) { visited += i; }
static void across_modules() {
    std::printf("across modules\n");
    std::printf("  call_each(5, quiet) = %d\n", call_each(5, quiet));
    try {
        Guard g("caller");
        call_each(10, visit);
        std::printf("  wrong: not reached\n");
    } catch (const AppError &e) {
        std::printf("  caught from the other module: %s (code %d)\n", e.what(), e.code);
    }
    std::printf("  visited sum %d, cleanups in the other module %d\n", visited, cleanups());
}

int main() {
    for (int x = 0; x <= 5; x++) classify(x);
    library_errors();
    rethrow_demo();
    nested();
    constructors();
    exception_ptrs();
    many();
    across_modules();
    std::printf("done\n");
    return 0;
}
