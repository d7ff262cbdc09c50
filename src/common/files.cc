#include "common/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace concierge {
namespace {

std::string Errno() {
  return ErrnoText(errno);
}

}  // namespace

Result<std::string> ReadFile(const std::filesystem::path& path, size_t max_size) {
  std::error_code ec;
  auto size = std::filesystem::file_size(path, ec);
  if (ec) {
    return MakeError(ErrorCode::kNotFound, "cannot read " + path.string() + ": " + ec.message());
  }
  if (size > max_size) {
    return MakeError(ErrorCode::kTooLarge, path.string() + " is " + std::to_string(size) +
                                               " bytes, more than the " + std::to_string(max_size) +
                                               " allowed");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return MakeError(ErrorCode::kNotFound, "cannot open " + path.string());
  }
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

Status WriteFileAtomic(const std::filesystem::path& path, std::string_view content, unsigned mode) {
  std::string temp = path.string() + ".tmp";
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) {
    return MakeError(ErrorCode::kUnavailable, "cannot create " + temp + ": " + Errno());
  }
  size_t written = 0;
  while (written < content.size()) {
    ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      std::string why = Errno();
      ::close(fd);
      return MakeError(ErrorCode::kUnavailable, "cannot write " + temp + ": " += why);
    }
    written += static_cast<size_t>(n);
  }
  bool ok = ::fchmod(fd, mode) == 0 && ::fsync(fd) == 0;
  std::string why = ok ? "" : Errno();
  ::close(fd);
  if (!ok || ::rename(temp.c_str(), path.c_str()) != 0) {
    return MakeError(ErrorCode::kUnavailable,
                     "cannot write " + path.string() + ": " + (ok ? Errno() : why));
  }
  return OkStatus();
}

Status SyncDirectory(const std::filesystem::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return MakeError(ErrorCode::kUnavailable,
                     "cannot open directory " + dir.string() + ": " + Errno());
  }
  bool ok = ::fsync(fd) == 0;
  std::string why = ok ? "" : Errno();
  ::close(fd);
  if (!ok) {
    return MakeError(ErrorCode::kUnavailable, "cannot sync directory " + dir.string() + ": " + why);
  }
  return OkStatus();
}

Status MakeDirectories(const std::filesystem::path& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) {
    return MakeError(ErrorCode::kUnavailable,
                     "cannot create directory " + path.string() + ": " + ec.message());
  }
  std::filesystem::permissions(path, std::filesystem::perms::owner_all,
                               std::filesystem::perm_options::replace, ec);
  return OkStatus();
}

}  // namespace concierge
