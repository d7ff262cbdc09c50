#pragma once

#include <filesystem>
#include <string>

namespace concierge::testing {

// TempDir is a fresh directory removed with everything in it on destruction.
class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "concierge-test-XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }

  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }

  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace concierge::testing
