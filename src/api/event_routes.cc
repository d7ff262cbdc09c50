// The live event stream: Server-Sent Events of the site's committed changes.
#include <set>

#include "api/call.h"
#include "api/problem.h"

namespace concierge::api {
namespace {

// A browser reconnects this long after each answer; an answer comes as soon as an event does.
constexpr std::chrono::milliseconds kRetry{500};

}  // namespace

void ManagementApi::StreamEvents(Call& call, const http::Respond& respond) {
  auto refused = [&respond](const Error& error) { respond(Problem(error)); };
  if (auto allowed = AllowQuery(call.query, {"after"}); !allowed) {
    return refused(allowed.error());
  }
  // Where the browser left off: EventSource sends the last id it saw when it reconnects.
  std::string last = call.request.Header("last-event-id");
  int64_t after = -1;
  if (auto query = call.query.find("after"); query != call.query.end()) {
    last = query->second;
  }
  if (!last.empty()) {
    auto number = QueryNumber({{"after", last}}, "after", 0, 999'999'999);
    if (!number) {
      return refused(number.error());
    }
    after = static_cast<int64_t>(*number);
  }
  EventStream::Visible visible = [](const std::string&) { return true; };
  if (operators::ScopedToDelegations(call.session->holder.role)) {
    auto devices = TenantDevices(call.session->holder.tenant);
    if (!devices) {
      return refused(devices.error());
    }
    std::set<std::string> subjects;
    for (const std::string& device : *devices) {
      subjects.insert(store::DeviceSubject(device));
    }
    visible = [subjects = std::move(subjects)](const std::string& subject) {
      return subjects.contains(subject);
    };
  }
  events_->Wait(after, std::move(visible),
                [respond](std::vector<LiveEvent> events, int64_t last_seq) {
                  http::HttpResponse answer = http::MakeResponse(
                      200, "text/event-stream", ServerSentEvents(events, last_seq, kRetry));
                  AddSecurityHeaders(answer);
                  respond(std::move(answer));
                });
}

}  // namespace concierge::api
