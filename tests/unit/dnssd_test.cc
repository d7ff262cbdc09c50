#include <gtest/gtest.h>

#include "dnssd/ldns_include.h"
#include "dnssd/mdns_message.h"

namespace concierge::dnssd {
namespace {

Service Gateway() {
  return {.type = kJoinProxyService,
          .instance = "Plant Room gateway",
          .host = "gw",
          .port = 5690,
          .addresses = {"fe80::1%eth0", "2001:db8::5"}};
}

// TtlsOf are the TTLs of a message's answer and additional records, in order.
std::vector<uint32_t> TtlsOf(const Bytes& message) {
  ldns_pkt* packet = nullptr;
  EXPECT_EQ(ldns_wire2pkt(&packet, message.data(), message.size()), LDNS_STATUS_OK);
  std::vector<uint32_t> ttls;
  for (ldns_rr_list* section : {ldns_pkt_answer(packet), ldns_pkt_additional(packet)}) {
    for (size_t i = 0; i < ldns_rr_list_rr_count(section); ++i) {
      ttls.push_back(ldns_rr_ttl(ldns_rr_list_rr(section, i)));
    }
  }
  ldns_pkt_free(packet);
  return ttls;
}

TEST(MdnsMessageTest, ABrowseIsAnsweredWithTheInstanceItsPortAndAddresses) {
  Bytes query = BrowseQuery(kJoinProxyService);
  EXPECT_EQ(query[0], 0);
  EXPECT_EQ(query[1], 0) << "id 0 for a multicast query";
  auto answer = AnswerQuery(query, {Gateway()}, false);
  ASSERT_TRUE(answer);
  EXPECT_EQ((*answer)[0] | (*answer)[1], 0) << "a multicast answer has id 0";
  auto offers = ParseAnswer(*answer, kJoinProxyService);
  ASSERT_TRUE(offers) << offers.error().message();
  ASSERT_EQ(offers->size(), 1u);
  EXPECT_EQ((*offers)[0].instance, "Plant-Room-gateway._brski-proxy._udp.local.");
  EXPECT_EQ((*offers)[0].host, "gw.local.");
  EXPECT_EQ((*offers)[0].port, 5690);
  EXPECT_EQ((*offers)[0].addresses, (std::vector<std::string>{"fe80::1", "2001:db8::5"}))
      << "the zone is not part of the record";
  // PTR and TXT live 75 minutes, SRV and addresses 2 (RFC 6762 §10).
  EXPECT_EQ(TtlsOf(*answer), (std::vector<uint32_t>{4500, 120, 4500, 120, 120}));
}

TEST(MdnsMessageTest, AOneShotQuerierGetsItsIdItsQuestionAndShortTtls) {
  Bytes query = BrowseQuery(kJoinProxyService);
  query[0] = 0x12;
  query[1] = 0x34;
  auto answer = AnswerQuery(query, {Gateway()}, true);
  ASSERT_TRUE(answer);
  EXPECT_EQ((*answer)[0], 0x12);
  EXPECT_EQ((*answer)[1], 0x34);
  EXPECT_EQ((*answer)[5], 1) << "the question, echoed (RFC 6762 §6.7)";
  for (uint32_t ttl : TtlsOf(*answer)) {
    EXPECT_LE(ttl, 10u);
  }
  EXPECT_TRUE(ParseAnswer(*answer, kJoinProxyService));
}

TEST(MdnsMessageTest, AnswersOnlyWhatItAnnounces) {
  EXPECT_FALSE(AnswerQuery(BrowseQuery("_printer._tcp"), {Gateway()}, false).has_value());
  EXPECT_FALSE(AnswerQuery(BrowseQuery(kRegistrarJpyService), {Gateway()}, false).has_value());
  auto answer = AnswerQuery(BrowseQuery(kJoinProxyService), {Gateway()}, false);
  ASSERT_TRUE(answer);
  EXPECT_FALSE(AnswerQuery(*answer, {Gateway()}, false).has_value())
      << "an answer is not a question";
  EXPECT_FALSE(AnswerQuery(Bytes{1, 2, 3}, {Gateway()}, false).has_value());
  // Service enumeration (RFC 6763 §9) names the type.
  auto types = AnswerQuery(BrowseQuery("_services._dns-sd._udp"), {Gateway()}, false);
  ASSERT_TRUE(types);
  EXPECT_NE(std::string(types->begin(), types->end()).find("_brski-proxy"), std::string::npos);
}

TEST(MdnsMessageTest, RefusesQueriesAndWhatIsNotDnsByName) {
  auto query = ParseAnswer(BrowseQuery(kJoinProxyService), kJoinProxyService);
  ASSERT_FALSE(query);
  EXPECT_NE(query.error().message().find("a query, not a response"), std::string::npos);
  auto garbage = ParseAnswer(Bytes{0, 0, 0x84}, kJoinProxyService);
  ASSERT_FALSE(garbage);
  EXPECT_NE(garbage.error().message().find("not a DNS message"), std::string::npos);
  auto huge = ParseAnswer(Bytes(kMaxMdnsMessage + 1, 0), kJoinProxyService);
  ASSERT_FALSE(huge);
  EXPECT_NE(huge.error().message().find("over the limit of 9000"), std::string::npos);
}

TEST(MdnsMessageTest, AnOfferNeedsItsServiceRecord) {
  Service registrar = Gateway();
  registrar.type = kRegistrarJpyService;
  auto answer = AnswerQuery(BrowseQuery(kRegistrarJpyService), {registrar}, false);
  ASSERT_TRUE(answer);
  EXPECT_EQ(ParseAnswer(*answer, kRegistrarJpyService)->size(), 1u);
  EXPECT_TRUE(ParseAnswer(*answer, kJoinProxyService)->empty()) << "another type's offer";
  // The host's own records only: no PTR, so nothing offered.
  Bytes host_query = BrowseQuery(kJoinProxyService);
  auto host_answer = AnswerQuery(host_query, {}, false);
  EXPECT_FALSE(host_answer.has_value());
}

TEST(MdnsMessageTest, LabelsAreLettersDigitsAndHyphens) {
  EXPECT_EQ(Label("Plant Room #2"), "Plant-Room--2");
  EXPECT_EQ(Label(""), "concierge");
  EXPECT_EQ(Label(std::string(80, 'a')).size(), 63u);
}

}  // namespace
}  // namespace concierge::dnssd
