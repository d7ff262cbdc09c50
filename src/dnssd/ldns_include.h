#pragma once

// ldns's common.h defines bool, true and false as macros unless stdbool.h came first, and with
// those macros later C++ headers do not compile. Include ldns through this header only.
// clang-format off
#include <stdbool.h>  // NOLINT(modernize-deprecated-headers, hicpp-deprecated-headers)
#include <ldns/ldns.h>
// clang-format on
