#pragma once
// ScriptedTransport: an aws::HttpTransport that answers in-process, at the
// instants of a Clock the test drives (a ManualClock), without sockets. A
// responder decides each answer when the request starts: an HTTP status and
// body, or a failure below HTTP (a reset, a refused connection...), after
// a latency, or never (the request then times out after the options'
// requestTimeout, as libcurl's would). Answers longer than
// maxResponseBytes fail as CurlHttpTransport's do. poll() never waits: it
// returns what is due at the clock's now, in the order due.
// Thread-safe (a test may read sent() while a sink thread sends). Test-only.

#include <algorithm>
#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "aws/http_transport.h"
#include "common/clock.h"

namespace kinship::testing {

struct ScriptedReply {
  long status = 200;
  std::string body;
  // Not kNone: the exchange fails below HTTP instead (status and body unused).
  aws::TransportFailure failure = aws::TransportFailure::kNone;
  std::chrono::milliseconds latency{0};  // answered this long after it started
  bool unanswered = false;               // never answered: times out

  static ScriptedReply after(std::chrono::milliseconds latency) {
    ScriptedReply reply;
    reply.latency = latency;
    return reply;
  }
  static ScriptedReply never() {
    ScriptedReply reply;
    reply.unanswered = true;
    return reply;
  }
  static ScriptedReply failing(aws::TransportFailure failure) {
    ScriptedReply reply;
    reply.failure = failure;
    return reply;
  }
};

class ScriptedTransport final : public aws::HttpTransport {
 public:
  using Responder = std::function<ScriptedReply(const aws::HttpRequest& request)>;

  // A request as it went out.
  struct Sent {
    std::string url;
    aws::HeaderList headers;
    std::string body;
    Clock::TimePoint at;
  };

  ScriptedTransport(const Clock& clock, const aws::HttpOptions& options, Responder responder)
      : clock_(clock), options_(options), responder_(std::move(responder)) {}

  void start(aws::HttpRequest& request) override {
    const Clock::TimePoint now = clock_.now();
    {
      std::lock_guard lock(mu_);
      sent_.push_back({request.url, request.headers, std::string(request.body), now});
    }
    ScriptedReply reply = responder_(request);
    request.resetAnswer();
    std::lock_guard lock(mu_);
    const auto timeout = std::chrono::duration_cast<Clock::TimePoint::duration>(options_.requestTimeout);
    Clock::TimePoint due = now + reply.latency;
    if (reply.unanswered || reply.latency >= options_.requestTimeout) {
      due = now + timeout;
      reply.failure = aws::TransportFailure::kTimeout;
    }
    inFlight_.push_back({&request, std::move(reply), due, sequence_++});
  }

  void poll(std::chrono::milliseconds, std::vector<aws::HttpRequest*>& done) override {
    std::lock_guard lock(mu_);
    const Clock::TimePoint now = clock_.now();
    std::stable_sort(inFlight_.begin(), inFlight_.end(),
                     [](const Pending& a, const Pending& b) { return a.due < b.due || (a.due == b.due && a.seq < b.seq); });
    size_t answered = 0;
    while (answered < inFlight_.size() && inFlight_[answered].due <= now) {
      answer(inFlight_[answered]);
      done.push_back(inFlight_[answered].request);
      ++answered;
    }
    inFlight_.erase(inFlight_.begin(), inFlight_.begin() + static_cast<std::ptrdiff_t>(answered));
  }

  size_t inFlight() const override {
    std::lock_guard lock(mu_);
    return inFlight_.size();
  }

  void cancel(aws::HttpRequest& request) override {
    std::lock_guard lock(mu_);
    std::erase_if(inFlight_, [&](const Pending& p) { return p.request == &request; });
    ++cancelled_;
  }

  void wakeup() override {}

  // When the next answer is due; nullopt when nothing is in flight.
  std::optional<Clock::TimePoint> nextAnswerAt() const {
    std::lock_guard lock(mu_);
    std::optional<Clock::TimePoint> next;
    for (const Pending& p : inFlight_) {
      if (!next || p.due < *next) next = p.due;
    }
    return next;
  }
  std::vector<Sent> sent() const {
    std::lock_guard lock(mu_);
    return sent_;
  }
  size_t cancelled() const {
    std::lock_guard lock(mu_);
    return cancelled_;
  }

 private:
  struct Pending {
    aws::HttpRequest* request;
    ScriptedReply reply;
    Clock::TimePoint due;
    uint64_t seq;
  };

  void answer(Pending& p) {
    aws::HttpRequest& request = *p.request;
    if (p.reply.failure != aws::TransportFailure::kNone) {
      request.failure = p.reply.failure;
      request.transportStatus = Status::unavailable("request to " + request.url + " failed: scripted " +
                                                    std::string(failureText(p.reply.failure)));
      return;
    }
    if (p.reply.body.size() > options_.maxResponseBytes) {
      request.responseTooLarge = true;
      request.failure = aws::TransportFailure::kOther;
      request.responseBody = p.reply.body.substr(0, options_.maxResponseBytes);
      request.transportStatus = Status::unavailable("answer from " + request.url + " refused: longer than " +
                                                    std::to_string(options_.maxResponseBytes) + " bytes");
      return;
    }
    request.httpStatus = p.reply.status;
    request.responseBody = std::move(p.reply.body);
  }

  static std::string_view failureText(aws::TransportFailure failure) {
    switch (failure) {
      case aws::TransportFailure::kConnect: return "connection refused";
      case aws::TransportFailure::kTimeout: return "timeout";
      case aws::TransportFailure::kReset: return "connection reset";
      case aws::TransportFailure::kTls: return "TLS failure";
      case aws::TransportFailure::kDns: return "name not resolved";
      case aws::TransportFailure::kNone:
      case aws::TransportFailure::kOther: break;
    }
    return "failure";
  }

  const Clock& clock_;
  aws::HttpOptions options_;
  Responder responder_;
  mutable std::mutex mu_;
  std::vector<Pending> inFlight_;
  std::vector<Sent> sent_;
  uint64_t sequence_ = 0;
  size_t cancelled_ = 0;
};

}  // namespace kinship::testing
