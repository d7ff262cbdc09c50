#include "crypto/key_store.h"

#include <cctype>

#include <openssl/store.h>

#include "common/files.h"
#include "crypto/openssl_ptr.h"

namespace concierge::crypto {
namespace {

namespace fs = std::filesystem;

constexpr size_t kMaxReferenceSize = 1024;
constexpr size_t kMaxKeyFileSize = 64 * 1024;

struct StoreCloser {
  void operator()(OSSL_STORE_CTX* store) const { OSSL_STORE_close(store); }
};

struct StoreInfoDeleter {
  void operator()(OSSL_STORE_INFO* info) const { OSSL_STORE_INFO_free(info); }
};

// HasScheme says whether reference starts with a URI scheme (RFC 3986: ALPHA *( ALPHA / DIGIT
// / "+" / "-" / "." ) ":").
bool HasScheme(std::string_view reference) {
  size_t colon = reference.find(':');
  if (colon == std::string_view::npos || colon == 0 ||
      !std::isalpha(static_cast<unsigned char>(reference[0]))) {
    return false;
  }
  for (char c : reference.substr(0, colon)) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.') {
      return false;
    }
  }
  return true;
}

// FilePath is the path a file reference names: file:///a/b, file:/a/b and /a/b are /a/b.
fs::path FilePath(std::string_view reference) {
  if (reference.starts_with("file://")) {
    return fs::path(reference.substr(7));
  }
  if (reference.starts_with("file:")) {
    return fs::path(reference.substr(5));
  }
  return fs::path(reference);
}

Status CheckReference(std::string_view reference) {
  if (reference.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "empty key reference");
  }
  if (reference.size() > kMaxReferenceSize) {
    return MakeError(ErrorCode::kTooLarge, "key reference is longer than " +
                                               std::to_string(kMaxReferenceSize) + " bytes");
  }
  return OkStatus();
}

Result<PrivateKey> LoadFile(const fs::path& path) {
  std::error_code error;
  fs::perms perms = fs::status(path, error).permissions();
  if (!error && (perms & (fs::perms::group_all | fs::perms::others_all)) != fs::perms::none) {
    return MakeError(
        ErrorCode::kPermissionDenied,
        "key file " + path.string() + " can be read or changed by group or others: chmod 600 it");
  }
  ASSIGN_OR_RETURN(std::string pem, ReadFile(path, kMaxKeyFileSize));
  ASSIGN_OR_RETURN_CTX(PrivateKey key, PrivateKey::FromPem(pem), path.string());
  return key;
}

// LoadFromProvider asks the store loaders of the loaded providers for the one private key at
// uri; a URI that yields no key, or several, is refused.
Result<PrivateKey> LoadFromProvider(const std::string& uri) {
  std::unique_ptr<OSSL_STORE_CTX, StoreCloser> store(OSSL_STORE_open_ex(
      uri.c_str(), nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr));
  if (!store) {
    return std::unexpected(OpenSslError(
        ErrorCode::kNotFound, "no loaded OpenSSL provider opens the key reference " + uri));
  }
  OSSL_STORE_expect(store.get(), OSSL_STORE_INFO_PKEY);
  OpenSslPtr<EVP_PKEY> found;
  while (OSSL_STORE_eof(store.get()) == 0) {
    std::unique_ptr<OSSL_STORE_INFO, StoreInfoDeleter> info(OSSL_STORE_load(store.get()));
    if (!info) {
      if (OSSL_STORE_error(store.get()) != 0) {
        return std::unexpected(OpenSslError(ErrorCode::kUnavailable, "loading key " + uri));
      }
      continue;
    }
    if (OSSL_STORE_INFO_get_type(info.get()) != OSSL_STORE_INFO_PKEY) {
      continue;
    }
    if (found) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "key reference " + uri + " names more than one private key");
    }
    found.reset(OSSL_STORE_INFO_get1_PKEY(info.get()));
  }
  if (!found) {
    return MakeError(ErrorCode::kNotFound, "no private key at " + uri);
  }
  ASSIGN_OR_RETURN_CTX(PrivateKey key, PrivateKey::Adopt(std::move(found)), "key reference " + uri);
  return key;
}

}  // namespace

bool IsFileReference(std::string_view reference) {
  return !HasScheme(reference) || reference.starts_with("file:");
}

Result<PrivateKey> ProviderKeyStore::Load(std::string_view reference) const {
  RETURN_IF_ERROR(CheckReference(reference));
  if (IsFileReference(reference)) {
    return LoadFile(FilePath(reference));
  }
  return LoadFromProvider(std::string(reference));
}

Status ProviderKeyStore::Keep(std::string_view reference, const PrivateKey& key) const {
  RETURN_IF_ERROR(CheckReference(reference));
  if (!IsFileReference(reference)) {
    return MakeError(ErrorCode::kFailedPrecondition,
                     "cannot put a key made in software into " + std::string(reference) +
                         ": make the key in that store and name it in the directory's \"keys\"");
  }
  ASSIGN_OR_RETURN(std::string pem, key.ToPem());
  return WriteFileAtomic(FilePath(reference), pem, 0600);
}

const KeyStore& DefaultKeyStore() {
  static const ProviderKeyStore store;
  return store;
}

Result<KeyReferences> KeyReferences::FromConfig(const Json& config, const fs::path& dir) {
  KeyReferences references(dir);
  auto keys = config.find("keys");
  if (keys == config.end()) {
    return references;
  }
  if (!keys->is_object()) {
    return MakeError(ErrorCode::kBadFormat, "\"keys\" must be an object of role: reference");
  }
  for (const auto& [role, reference] : keys->items()) {
    if (!reference.is_string()) {
      return MakeError(ErrorCode::kBadFormat, "keys." + role + " must be a string");
    }
    std::string text = reference.get<std::string>();
    RETURN_IF_ERROR_CTX(CheckReference(text), "keys." + role);
    references.named_.emplace(role, std::move(text));
  }
  return references;
}

std::string KeyReferences::For(std::string_view role) const {
  auto named = named_.find(role);
  if (named == named_.end()) {
    return (dir_ / (std::string(role) + ".key")).string();
  }
  if (!IsFileReference(named->second)) {
    return named->second;
  }
  fs::path path = FilePath(named->second);
  return (path.is_absolute() ? path : dir_ / path).string();
}

Status CheckKeyOfCertificate(const Certificate& certificate, const PrivateKey& key,
                             std::string_view reference, std::string_view certificate_name) {
  if (X509_check_private_key(certificate.get(), key.get()) != 1) {
    ClearOpenSslErrors();
    return MakeError(ErrorCode::kSecurity, "the key at " + std::string(reference) +
                                               " is not the key of " +
                                               std::string(certificate_name));
  }
  return OkStatus();
}

Result<KeyAndCertificate> LoadKeyPair(const KeyStore& keys, const KeyReferences& references,
                                      const fs::path& dir, std::string_view role) {
  fs::path certificate_path = dir / (std::string(role) + ".pem");
  ASSIGN_OR_RETURN(std::string pem, ReadFile(certificate_path));
  ASSIGN_OR_RETURN_CTX(Certificate certificate, Certificate::FromPem(pem),
                       certificate_path.string());
  std::string reference = references.For(role);
  ASSIGN_OR_RETURN(PrivateKey key, keys.Load(reference));
  RETURN_IF_ERROR(CheckKeyOfCertificate(certificate, key, reference, certificate_path.string()));
  return KeyAndCertificate{certificate, key};
}

Status KeepKeyPair(const KeyStore& keys, const KeyReferences& references, const fs::path& dir,
                   std::string_view role, const KeyAndCertificate& pair) {
  RETURN_IF_ERROR(keys.Keep(references.For(role), pair.key));
  return WriteFileAtomic(dir / (std::string(role) + ".pem"), pair.certificate.Pem());
}

}  // namespace concierge::crypto
