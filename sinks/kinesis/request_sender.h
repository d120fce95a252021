#pragma once
// RequestSender: the sending stage of the Kinesis sink. It signs each
// request (SigV4 with the provider's current credentials) and starts it on
// the HttpTransport, which runs up to max_in_flight PutRecords requests and
// a ListShards page at once. A request that cannot be signed (no usable
// credentials) is not sent, and send() says why: the caller answers it
// itself (retry_policy.h's notSent()).
// Not thread-safe: the sink's sender thread, except wakeup().

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "aws/credentials_provider.h"
#include "aws/http_transport.h"
#include "aws/sigv4.h"
#include "common/clock.h"
#include "common/status.h"
#include "sinks/kinesis/wire_protocol.h"

namespace kinship::kinesis {

class RequestSender {
 public:
  RequestSender(const std::string& endpoint, const std::string& region, const Clock& clock);

  // The endpoint and region, when they are known only at start.
  void setEndpoint(const std::string& endpoint, const std::string& region);
  // What it sends with; both set before the first send().
  void open(aws::CredentialsProvider& credentials, std::unique_ptr<aws::HttpTransport> transport);

  // Signs `http` (its body set) for the Kinesis operation `target` and
  // starts it. Fails, with nothing sent, when there are no credentials.
  Status send(aws::HttpRequest& http, std::string_view target, WireProtocol protocol);
  void poll(std::chrono::milliseconds timeout, std::vector<aws::HttpRequest*>& done) {
    transport_->poll(timeout, done);
  }
  size_t inFlight() const { return transport_ ? transport_->inFlight() : 0; }
  void cancel(aws::HttpRequest& http) { transport_->cancel(http); }
  // Makes a waiting poll() return. Thread-safe once open() has run.
  void wakeup() {
    if (transport_) transport_->wakeup();
  }
  const std::string& url() const { return url_; }

 private:
  const Clock& clock_;
  std::string url_;
  std::string host_;
  aws::SigV4Signer signer_;
  aws::CredentialsProvider* credentials_ = nullptr;
  std::unique_ptr<aws::HttpTransport> transport_;
};

}  // namespace kinship::kinesis
