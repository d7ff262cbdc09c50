#include "coap/coaps_server.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include <coap3/coap.h>

#include "coap/amplification.h"
#include "coap/coap_codes.h"
#include "coap/libcoap_support.h"
#include "coap/request_head.h"
#include "common/random.h"
#include "metrics/metrics.h"

namespace concierge::coap {
namespace {

// Concise problem details (RFC 9290) saying "unprocessed CoAP option 13", which
// draft-ietf-core-uri-path-abbrev gives for an unknown Uri-Path-Abbrev value.
constexpr uint8_t kUnprocessedAbbrev[] = {0xa1, 0x27, 0x0d};
constexpr uint16_t kConciseProblemDetails = 257;

// A 4.01 carrying an Echo option: header, token, the option (delta 252 takes one extended
// byte) and its value.
size_t ChallengeSize(size_t token_length) {
  return 4 + token_length + 2 + EchoChallenges::kValueSize;
}

// An answer with a Content-Format option and a payload.
size_t AnswerSize(size_t token_length, uint16_t content_format, size_t payload) {
  size_t format_length = content_format == 0 ? 0 : content_format < 256 ? 1 : 2;
  return 4 + token_length + 1 + format_length + (payload == 0 ? 0 : 1 + payload);
}

void CountUnanswered(std::string_view reason) {
  metrics::Global().Count("concierge_coap_unanswered_total",
                          "Plain CoAP requests not answered in full, by reason: rate-limited, "
                          "echo-challenged (4.01 with an Echo value instead), multicast-too-large, "
                          "multicast-no-match",
                          {{"reason", std::string(reason)}});
}

}  // namespace

class CoapsServer::Impl {
 public:
  Impl(ServerOptions options, std::vector<Resource> resources)
      : options_(std::move(options)),
        resources_(std::move(resources)),
        echo_(clock_, CryptoRandom().Generate(32),
              options_.discovery ? options_.discovery->echo_lifetime : std::chrono::seconds(0)),
        per_source_(options_.discovery ? options_.discovery->per_source : BucketLimits{},
                    options_.discovery ? options_.discovery->max_sources : 1),
        all_sources_(options_.discovery ? options_.discovery->all_sources : BucketLimits{}) {}

  ~Impl() {
    stop_ = true;
    mailbox_->Wake();
    if (thread_.joinable()) {
      thread_.join();
    }
    mailbox_->Close();  // answers still being made are dropped
    if (context_ != nullptr) {
      coap_free_context(context_);
    }
  }

  Status Open();

  uint16_t port() const { return port_; }

  std::optional<uint16_t> discovery_port() const { return discovery_port_; }

  static void OnRequest(coap_resource_t* resource, coap_session_t* session,
                        const coap_pdu_t* request, const coap_string_t* query,
                        coap_pdu_t* response);

 private:
  // Mailbox carries work to the loop thread, the only one that may touch libcoap. Answers made
  // on other threads (the MASA's) hold it, not the server, so one that arrives after the
  // server has gone is dropped rather than delivered to freed memory.
  class Mailbox {
   public:
    Mailbox() : fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}

    ~Mailbox() { Close(); }

    int fd() const { return fd_; }

    void Post(std::function<void()> task) {
      std::lock_guard lock(mutex_);
      if (fd_ < 0) {
        return;
      }
      tasks_.push_back(std::move(task));
      WakeLocked();
    }

    void Wake() {
      std::lock_guard lock(mutex_);
      WakeLocked();
    }

    std::vector<std::function<void()>> Take() {
      std::lock_guard lock(mutex_);
      uint64_t count = 0;
      if (fd_ >= 0) {
        (void)!read(fd_, &count, sizeof(count));
      }
      return std::exchange(tasks_, {});
    }

    void Close() {
      std::lock_guard lock(mutex_);
      if (fd_ >= 0) {
        close(fd_);
        fd_ = -1;
      }
      tasks_.clear();
    }

   private:
    void WakeLocked() {
      if (fd_ >= 0) {
        uint64_t one = 1;
        (void)!write(fd_, &one, sizeof(one));
      }
    }

    std::mutex mutex_;
    int fd_;
    std::vector<std::function<void()>> tasks_;
  };

  void Loop();
  void RunTasks();

  Status OpenDiscovery();
  void Handle(coap_resource_t* resource, coap_session_t* session, const coap_pdu_t* request,
              const coap_string_t* query, coap_pdu_t* response);
  // HandlePlain answers a request that came without DTLS: discovery, within the bounds
  // DiscoveryOptions lists.
  void HandlePlain(coap_resource_t* resource, coap_session_t* session, const coap_pdu_t* request,
                   const coap_string_t* query, coap_pdu_t* response);
  // Answer writes the response and counts it under label: a served resource's path, or
  // "unknown" (bounded, so a stranger cannot grow the metrics).
  void Answer(coap_resource_t* resource, coap_session_t* session, const coap_pdu_t* request,
              const coap_string_t* query, coap_pdu_t* response, const Response& answer,
              std::string_view label);
  // Defer answers later: libcoap sends an empty ACK now, and the handler runs again for the
  // same request once the answer is in (coap_async).
  void Defer(coap_session_t* session, const coap_pdu_t* request, Responder& responder);
  const Resource* Find(const std::string& path, const std::string& method, bool& path_known) const;

  ServerOptions options_;
  std::vector<Resource> resources_;
  coap_context_t* context_ = nullptr;
  uint16_t port_ = 0;
  std::optional<uint16_t> discovery_port_;
  SystemClock clock_;
  EchoChallenges echo_;
  SourceBuckets per_source_;  // loop thread only, as is all_sources_
  TokenBucket all_sources_;
  std::string certificate_pem_;
  std::string key_pem_;
  std::shared_ptr<Mailbox> mailbox_ = std::make_shared<Mailbox>();
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::map<coap_async_t*, std::pair<std::string, Response>> ready_;  // loop thread only
};

CoapsServer::CoapsServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

CoapsServer::~CoapsServer() = default;

uint16_t CoapsServer::port() const {
  return impl_->port();
}

std::optional<uint16_t> CoapsServer::discovery_port() const {
  return impl_->discovery_port();
}

Result<std::unique_ptr<CoapsServer>> CoapsServer::Start(ServerOptions options,
                                                        std::vector<Resource> resources) {
  auto impl = std::make_unique<Impl>(std::move(options), std::move(resources));
  RETURN_IF_ERROR(impl->Open());
  return std::unique_ptr<CoapsServer>(new CoapsServer(std::move(impl)));
}

Status CoapsServer::Impl::Open() {
  StartLibcoap();
  ASSIGN_OR_RETURN(certificate_pem_, CredentialPem(options_.identity));
  ASSIGN_OR_RETURN(key_pem_, options_.identity.key.ToPem());
  context_ = coap_new_context(nullptr);
  if (context_ == nullptr) {
    return MakeError(ErrorCode::kInternal, "libcoap: no context");
  }
  coap_set_app_data(context_, this);
  coap_context_set_block_mode(context_, COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY);
  coap_context_set_max_handshake_sessions(context_,
                                          static_cast<unsigned int>(options_.max_handshakes));
  coap_context_set_max_idle_sessions(context_, options_.max_sessions);
  coap_context_set_session_timeout(context_,
                                   static_cast<unsigned int>(options_.session_timeout.count()));
  coap_register_option(context_, kUriPathAbbrevOption);
  coap_mcast_per_resource(context_);  // the resources' own multicast flags apply
  coap_dtls_pki_t pki = ServerPki(certificate_pem_, key_pem_);
  if (coap_context_set_pki(context_, &pki) != 1) {
    return MakeError(ErrorCode::kInternal, "libcoap: the DTLS certificate was not accepted");
  }
  ASSIGN_OR_RETURN(coap_address_t address, ToCoapAddress(options_.listen));
  coap_endpoint_t* endpoint = coap_new_endpoint(context_, &address, COAP_PROTO_DTLS);
  if (endpoint == nullptr) {
    return MakeError(ErrorCode::kUnavailable, "cannot listen for CoAPS on " + options_.listen.host +
                                                  ":" + std::to_string(options_.listen.port));
  }
  ASSIGN_OR_RETURN(port_, EndpointPort(endpoint));
  RETURN_IF_ERROR(OpenDiscovery());

  std::map<std::string, coap_resource_t*> by_path;
  auto register_path = [&](const std::string& path) {
    auto [it, inserted] = by_path.emplace(path, nullptr);
    if (inserted) {
      std::string relative = path.substr(1);
      // Only discovery answers a group, and at once: a site has a registrar and a few
      // proxies answering, not the crowd RFC 7252 §8.2's random delay spreads out, and every
      // answer is kept no larger than its request.
      int flags = COAP_RESOURCE_FLAGS_RELEASE_URI |
                  (path == "/.well-known/core" ? COAP_RESOURCE_FLAGS_HAS_MCAST_SUPPORT |
                                                     COAP_RESOURCE_FLAGS_LIB_DIS_MCAST_DELAYS
                                               : 0);
      it->second = coap_resource_init(
          coap_new_str_const(reinterpret_cast<const uint8_t*>(relative.data()), relative.size()),
          flags);
      coap_add_resource(context_, it->second);
    }
    return it->second;
  };
  for (const Resource& resource : resources_) {
    if (!resource.handler) {
      continue;  // listed in /.well-known/core, not served
    }
    coap_resource_t* handle = register_path(resource.path);
    coap_register_request_handler(handle, MethodCode(resource.method), &Impl::OnRequest);
  }
  coap_register_request_handler(register_path("/.well-known/core"), COAP_REQUEST_GET,
                                &Impl::OnRequest);
  // Requests naming no registered path: an abbreviation, or nothing here (4.04).
  coap_resource_t* unknown = coap_resource_unknown_init2(&Impl::OnRequest, 0);
  coap_register_request_handler(unknown, COAP_REQUEST_GET, &Impl::OnRequest);
  coap_register_request_handler(unknown, COAP_REQUEST_POST, &Impl::OnRequest);
  coap_add_resource(context_, unknown);

  if (mailbox_->fd() < 0) {
    return MakeError(ErrorCode::kInternal, "eventfd: " + ErrnoText(errno));
  }
  thread_ = std::thread([this] { Loop(); });
  return OkStatus();
}

Status CoapsServer::Impl::OpenDiscovery() {
  if (!options_.discovery) {
    return OkStatus();
  }
  const DiscoveryOptions& discovery = *options_.discovery;
  ASSIGN_OR_RETURN(coap_address_t address, ToCoapAddress(discovery.listen));
  coap_endpoint_t* endpoint = coap_new_endpoint(context_, &address, COAP_PROTO_UDP);
  if (endpoint == nullptr) {
    return MakeError(ErrorCode::kUnavailable, "cannot listen for CoAP discovery on " +
                                                  discovery.listen.host + ":" +
                                                  std::to_string(discovery.listen.port));
  }
  ASSIGN_OR_RETURN(discovery_port_, EndpointPort(endpoint));
  std::vector<std::string> interfaces = discovery.interfaces;
  if (interfaces.empty()) {
    interfaces.emplace_back();
  }
  for (const std::string& group : discovery.groups) {
    for (const std::string& interface : interfaces) {
      if (coap_join_mcast_group_intf(context_, group.c_str(),
                                     interface.empty() ? nullptr : interface.c_str()) != 0) {
        return MakeError(ErrorCode::kUnavailable,
                         "cannot join the multicast group " + group +
                             (interface.empty() ? "" : " on " + interface));
      }
    }
  }
  return OkStatus();
}

void CoapsServer::Impl::Loop() {
  int coap_fd = coap_context_get_coap_fd(context_);
  while (!stop_) {
    if (coap_fd < 0) {
      coap_io_process(context_, 20);
    } else {
      coap_tick_t now = 0;
      coap_ticks(&now);
      unsigned int timeout = coap_io_prepare_epoll(context_, now);
      pollfd fds[2] = {{coap_fd, POLLIN, 0}, {mailbox_->fd(), POLLIN, 0}};
      (void)poll(fds, 2, timeout == 0 ? 1000 : static_cast<int>(std::min(timeout, 1000u)));
      coap_io_process(context_, COAP_IO_NO_WAIT);
    }
    RunTasks();
  }
}

void CoapsServer::Impl::RunTasks() {
  for (auto& task : mailbox_->Take()) {
    task();
  }
}

void CoapsServer::Impl::OnRequest(coap_resource_t* resource, coap_session_t* session,
                                  const coap_pdu_t* request, const coap_string_t* query,
                                  coap_pdu_t* response) {
  auto* impl = static_cast<Impl*>(coap_get_app_data(coap_session_get_context(session)));
  impl->Handle(resource, session, request, query, response);
}

const Resource* CoapsServer::Impl::Find(const std::string& path, const std::string& method,
                                        bool& path_known) const {
  path_known = false;
  for (const Resource& resource : resources_) {
    if (resource.path == path && resource.handler) {
      path_known = true;
      if (resource.method == method) {
        return &resource;
      }
    }
  }
  return nullptr;
}

void CoapsServer::Impl::Handle(coap_resource_t* resource, coap_session_t* session,
                               const coap_pdu_t* request, const coap_string_t* query,
                               coap_pdu_t* response) {
  if (coap_session_get_proto(session) != COAP_PROTO_DTLS) {
    HandlePlain(resource, session, request, query, response);
    return;
  }
  coap_async_t* async = coap_find_async(session, coap_pdu_get_token(request));
  if (async != nullptr) {
    auto it = ready_.find(async);
    if (it != ready_.end()) {
      Answer(resource, session, request, query, response, it->second.second, it->second.first);
      ready_.erase(it);  // libcoap frees the async itself once this handler returns
    }
    return;  // a repeat while the answer is still being made: the empty ACK stands
  }
  RequestHead head = ReadHead(request);
  auto path = ResolvePath(head, resources_);
  if (!path) {
    Answer(resource, session, request, query, response,
           {code::kBadOption, kConciseProblemDetails,
            Bytes(std::begin(kUnprocessedAbbrev), std::end(kUnprocessedAbbrev))},
           "unknown");
    return;
  }
  Request parsed;
  parsed.method = head.method;
  parsed.path = *path;
  parsed.query = head.query;
  if (parsed.path == "/.well-known/core" && parsed.method == "GET") {
    std::string links = LinkFormat(resources_, parsed.query);
    Answer(resource, session, request, query, response,
           {code::kContent, content_format::kLinkFormat, ToBytes(links)}, parsed.path);
    return;
  }
  bool path_known = false;
  const Resource* target = Find(parsed.path, parsed.method, path_known);
  if (target == nullptr) {
    Answer(resource, session, request, query, response,
           {path_known ? code::kMethodNotAllowed : code::kNotFound, std::nullopt, {}},
           path_known ? std::string_view(parsed.path) : "unknown");
    return;
  }
  if (head.payload.size() > options_.max_body) {
    Answer(resource, session, request, query, response,
           {code::kRequestEntityTooLarge, std::nullopt,
            ToBytes("body of " + std::to_string(head.payload.size()) +
                    " bytes is over the limit of " + std::to_string(options_.max_body))},
           target->path);
    return;
  }
  parsed.payload = std::move(head.payload);
  parsed.content_format = head.content_format;
  parsed.accept = head.accept;
  parsed.peer = PeerOf(session);

  struct Slot {
    std::mutex mutex;
    std::optional<Response> answer;
    std::function<void(Response)> later;
  };

  auto slot = std::make_shared<Slot>();
  Responder responder = [slot](Response answer) {
    std::function<void(Response)> later;
    {
      std::lock_guard lock(slot->mutex);
      if (!slot->later) {
        slot->answer = std::move(answer);
        return;
      }
      later = slot->later;
    }
    later(std::move(answer));
  };
  target->handler(parsed, responder);
  std::unique_lock lock(slot->mutex);
  if (slot->answer) {
    Response answer = std::move(*slot->answer);
    lock.unlock();
    Answer(resource, session, request, query, response, answer, target->path);
    return;
  }
  coap_async_t* registered = coap_register_async(session, request, 0);
  if (registered == nullptr) {
    lock.unlock();
    Answer(resource, session, request, query, response,
           {code::kServiceUnavailable, std::nullopt, ToBytes("no room to answer later")},
           target->path);
    return;
  }
  coap_session_reference(session);
  coap_bin_const_t token = coap_pdu_get_token(request);
  Bytes token_copy(token.s, token.s + token.length);
  slot->later = [this, mailbox = mailbox_, session, token_copy,
                 label = target->path](Response answer) {
    mailbox->Post([this, session, token_copy, label, answer = std::move(answer)]() mutable {
      coap_async_t* waiting = coap_find_async(session, {token_copy.size(), token_copy.data()});
      if (waiting != nullptr) {
        ready_[waiting] = {label, std::move(answer)};
        coap_async_trigger(waiting);
      }
      coap_session_release(session);
    });
  };
}

void CoapsServer::Impl::HandlePlain(coap_resource_t* resource, coap_session_t* session,
                                    const coap_pdu_t* request, const coap_string_t* query,
                                    coap_pdu_t* response) {
  const coap_address_t* remote = coap_session_get_addr_remote(session);
  SystemTime now = clock_.Now();
  // Refused first, before any parsing: a flood costs one lookup per datagram. Without a
  // response code libcoap sends an empty ACK to a CON (4 bytes) and nothing to a NON.
  if (!per_source_.At(HostText(remote)).Take(now) || !all_sources_.Take(now)) {
    CountUnanswered("rate-limited");
    return;
  }
  bool multicast = ReachedByMulticast(session);
  RequestHead head = ReadHead(request);
  auto path = ResolvePath(head, resources_);
  Response answer;
  std::string label = "unknown";
  if (path && *path == "/.well-known/core" && head.method == "GET") {
    label = *path;
    std::vector<Resource> links;
    if (options_.discovery && options_.discovery->links) {
      links = options_.discovery->links(LocalUriHost(session), port_);
    }
    std::string text = LinkFormat(links, head.query);
    if (text.empty() && multicast) {
      CountUnanswered("multicast-no-match");
      return;
    }
    answer = {code::kContent, content_format::kLinkFormat, ToBytes(text)};
  } else {
    bool path_known = false;
    if (path) {
      (void)Find(*path, head.method, path_known);
    }
    // Everything but discovery needs DTLS; a path that is not here is 4.04 as over DTLS.
    answer = {path_known ? code::kUnauthorized : code::kNotFound, std::nullopt, {}};
  }
  size_t token_length = coap_pdu_get_token(request).length;
  PlainExchange exchange;
  exchange.request_bytes = MessageSize(request);
  exchange.answer_bytes =
      AnswerSize(token_length, answer.content_format.value_or(0), answer.payload.size());
  exchange.challenge_bytes = ChallengeSize(token_length);
  exchange.multicast = multicast;
  std::string claimed = AddressText(remote);
  coap_opt_iterator_t iterator;
  if (coap_opt_t* echo = coap_check_option(request, COAP_OPTION_ECHO, &iterator)) {
    exchange.echo_verified =
        echo_.Verify(ByteSpan(coap_opt_value(echo), coap_opt_length(echo)), claimed);
  }
  switch (DecidePlainAnswer(exchange)) {
    case PlainVerdict::kAnswer:
      Answer(resource, session, request, query, response, answer, label);
      return;
    case PlainVerdict::kChallenge: {
      CountUnanswered("echo-challenged");
      Bytes value = echo_.Issue(claimed);
      Answer(resource, session, request, query, response, {code::kUnauthorized, std::nullopt, {}},
             label);
      coap_add_option(response, COAP_OPTION_ECHO, value.size(), value.data());
      return;
    }
    case PlainVerdict::kSilence:
      CountUnanswered(multicast ? "multicast-too-large" : "too-large");
      return;
  }
}

void CoapsServer::Impl::Answer(coap_resource_t* resource, coap_session_t* session,
                               const coap_pdu_t* request, const coap_string_t* query,
                               coap_pdu_t* response, const Response& answer,
                               std::string_view label) {
  metrics::Global().Count(
      "concierge_coap_responses_total", "CoAP responses by resource and code (class.detail)",
      {{"resource", std::string(label)},
       {"code", std::to_string(answer.code / 100) + "." + (answer.code % 100 < 10 ? "0" : "") +
                    std::to_string(answer.code % 100)}});
  coap_pdu_set_code(response, static_cast<coap_pdu_code_t>(COAP_RESPONSE_CODE(answer.code)));
  if (answer.payload.empty() && !answer.content_format) {
    if (answer.max_age) {
      uint8_t buffer[4];
      size_t length = coap_encode_var_safe(buffer, sizeof(buffer), *answer.max_age);
      coap_add_option(response, COAP_OPTION_MAXAGE, length, buffer);
    }
    return;
  }
  auto* copy = new Bytes(answer.payload);
  coap_add_data_large_response(
      resource, session, request, response, query,
      answer.content_format.value_or(COAP_MEDIATYPE_TEXT_PLAIN),
      answer.max_age ? static_cast<int>(*answer.max_age) : -1, 0, copy->size(), copy->data(),
      [](coap_session_t*, void* owned) { delete static_cast<Bytes*>(owned); }, copy);
}

std::string LinkFormat(const std::vector<Resource>& resources, std::string_view query) {
  std::vector<std::pair<std::string, std::string>> filters;
  size_t start = 0;
  while (start < query.size()) {
    size_t end = query.find('&', start);
    std::string_view part = query.substr(start, end == std::string_view::npos ? end : end - start);
    size_t equals = part.find('=');
    if (equals != std::string_view::npos) {
      filters.emplace_back(part.substr(0, equals), part.substr(equals + 1));
    }
    if (end == std::string_view::npos) {
      break;
    }
    start = end + 1;
  }
  std::string links;
  std::vector<std::string> listed;
  for (const Resource& resource : resources) {
    if (resource.link_attributes.empty() ||
        std::find(listed.begin(), listed.end(), resource.path) != listed.end()) {
      continue;
    }
    bool matches = true;
    for (const auto& [name, wanted] : filters) {
      bool found = false;
      std::string_view attributes = resource.link_attributes;
      size_t at = 0;
      while (at <= attributes.size()) {
        size_t end = attributes.find(';', at);
        std::string_view attribute =
            attributes.substr(at, end == std::string_view::npos ? end : end - at);
        size_t equals = attribute.find('=');
        if (equals != std::string_view::npos && attribute.substr(0, equals) == name) {
          std::string_view value = attribute.substr(equals + 1);
          if (value.size() >= 2 && value.front() == '"') {
            value = value.substr(1, value.size() - 2);
          }
          found = wanted.ends_with('*')
                      ? value.starts_with(std::string_view(wanted).substr(0, wanted.size() - 1))
                      : value == wanted;
        }
        if (found || end == std::string_view::npos) {
          break;
        }
        at = end + 1;
      }
      matches = matches && found;
    }
    if (matches) {
      listed.push_back(resource.path);
      links += (links.empty() ? "<" : ",<") + resource.path + ">;" + resource.link_attributes;
    }
  }
  return links;
}

}  // namespace concierge::coap
