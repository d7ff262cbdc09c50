#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ownership/transfer.h"
#include "pledge/pledge.h"

namespace concierge::pledge {

// These run one exchange each and drive the scheduler until it completes.

// DomainCredentials are what a device holds in the domain that owns it.
struct DomainCredentials {
  crypto::Certificate ldevid;
  crypto::PrivateKey key;
  std::vector<crypto::Certificate> anchors;  // the domain CA
  std::string registrar_url;
  Bytes voucher_cms;
};

// CheckIn asks the device's registrar, over its LDevID, what to do next; nullopt: nothing.
Result<std::optional<ownership::MoveInstruction>> CheckIn(const DomainCredentials& current,
                                                          Connector& registrar,
                                                          Scheduler& scheduler);

// MoveToNewOwner enrolls the device with the registrar the instruction names, accepting only
// the owner its ownership chain ends at (the chain must be this device's), and proves the new
// LDevID works there before returning it. It changes nothing the device holds: the caller
// stores the new credentials, and only then drops the old ones.
Result<DomainCredentials> MoveToNewOwner(const PledgeIdentity& identity,
                                         const ownership::MoveInstruction& instruction,
                                         Connector& new_registrar, const Clock& clock,
                                         Scheduler& scheduler, Random& random,
                                         PledgeOptions options = {});

// ConfirmMove tells the old registrar, over the old LDevID, which LDevID the device now holds,
// so the old domain ends its membership and revokes the old certificates.
Status ConfirmMove(const DomainCredentials& old, const crypto::Certificate& new_ldevid,
                   Connector& old_registrar, Scheduler& scheduler);

// ConfirmReset tells the registrar, over the LDevID, that the device is about to forget the
// domain as it was told (decommissioning); the caller then drops the credentials.
Status ConfirmReset(const DomainCredentials& current, Connector& registrar, Scheduler& scheduler);

}  // namespace concierge::pledge
