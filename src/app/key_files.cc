#include "app/key_files.h"

#include "common/files.h"
#include "crypto/certificate.h"
#include "crypto/key.h"
#include "crypto/public_key_text.h"

namespace concierge::app {
std::string KeyName(ByteSpan spki) {
  return crypto::KeyName(spki);
}

Result<PublicKeyFile> ReadPublicKeyFile(const std::string& path) {
  ASSIGN_OR_RETURN(std::string pem, ReadFile(path));
  ASSIGN_OR_RETURN_CTX(crypto::NamedPublicKey key, crypto::ParsePublicKeyText(pem), path);
  return PublicKeyFile{std::move(key.spki), std::move(key.name)};
}

Status WriteSigningKeyPair(const std::string& base, const std::string& role, const Output& output) {
  ASSIGN_OR_RETURN(auto key, crypto::PrivateKey::GenerateP256());
  ASSIGN_OR_RETURN(std::string pem, key.ToPem());
  ASSIGN_OR_RETURN(Bytes spki, key.PublicKeyDer());
  std::string public_pem = crypto::PublicKeyText(spki);
  RETURN_IF_ERROR(WriteFileAtomic(base + ".key", pem, 0600));
  RETURN_IF_ERROR(WriteFileAtomic(base + ".pub.pem", public_pem, 0644));
  output.Print(Json{{"key", base + ".key"}, {"public", base + ".pub.pem"}},
               role + " " + KeyName(spki) + ": " + base + ".key, " + base + ".pub.pem");
  return OkStatus();
}

}  // namespace concierge::app
