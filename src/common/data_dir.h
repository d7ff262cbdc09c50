#pragma once

#include <filesystem>

namespace concierge {

// DataDir is where Concierge's own data files are (threat catalogues, the credential list,
// OpenSSL names): $CONCIERGE_DATA_DIR when set; else, for an installed binary, PREFIX/share/
// concierge beside the bin/ it runs from; else the data/ of the checkout it was built from.
std::filesystem::path DataDir();

}  // namespace concierge
