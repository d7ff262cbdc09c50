#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/simulated_clock.h"
#include "common/temp_dir.h"
#include "exposure/exposure_store.h"
#include "mud/mud_store.h"
#include "registry/device_registry.h"
#include "store/audit_log.h"
#include "tests/support/test_database.h"

namespace concierge::registry {
namespace {

class RegistryTest : public ::testing::Test {
 protected:
  void SetUp() override { CONCIERGE_SKIP_UNLESS_READY(database_); }

  std::filesystem::path Path() const { return database_.Location(); }

  std::vector<std::string> EventKinds() {
    auto db = database_.Open();
    std::vector<std::string> kinds;
    auto records = store::ReadAuditEvents(*db).value();
    for (const auto& record : records) {
      kinds.push_back(record.kind + " " + record.subject);
    }
    return kinds;
  }

  SimulatedClock clock_{FromUnixSeconds(1'790'000'000)};
  testing::TestDatabase database_;
};

TEST_F(RegistryTest, AnOnboardedDeviceIsRecordedOnceWithItsIdentityUrlAndFirstAddress) {
  auto registry = DeviceRegistry::Open(Path(), clock_).value();
  ASSERT_TRUE(registry->Onboarded(
      {"LOCK-1", "Acme", "Home", "https://mud.acme.example/lock.json", "10.0.0.7"}));
  auto device = registry->Find("LOCK-1").value();
  ASSERT_TRUE(device.has_value());
  EXPECT_EQ(device->serial, "LOCK-1");
  EXPECT_EQ(device->maker, "Acme");
  EXPECT_EQ(device->owner, "Home");
  EXPECT_EQ(device->mud_url, "https://mud.acme.example/lock.json");
  EXPECT_EQ(device->url_source, kSourceIdevid);
  EXPECT_EQ(device->addresses, std::vector<std::string>{"10.0.0.7"});
  EXPECT_THAT(EventKinds(), ::testing::ElementsAre("device.registered device:LOCK-1",
                                                   "mud.url_assigned device:LOCK-1",
                                                   "device.addresses device:LOCK-1"));

  // Told again, nothing changes and nothing is recorded; a later enrolment address does not
  // move a device that DHCP or an operator has placed since.
  ASSERT_TRUE(registry->SetAddresses("LOCK-1", {"10.0.0.8"}));
  ASSERT_TRUE(registry->Onboarded(
      {"LOCK-1", "Acme", "Home", "https://mud.acme.example/lock.json", "10.0.0.9"}));
  EXPECT_EQ(registry->Find("LOCK-1").value()->addresses, std::vector<std::string>{"10.0.0.8"});
  EXPECT_EQ(EventKinds().size(), 4u);

  // An operator's URL stands against the IDevID's.
  ASSERT_TRUE(registry->AssignUrl("LOCK-1", "https://mud.site.example/lock.json", kSourceManual));
  ASSERT_TRUE(
      registry->Onboarded({"LOCK-1", "Acme", "Home", "https://mud.acme.example/lock2.json", ""}));
  EXPECT_EQ(registry->Find("LOCK-1").value()->mud_url, "https://mud.site.example/lock.json");

  EXPECT_FALSE(registry->Onboarded({"", "Acme", "Home", "", ""}));
  auto bad = registry->Onboarded({"LOCK-2", "Acme", "Home", "", "10.0.0.0/24"});
  ASSERT_FALSE(bad);
  EXPECT_THAT(bad.error().message(), ::testing::HasSubstr("LOCK-2"));
  EXPECT_FALSE(registry->Find("LOCK-2").value().has_value());
}

TEST_F(RegistryTest, AnOperatorPutsAKnownDeviceInAZoneAndTakesItOut) {
  auto registry = DeviceRegistry::Open(Path(), clock_).value();
  ASSERT_TRUE(registry->Onboarded({"LOCK-1", "Acme", "Home", "", ""}));
  ASSERT_TRUE(registry->SetZone("LOCK-1", "floor-2.east_wing"));
  EXPECT_EQ(registry->Find("LOCK-1").value()->zone, "floor-2.east_wing");
  ASSERT_TRUE(registry->SetZone("LOCK-1", "floor-2.east_wing"));  // unchanged: no event
  ASSERT_TRUE(registry->SetZone("LOCK-1", ""));
  EXPECT_EQ(registry->Find("LOCK-1").value()->zone, "");

  auto unknown = registry->SetZone("LOCK-9", "lobby");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code(), ErrorCode::kNotFound);
  for (const std::string& bad : {std::string("-lobby"), std::string("lobby 1"),
                                 std::string("lobby/1"), std::string(65, 'a')}) {
    auto refused = registry->SetZone("LOCK-1", bad);
    ASSERT_FALSE(refused) << bad;
    EXPECT_THAT(refused.error().message(), ::testing::HasSubstr("1 to 64 letters")) << bad;
  }
  ASSERT_TRUE(registry->SetZone("LOCK-1", std::string(64, 'a')));
  // An onboarding told again keeps the zone.
  ASSERT_TRUE(
      registry->Onboarded({"LOCK-1", "Acme", "Home", "https://mud.acme.example/l.json", ""}));
  EXPECT_EQ(registry->Find("LOCK-1").value()->zone, std::string(64, 'a'));
  EXPECT_THAT(EventKinds(),
              ::testing::ElementsAre("device.registered device:LOCK-1", "device.zone device:LOCK-1",
                                     "device.zone device:LOCK-1", "device.zone device:LOCK-1",
                                     "mud.url_assigned device:LOCK-1"));
}

TEST_F(RegistryTest, AQuarantineIsRecordedWithWhoAndWhyAndSurvivesOtherChanges) {
  auto registry = DeviceRegistry::Open(Path(), clock_).value();
  ASSERT_TRUE(registry->Onboarded({"CAM-1", "Acme", "Home", "", "10.0.0.5"}));
  for (const std::string& bad : {std::string(), std::string(201, 'x'), std::string("a\nb")}) {
    auto refused = registry->Quarantine("CAM-1", bad, "local:ann");
    ASSERT_FALSE(refused);
    EXPECT_THAT(refused.error().message(), ::testing::HasSubstr("1 to 200 printable"));
  }
  EXPECT_EQ(registry->Quarantine("CAM-9", "x", "local:ann").error().code(), ErrorCode::kNotFound);
  ASSERT_TRUE(registry->Quarantine("CAM-1", "scanning port 23", "operator:ann"));
  ASSERT_TRUE(registry->Quarantine("CAM-1", "again", "operator:bob"));  // already: no change
  ASSERT_TRUE(registry->SetZone("CAM-1", "lobby"));
  auto record = registry->Find("CAM-1").value();
  ASSERT_TRUE(record->quarantined());
  EXPECT_EQ(record->quarantine_reason, "scanning port 23");
  EXPECT_EQ(record->quarantined_by, "operator:ann");
  EXPECT_EQ(record->quarantined_at, ToUnixSeconds(clock_.Now()));
  EXPECT_EQ(registry->Quarantined().value().size(), 1u);
  DeviceFilter only_quarantined;
  only_quarantined.quarantined = true;
  EXPECT_EQ(registry->Page(only_quarantined).value().total, 1u);

  DeviceFilter by_state;
  by_state.state = "quarantined";
  EXPECT_EQ(registry->Page(by_state).value().total, 1u);
  EXPECT_EQ(record->State(), "quarantined");
  ASSERT_TRUE(registry->SetDeparture("CAM-1", "retiring"));
  EXPECT_EQ(registry->Find("CAM-1").value()->State(), "quarantined") << "quarantine shows first";

  ASSERT_TRUE(registry->Release("CAM-1", "operator:bob"));
  ASSERT_TRUE(registry->Release("CAM-1", "operator:bob"));  // already free: no change
  EXPECT_EQ(registry->Find("CAM-1").value()->State(), "retiring");
  by_state.state = "retiring";
  EXPECT_EQ(registry->Page(by_state).value().total, 1u);
  ASSERT_TRUE(registry->SetDeparture("CAM-1", ""));
  EXPECT_EQ(registry->Find("CAM-1").value()->State(), "onboarded");
  ASSERT_TRUE(registry->AssignUrl("plug", "https://mud.example/plug.json", kSourceManual));
  by_state.state = "seen";
  EXPECT_EQ(registry->Page(by_state).value().devices.front().name, "plug");
  DeviceFilter by_model;
  by_model.mud_url = "https://mud.example/plug.json";
  ASSERT_EQ(registry->Page(by_model).value().total, 1u);
  by_state.state = "lost";
  EXPECT_FALSE(registry->Page(by_state));
  DeviceFilter too_many;
  too_many.only = std::vector<std::string>(20'001, "x");
  EXPECT_EQ(registry->Page(too_many).error().code(), ErrorCode::kTooLarge);
  EXPECT_FALSE(registry->Find("CAM-1").value()->quarantined());
  EXPECT_TRUE(registry->Quarantined().value().empty());
  EXPECT_EQ(registry->Page(only_quarantined).value().total, 0u);
  EXPECT_THAT(EventKinds(), ::testing::ElementsAre(
                                "device.registered device:CAM-1", "device.addresses device:CAM-1",
                                "device.quarantined device:CAM-1", "device.zone device:CAM-1",
                                "device.released device:CAM-1", "mud.url_assigned device:plug"));
}

TEST_F(RegistryTest, SoftwareBelongsToTheRecordAndLeavesWithIt) {
  auto registry = DeviceRegistry::Open(Path(), clock_).value();
  ASSERT_TRUE(registry->SetSoftware("cam-2", "busybox", "1.30.1"));
  ASSERT_TRUE(registry->SetSoftware("cam-1", "openssl", "3.0.2"));
  ASSERT_TRUE(registry->SetSoftware("cam-1", "busybox", "1.35.0"));
  ASSERT_TRUE(registry->SetSoftware("cam-1", "busybox", "1.36.1"));
  ASSERT_TRUE(registry->Seen("02:00:00:00:00:01", "10.0.0.1", ""));
  EXPECT_FALSE(registry->SetSoftware("cam-1", "", "1"));

  auto devices = registry->List().value();
  ASSERT_EQ(devices.size(), 3u);
  EXPECT_EQ(devices[0].name, "cam-1");
  using Software = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(devices[0].software, (Software{{"busybox", "1.36.1"}, {"openssl", "3.0.2"}}));
  EXPECT_EQ(devices[1].name, "cam-2");
  EXPECT_EQ(devices[1].software, (Software{{"busybox", "1.30.1"}}));
  EXPECT_EQ(devices[2].name, "mac-02:00:00:00:00:01");
  EXPECT_TRUE(devices[2].software.empty());
  EXPECT_EQ(registry->Find("cam-1").value()->software, devices[0].software);

  ASSERT_TRUE(registry->Remove("cam-1"));
  EXPECT_EQ(registry->List().value().size(), 2u);
  ASSERT_TRUE(registry->SetSoftware("cam-1", "openssl", "3.0.13"));
  EXPECT_EQ(registry->Find("cam-1").value()->software, (Software{{"openssl", "3.0.13"}}));
}

// A site made before the registry kept devices in the MUD manager's table and software in the
// analyzer's; opening the registry moves both in, and the old stores still open.
TEST_F(RegistryTest, ASiteFromBeforeTheRegistryKeepsItsDevicesAndSoftware) {
  {
    auto db = database_.Open();
    ASSERT_TRUE(db->Exec(R"sql(
CREATE TABLE schema_versions(component TEXT PRIMARY KEY, version INTEGER NOT NULL);
INSERT INTO schema_versions VALUES ('mud', 2), ('exposure', 2);
CREATE TABLE mud_devices (name TEXT PRIMARY KEY, mac TEXT UNIQUE,
  addresses TEXT NOT NULL DEFAULT '', mud_url TEXT NOT NULL DEFAULT '',
  url_source TEXT NOT NULL DEFAULT '', updated_at INTEGER NOT NULL);
INSERT INTO mud_devices VALUES ('plug-1', '02:00:00:00:00:21', '10.0.0.21 2001:db8::21',
  'https://mud.acme.example/plug.json', 'manual', 1700000000);
INSERT INTO mud_devices VALUES ('LOCK-1', NULL, '10.0.0.7',
  'https://mud.acme.example/lock.json', 'idevid', 1700000001);
CREATE TABLE exposure_software (device TEXT NOT NULL, package TEXT NOT NULL,
  version TEXT NOT NULL, PRIMARY KEY (device, package));
INSERT INTO exposure_software VALUES ('plug-1', 'busybox', '1.30.1');
INSERT INTO exposure_software VALUES ('hub-9', 'dropbear', '2019.78');
)sql"));
  }
  auto registry = DeviceRegistry::Open(Path(), clock_).value();
  auto devices = registry->List().value();
  ASSERT_EQ(devices.size(), 3u);
  EXPECT_EQ(devices[0].name, "LOCK-1");
  EXPECT_EQ(devices[0].url_source, kSourceIdevid);
  EXPECT_EQ(devices[1].name, "hub-9");
  EXPECT_EQ(devices[1].software.size(), 1u);
  EXPECT_EQ(devices[2].name, "plug-1");
  EXPECT_EQ(devices[2].mac, "02:00:00:00:00:21");
  EXPECT_EQ(devices[2].addresses, (std::vector<std::string>{"10.0.0.21", "2001:db8::21"}));
  EXPECT_EQ(devices[2].software.size(), 1u);

  auto db = database_.Open();
  EXPECT_FALSE(db->Exec("SELECT 1 FROM mud_devices")) << "the old table is gone";
  EXPECT_FALSE(db->Exec("SELECT 1 FROM exposure_software"));
  EXPECT_TRUE(mud::MudStore::Open(Path(), clock_));
  EXPECT_TRUE(exposure::ExposureStore::Open(Path(), clock_));
  // Opened again, nothing moves twice.
  EXPECT_EQ(DeviceRegistry::Open(Path(), clock_).value()->List().value().size(), 3u);
}

}  // namespace
}  // namespace concierge::registry

namespace concierge::registry {
namespace {

DevicePage Where(DeviceRegistry& registry, const std::function<void(DeviceFilter&)>& set) {
  DeviceFilter filter;
  set(filter);
  return registry.Page(filter).value();
}

TEST_F(RegistryTest, APageIsFilteredAndCountedInTheDatabase) {
  auto registry = DeviceRegistry::Open(Path(), clock_).value();
  for (int i = 0; i < 12; ++i) {
    std::string serial = "LOCK-" + std::to_string(100 + i);
    ASSERT_TRUE(registry->Onboarded({serial, i % 3 == 0 ? "Bolt" : "Acme", "Home", "", ""}));
  }
  ASSERT_TRUE(registry->SetZone("LOCK-101", "floor-1"));
  ASSERT_TRUE(registry->Seen("aa:bb:cc:00:11:22", "10.0.0.9", ""));
  ASSERT_TRUE(registry->SetSoftware("50%_off", "busybox", "1.30.1"));

  auto page = Where(*registry, [](DeviceFilter& f) {
    f.maker = "Acme";
    f.offset = 2;
    f.limit = 3;
  });
  EXPECT_EQ(page.total, 8u);
  ASSERT_EQ(page.devices.size(), 3u);
  EXPECT_EQ(page.devices[0].name, "LOCK-104");
  EXPECT_EQ(Where(*registry, [](DeviceFilter& f) { f.zone = "floor-1"; }).devices.at(0).name,
            "LOCK-101");
  EXPECT_EQ(Where(*registry, [](DeviceFilter& f) { f.owner = "Home"; }).total, 12u);
  EXPECT_EQ(Where(*registry, [](DeviceFilter& f) { f.search = "11:2"; }).devices.at(0).mac,
            "aa:bb:cc:00:11:22");
  // LIKE's wildcards in a search are plain characters.
  auto literal = Where(*registry, [](DeviceFilter& f) { f.search = "%_"; });
  ASSERT_EQ(literal.total, 1u);
  EXPECT_EQ(literal.devices[0].name, "50%_off");
  EXPECT_EQ(Where(*registry, [](DeviceFilter& f) { f.search = "_"; }).total, 1u);
  auto only = Where(*registry, [](DeviceFilter& f) {
    f.only = std::vector<std::string>{"LOCK-105", "NOPE"};
  });
  ASSERT_EQ(only.total, 1u);
  EXPECT_EQ(only.devices[0].name, "LOCK-105");
  EXPECT_EQ(Where(*registry, [](DeviceFilter& f) { f.only = std::vector<std::string>{}; }).total,
            0u);
  EXPECT_TRUE(Where(*registry, [](DeviceFilter& f) { f.offset = 100; }).devices.empty());
}

}  // namespace
}  // namespace concierge::registry
