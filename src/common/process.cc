#include "common/process.h"

#include <spawn.h>
#include <sys/wait.h>

#include <cerrno>

extern char** environ;

namespace concierge {

Status RunProgram(const std::vector<std::string>& argv) {
  if (argv.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "no program to run");
  }
  std::vector<char*> pointers;
  pointers.reserve(argv.size() + 1);
  for (const std::string& argument : argv) {
    pointers.push_back(const_cast<char*>(argument.c_str()));
  }
  pointers.push_back(nullptr);
  pid_t pid = 0;
  int spawned = posix_spawnp(&pid, argv[0].c_str(), nullptr, nullptr, pointers.data(), environ);
  if (spawned != 0) {
    return MakeError(ErrorCode::kUnavailable,
                     "cannot start `" + argv[0] + "`: " + ErrnoText(spawned));
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      return MakeError(ErrorCode::kInternal, "waiting for `" + argv[0] + "` failed");
    }
  }
  if (WIFSIGNALED(status)) {
    return MakeError(ErrorCode::kUnavailable,
                     "`" + argv[0] + "` was killed by signal " + std::to_string(WTERMSIG(status)));
  }
  if (WEXITSTATUS(status) != 0) {
    return MakeError(ErrorCode::kUnavailable,
                     "`" + argv[0] + "` exited with status " + std::to_string(WEXITSTATUS(status)));
  }
  return OkStatus();
}

}  // namespace concierge
