#pragma once

#include <cstdio>
#include <cstdlib>

// FUZZ_CHECK aborts on a broken property, so both libFuzzer and the corpus runner report it.
#define FUZZ_CHECK(condition)                                                                      \
  do {                                                                                             \
    if (!(condition)) {                                                                            \
      (void)std::fprintf(stderr, "property failed: %s (%s:%d)\n", #condition, __FILE__, __LINE__); \
      std::abort();                                                                                \
    }                                                                                              \
  } while (false)
