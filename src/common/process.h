#pragma once

#include <string>
#include <vector>

#include "common/error.h"

namespace concierge {

// RunProgram starts argv[0] (looked up on PATH) with the given arguments, without a shell, and
// waits for it. A program that cannot be started, is killed or exits non-zero is an error naming
// it and how it ended.
Status RunProgram(const std::vector<std::string>& argv);

}  // namespace concierge
