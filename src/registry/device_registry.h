#pragma once

#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/json.h"
#include "store/audit_log.h"

namespace concierge::registry {

// Where a device's MUD URL came from, strongest first: an operator's word, the maker's signed
// IDevID, then a DHCP option anyone on the link could have sent.
inline constexpr std::string_view kSourceManual = "manual";
inline constexpr std::string_view kSourceIdevid = "idevid";
inline constexpr std::string_view kSourceDhcp = "dhcp";

// Device is the site's one record of a device, whichever way it arrived: onboarded with BRSKI
// (named by its IDevID serial), seen by a DHCP server (named after its MAC until an operator
// names it), or named by an operator. The MUD manager and the exposure analyzer read it; the
// registrar keeps only the onboarding history (vouchers, certificates, telemetry).
struct Device {
  std::string name;
  std::string serial;  // the IDevID's serialNumber; "" for a device not onboarded with BRSKI
  std::string maker;   // the maker that vouched for it, "" if none did
  std::string owner;   // the site whose domain CA certified it, "" while none has
  std::string zone;    // the operator's grouping (a room, a floor, a production cell), or ""
  std::string mac;
  std::vector<std::string> addresses;
  std::string mud_url;
  std::string url_source;
  std::vector<std::pair<std::string, std::string>> software;  // (package, version) by package
  int64_t updated_at = 0;
  // An operator's quarantine: every packet to or from the device's addresses is dropped but
  // address configuration. quarantined_at is 0 while the device is free.
  int64_t quarantined_at = 0;
  std::string quarantine_reason;
  std::string quarantined_by;
  // "leaving" (handed to a new owner, not yet moved) or "retiring" (decommissioned, not yet
  // reset), as the registrar records it; "" otherwise.
  std::string departure;

  bool quarantined() const { return quarantined_at != 0; }

  // State is where the device is in its life here: "quarantined", "leaving", "retiring",
  // "onboarded" (with BRSKI) or "seen" (on the network, or named by an operator).
  std::string State() const;
};

// OnboardedDevice is what the registrar learnt of a device it enrolled.
struct OnboardedDevice {
  std::string serial;
  std::string maker;
  std::string owner;    // the site that enrolled it
  std::string mud_url;  // from the IDevID, "" if it carries none
  std::string address;  // where it enrolled from; "" when that says nothing of the site
};

// DeviceFilter selects a page of devices in name order: each non-empty field must match.
struct DeviceFilter {
  std::string maker;
  std::string owner;
  std::string zone;
  // The device model, as RFC 8520 names one: devices of a model share their MUD URL.
  std::string mud_url;
  std::string search;  // a substring of the name, serial or MAC
  std::optional<bool> quarantined;
  std::string state;  // one of Device::State()'s values, or "" for any
  // Only these names, when set (a tenant's view: the devices delegated to it), at most 20,000.
  std::optional<std::vector<std::string>> only;
  size_t offset = 0;
  size_t limit = 50;
};

// DevicePage is one page of devices (without their software) and how many match in all.
struct DevicePage {
  std::vector<Device> devices;
  size_t total = 0;
};

// DeviceRegistry keeps the device records in the site's database (component "registry").
// Every change appends its audit event in the same transaction. Thread-safe.
class DeviceRegistry {
 public:
  // Open opens the SQLite database at path, creating it if need be, and migrates it.
  static Result<std::unique_ptr<DeviceRegistry>> Open(const std::filesystem::path& path,
                                                      const Clock& clock);
  // Open migrates a database of any backend and keeps it. A database from before the registry
  // has its devices moved in from the MUD manager's and the analyzer's tables.
  static Result<std::unique_ptr<DeviceRegistry>> Open(std::unique_ptr<store::Database> db,
                                                      const Clock& clock);

  // Onboarded records a device the registrar enrolled, named by its serial: its maker and
  // owner, the MUD URL its IDevID carries (unless an operator set one) and, the first time, its
  // address.
  Status Onboarded(const OnboardedDevice& device);
  // AssignUrl sets a device's MUD URL from a source; a weaker source never replaces a stronger
  // one (the refusal says which). Creates the device if new.
  Status AssignUrl(const std::string& device, const std::string& url, std::string_view source);
  // SetAddresses replaces a device's addresses (each an IP literal); another device that held
  // one of them loses it.
  Status SetAddresses(const std::string& device, const std::vector<std::string>& addresses);
  // Seen records what a DHCP server saw: the device with this MAC, or else the one holding this
  // address, or else a new device named after the MAC, gets the address and (if given) the URL.
  // Returns the device's name.
  Result<std::string> Seen(const std::string& mac, const std::string& address,
                           const std::string& url);
  // SetSoftware records a package version the device runs. Creates the device if new.
  Status SetSoftware(const std::string& device, const std::string& package,
                     const std::string& version);
  // SetZone puts a known device in a zone ("" takes it out): at most 64 letters, digits, '.',
  // '_' or '-', starting with a letter or digit.
  Status SetZone(const std::string& device, const std::string& zone);
  // SetDeparture mirrors the registrar's departure of an onboarded device ("" when it came
  // back); the registrar's own audit events record it.
  Status SetDeparture(const std::string& device, const std::string& departure);
  // Quarantine cuts a known device off the network until Release, for a reason of 1 to 200
  // printable characters; `actor` is who asked. Quarantining it again changes nothing.
  Status Quarantine(const std::string& device, const std::string& reason, const std::string& actor);
  Status Release(const std::string& device, const std::string& actor);
  // Quarantined lists the devices in quarantine, by name.
  Result<std::vector<Device>> Quarantined();
  // Remove forgets a device that left the site (transferred or decommissioned), with its
  // software: the next policy no longer names it.
  Status Remove(const std::string& device);

  Result<std::vector<Device>> List();
  // Page filters and pages in the database, so a site of any size answers a page at once.
  Result<DevicePage> Page(const DeviceFilter& filter);
  Result<std::optional<Device>> Find(const std::string& name);

  // ListenToAudit tells listener of every audit event this registry commits.
  void ListenToAudit(store::AuditListener* listener) { audit_.Listen(listener); }

 private:
  DeviceRegistry(std::unique_ptr<store::Database> db, const Clock& clock)
      : db_(std::move(db)), clock_(clock), audit_(*db_, clock) {}

  Result<std::optional<Device>> Query(std::string_view where, const std::string& key);
  Status Upsert(const Device& device);
  // TakeAddress removes address from every other device: an address belongs to one device.
  Status TakeAddress(const std::string& device, const std::string& address, Json& detail);

  std::mutex mutex_;
  std::unique_ptr<store::Database> db_;
  const Clock& clock_;
  store::AuditChain audit_;
};

}  // namespace concierge::registry
