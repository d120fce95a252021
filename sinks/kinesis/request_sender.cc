#include "sinks/kinesis/request_sender.h"

namespace kinship::kinesis {

namespace {

// The Host header's value from "https://host[:port]"; empty while the
// endpoint is not known yet (no region until start() asks the instance
// metadata service).
std::string hostOf(const std::string& endpoint) {
  auto scheme = endpoint.find("//");
  return scheme == std::string::npos ? std::string() : endpoint.substr(scheme + 2);
}

}  // namespace

RequestSender::RequestSender(const std::string& endpoint, const std::string& region, const Clock& clock)
    : clock_(clock), url_(endpoint + "/"), host_(hostOf(endpoint)), signer_(region, "kinesis") {}

void RequestSender::setEndpoint(const std::string& endpoint, const std::string& region) {
  url_ = endpoint + "/";
  host_ = hostOf(endpoint);
  signer_ = aws::SigV4Signer(region, "kinesis");
}

void RequestSender::open(aws::CredentialsProvider& credentials, std::unique_ptr<aws::HttpTransport> transport) {
  credentials_ = &credentials;
  transport_ = std::move(transport);
}

Status RequestSender::send(aws::HttpRequest& http, std::string_view target, WireProtocol protocol) {
  http.url = url_;
  http.headers = {{"Host", host_}, {"Content-Type", std::string(contentTypeOf(protocol))},
                  {"X-Amz-Target", std::string(target)}};
  auto credentials = credentials_->current();
  if (!credentials) return credentials.error();
  aws::SigningRequest signing{.method = "POST", .path = "/", .query = "", .headers = http.headers, .payload = http.body};
  for (auto& h : signer_.sign(signing, *credentials, clock_.wallNow())) http.headers.push_back(std::move(h));
  transport_->start(http);
  return Status::ok();
}

}  // namespace kinship::kinesis
