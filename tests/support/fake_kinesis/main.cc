// kinship-fake-kinesis: the fake Kinesis endpoint as a standalone process, for
// benchmarks and for tests written in other languages. Prints
// "fake-kinesis listening on http://127.0.0.1:PORT" (https with TLS) once it accepts
// connections, serves until SIGTERM or SIGINT, then prints the final stats as
// one JSON line and exits 0. Exit 2 for bad arguments, 1 if it cannot start.

#include <fmt/format.h>
#include <signal.h>

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/log.h"
#include "tests/support/fake_kinesis/fake_kinesis.h"

namespace {

using namespace kinship;
using namespace kinship::fake;

constexpr std::string_view kUsage = R"(usage: kinship-fake-kinesis [options]

A fake Amazon Kinesis Data Streams endpoint (JSON 1.1 or CBOR over HTTP/1.1,
or HTTPS with --tls-cert and --tls-key) that
enforces per-shard limits and injects faults. Control API under /_fake/.

  --host ADDR                 listen address (default 127.0.0.1)
  --port N                    listen port; 0 picks one (default 0)
  --stream NAME               create this stream at start (repeatable)
  --shards N                  shards of each --stream (default 1)
  --uneven                    uneven hash ranges: shard i gets a share
                              proportional to i+1 (4 shards: 10/20/30/40%)
  --splits LIST               comma-separated split points (starts of shards
                              1..n-1): fractions such as 0.25, or decimal
                              hash keys
  --records-per-second N      per-shard limit, 0 = none (default 1000)
  --bytes-per-second N        per-shard limit on data + key, 0 = none
                              (default 1048576)
  --max-record-size N         data + key per record (default 1048576)
  --threads N                 server threads (default 1)
  --fail-internal RATE        per record: ErrorCode InternalFailure
  --throttle-records RATE     per record: ProvisionedThroughputExceededException
  --throttle-requests RATE    per request: 400 ProvisionedThroughputExceededException
  --server-errors RATE        per request: half 500 InternalFailure, half 503
                              ServiceUnavailable
  --request-error TYPE=RATE   per request: the error with this __type
                              (repeatable), e.g. KMSThrottlingException=0.01,
                              ExpiredTokenException=0.01, PayloadTooLarge=0.01
  --drop RATE                 per request: close the connection, no answer
  --delay-ms N                answer N ms late ...
  --delay-rate RATE           ... for this share of requests (default 1)
  --faults JSON               faults as the control API takes them (replaces
                              the fault flags above)
  --seed N                    seed of the fault RNG (default 1)
  --record-log FILE           write every accepted record as a JSON line
  --max-stored-records N      records kept in memory for /_fake/records
                              (default 1000000)
  --no-duplicates             do not track duplicate (key, data) pairs
  --latency-field NAME        for each accepted record whose data holds
                              "NAME":<unix ns>, add now - that time to the
                              end-to-end latency in /_fake/stats ("latency":
                              count, p50Ms, p90Ms, p99Ms, p999Ms, maxMs, meanMs)
  --tls-cert FILE             serve HTTPS with this PEM certificate chain ...
  --tls-key FILE              ... and this PEM private key (both or neither)
  --no-auth                   accept requests without an Authorization header
  --log-level LEVEL           debug, info, warn, error (default warn)
  -h, --help                  this text
)";

[[noreturn]] void usageError(const std::string& message) {
  std::fprintf(stderr, "kinship-fake-kinesis: %s\n(see --help)\n", message.c_str());
  std::exit(2);
}

uint64_t parseUint(std::string_view flag, std::string_view text) {
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    usageError(fmt::format("{} needs a non-negative integer, not \"{}\"", flag, text));
  }
  return value;
}

double parseRate(std::string_view flag, std::string_view text) {
  std::string copy(text);
  char* end = nullptr;
  double value = std::strtod(copy.c_str(), &end);
  if (copy.empty() || *end != '\0' || !(value >= 0.0 && value <= 1.0)) {
    usageError(fmt::format("{} needs a rate in [0, 1], not \"{}\"", flag, text));
  }
  return value;
}

std::vector<HashKey> parseSplits(std::string_view text) {
  std::vector<HashKey> splits;
  while (!text.empty()) {
    auto comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    if (item.find('.') != std::string_view::npos) {
      double fraction = parseRate("--splits", item);
      auto converted = splitsFromFractions(std::span<const double>(&fraction, 1));
      if (!converted) usageError("--splits: " + converted.error().message());
      splits.push_back(converted->front());
    } else {
      HashKey key = 0;
      if (parseHashKey(item, key) != HashKeyParse::kOk) {
        usageError(fmt::format("--splits: \"{}\" is not a fraction or a hash key below 2^128", item));
      }
      splits.push_back(key);
    }
  }
  return splits;
}

}  // namespace

int main(int argc, char** argv) {
  FakeOptions options;
  options.maxStoredRecords = 1000000;
  std::vector<std::string> streams;
  int shards = 1;
  bool uneven = false;
  std::vector<HashKey> splits;
  Faults faults;
  std::optional<Faults> faultsJson;
  log::Level level = log::Level::kWarn;

  std::vector<std::string_view> args(argv + 1, argv + argc);
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view flag = args[i];
    auto value = [&]() -> std::string_view {
      if (i + 1 >= args.size()) usageError(fmt::format("{} needs a value", flag));
      return args[++i];
    };
    if (flag == "-h" || flag == "--help") {
      std::fwrite(kUsage.data(), 1, kUsage.size(), stdout);
      return 0;
    } else if (flag == "--host") {
      options.host = std::string(value());
    } else if (flag == "--port") {
      uint64_t port = parseUint(flag, value());
      if (port > 65535) usageError("--port must be at most 65535");
      options.port = static_cast<uint16_t>(port);
    } else if (flag == "--stream") {
      streams.emplace_back(value());
    } else if (flag == "--shards") {
      uint64_t n = parseUint(flag, value());
      if (n < 1 || n > 10000) usageError("--shards must be in [1, 10000]");
      shards = static_cast<int>(n);
    } else if (flag == "--uneven") {
      uneven = true;
    } else if (flag == "--splits") {
      splits = parseSplits(value());
    } else if (flag == "--records-per-second") {
      options.recordsPerSecond = parseUint(flag, value());
    } else if (flag == "--bytes-per-second") {
      options.bytesPerSecond = parseUint(flag, value());
    } else if (flag == "--max-record-size") {
      options.maxRecordSize = parseUint(flag, value());
    } else if (flag == "--threads") {
      uint64_t n = parseUint(flag, value());
      if (n < 1 || n > 256) usageError("--threads must be in [1, 256]");
      options.threads = static_cast<int>(n);
    } else if (flag == "--fail-internal") {
      faults.recordInternalFailureRate = parseRate(flag, value());
    } else if (flag == "--throttle-records") {
      faults.recordThrottleRate = parseRate(flag, value());
    } else if (flag == "--throttle-requests") {
      faults.requestErrorRates.emplace_back(ApiError::kProvisionedThroughputExceeded, parseRate(flag, value()));
    } else if (flag == "--server-errors") {
      double rate = parseRate(flag, value());
      faults.requestErrorRates.emplace_back(ApiError::kInternalFailure, rate / 2);
      faults.requestErrorRates.emplace_back(ApiError::kServiceUnavailable, rate / 2);
    } else if (flag == "--request-error") {
      std::string_view spec = value();
      auto eq = spec.find('=');
      if (eq == std::string_view::npos) usageError("--request-error takes TYPE=RATE");
      auto error = apiErrorFromName(spec.substr(0, eq));
      if (!error) usageError(fmt::format("--request-error: unknown error type \"{}\"", spec.substr(0, eq)));
      faults.requestErrorRates.emplace_back(*error, parseRate(flag, spec.substr(eq + 1)));
    } else if (flag == "--drop") {
      faults.dropRate = parseRate(flag, value());
    } else if (flag == "--delay-ms") {
      faults.delay = std::chrono::milliseconds(parseUint(flag, value()));
    } else if (flag == "--delay-rate") {
      faults.delayRate = parseRate(flag, value());
    } else if (flag == "--faults") {
      auto parsed = parseFaults(value());
      if (!parsed) usageError("--faults: " + parsed.error().message());
      faultsJson = std::move(*parsed);
    } else if (flag == "--seed") {
      options.seed = parseUint(flag, value());
    } else if (flag == "--record-log") {
      options.recordLogPath = std::string(value());
    } else if (flag == "--max-stored-records") {
      options.maxStoredRecords = parseUint(flag, value());
    } else if (flag == "--no-duplicates") {
      options.trackDuplicates = false;
    } else if (flag == "--latency-field") {
      options.latencyField = std::string(value());
      if (options.latencyField.find_first_of("\"\\") != std::string::npos) {
        usageError("--latency-field must not contain '\"' or '\\'");
      }
    } else if (flag == "--tls-cert") {
      options.tlsCertificateFile = std::string(value());
    } else if (flag == "--tls-key") {
      options.tlsKeyFile = std::string(value());
    } else if (flag == "--no-auth") {
      options.requireAuthorization = false;
    } else if (flag == "--log-level") {
      if (!log::parseLevel(value(), level)) usageError("--log-level: debug, info, warn or error");
    } else {
      usageError(fmt::format("unknown argument \"{}\"", flag));
    }
  }
  double total = 0;
  for (const auto& [error, rate] : faults.requestErrorRates) total += rate;
  if (total > 1.0 + 1e-9) usageError("the per-request error rates add up to more than 1");
  if (uneven && !splits.empty()) usageError("--uneven and --splits exclude each other");
  if (options.tlsCertificateFile.empty() != options.tlsKeyFile.empty()) usageError("--tls-cert and --tls-key go together");
  if (!splits.empty() && splits.size() + 1 != static_cast<size_t>(shards)) {
    usageError(fmt::format("--splits gives {} split points; {} shards need {}", splits.size(), shards, shards - 1));
  }
  options.faults = faultsJson ? std::move(*faultsJson) : std::move(faults);
  for (const auto& name : streams) {
    options.streams.push_back({name, shards, uneven ? unevenSplits(shards) : splits});
  }
  log::configure(level, log::Format::kText);

  // Signals are taken synchronously by this thread: block them before the
  // server threads start, so those inherit the mask.
  // A reader of our stdout that goes away must not kill the server.
  signal(SIGPIPE, SIG_IGN);
  sigset_t stopSignals;
  sigemptyset(&stopSignals);
  sigaddset(&stopSignals, SIGTERM);
  sigaddset(&stopSignals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stopSignals, nullptr);

  auto fake = FakeKinesis::start(std::move(options));
  if (!fake) {
    std::fprintf(stderr, "kinship-fake-kinesis: %s\n", fake.error().message().c_str());
    return 1;
  }
  std::printf("fake-kinesis listening on %s\n", (*fake)->url().c_str());
  std::fflush(stdout);

  int signal = 0;
  sigwait(&stopSignals, &signal);
  (*fake)->stop();
  std::printf("%s\n", (*fake)->stats().toJson().c_str());
  std::fflush(stdout);
  return 0;
}
