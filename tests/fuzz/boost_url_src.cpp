// Boost.URL compiled into the fuzz tree (instrumented), instead of the
// system library, so the fuzzer sees coverage inside query parsing.
#include <boost/url/src.hpp>
