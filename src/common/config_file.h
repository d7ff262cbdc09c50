#pragma once

#include <string>

#include "common/error.h"

namespace concierge {

// The configuration file names the site's and the maker's directories, so that an operator
// on an installed system types no --dir. It is read from $CONCIERGE_CONFIG, or else from
// /etc/concierge/concierge.toml when that exists; a missing default file is no error. Its
// format is the part of TOML this needs: `key = "string"` lines and # comments.
//
//   site_dir = "/var/lib/concierge/site"
//   maker_dir = "/var/lib/concierge/maker"
struct ConfigFile {
  std::string path;  // empty when there is none
  std::string site_dir;
  std::string maker_dir;
};

Result<ConfigFile> ParseConfigFile(const std::string& path, std::string_view text);
// LoadConfigFile reads it once per process.
Result<ConfigFile> LoadConfigFile();

}  // namespace concierge
