#pragma once

#include <filesystem>
#include <string>

namespace concierge {

// TempDir is a fresh private directory under the system's temporary directory, removed with
// everything in it on destruction. path() is empty if it could not be made.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "concierge") {
    std::string pattern = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
    if (mkdtemp(pattern.data()) != nullptr) {
      path_ = pattern;
    }
  }

  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) {
      std::filesystem::remove_all(path_, ec);
    }
  }

  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace concierge
