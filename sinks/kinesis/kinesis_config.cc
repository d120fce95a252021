#include "sinks/kinesis/kinesis_config.h"

#include <curl/curl.h>
#include <fmt/format.h>

#include <cctype>
#include <charconv>
#include <filesystem>
#include <memory>
#include <optional>

#include "aws/imds_client.h"
#include "aws/shared_config.h"

namespace kinship::kinesis {

namespace {

using config::Option;
using config::ValueType;

using config::kKiB;
using config::kMiB;
using config::kSecond;

const Option kKinesisOptions[] = {
    {.name = "stream",
     .type = ValueType::kString,
     .help = "Name of the Kinesis data stream. Set `stream` or `stream_arn`."},
    {.name = "stream_arn",
     .type = ValueType::kString,
     .help = "ARN of the Kinesis data stream, instead of `stream`."},
    {.name = "region",
     .type = ValueType::kString,
     .help = "AWS region of the stream (e.g. eu-west-1). Default: the AWS_REGION, then AWS_DEFAULT_REGION "
             "environment variable."},
    {.name = "endpoint",
     .type = ValueType::kString,
     .help = "URL of the Kinesis API, for local or private endpoints (e.g. http://127.0.0.1:4567). Default: "
             "https://kinesis.<region>.amazonaws.com (amazonaws.com.cn for cn- regions)."},
    {.name = "linger",
     .type = ValueType::kDuration,
     .defaultValue = "200ms",
     .minValue = 1,
     .maxValue = 60 * kSecond,
     .help = "How long records may wait for a fuller PutRecords request before it is sent anyway."},
    {.name = "max_batch_records",
     .type = ValueType::kInt,
     .defaultValue = "500",
     .minValue = 1,
     .maxValue = 500,
     .help = "Records per PutRecords request (Kinesis allows 500)."},
    {.name = "max_batch_bytes",
     .type = ValueType::kSize,
     .defaultValue = "5MiB",
     .minValue = 1 * kKiB,
     .maxValue = 10 * kMiB,
     .help = "Bytes of data and partition keys per PutRecords request (Kinesis allows 5 MiB; more only for an "
             "endpoint that accepts larger requests). A record larger than this goes in a request of its "
             "own."},
    {.name = "max_record_size",
     .type = ValueType::kSize,
     .minValue = 1 * kKiB,
     .maxValue = 10 * kMiB,
     .help = "Largest record (data plus partition key) the stream accepts. Unset: what the stream says at "
             "start (DescribeStreamSummary's MaxRecordSizeInKiB, up to 10 MiB for a stream configured for "
             "large records), else 1 MiB. Larger records are dead letters, counted in "
             "kinship_sink_records_dropped_total{reason=\"too_large\"}."},
    {.name = "connect_timeout",
     .type = ValueType::kDuration,
     .defaultValue = "5s",
     .minValue = 100,
     .maxValue = 120 * kSecond,
     .help = "Time allowed to open a connection to the endpoint."},
    {.name = "request_timeout",
     .type = ValueType::kDuration,
     .defaultValue = "30s",
     .minValue = 100,
     .maxValue = 600 * kSecond,
     .help = "Time allowed for one PutRecords request, from connect to the last byte of the answer."},
    {.name = "retry_backoff_min",
     .type = ValueType::kDuration,
     .defaultValue = "100ms",
     .minValue = 1,
     .maxValue = 60 * kSecond,
     .help = "First retry delay; each consecutive failure doubles it (with full jitter)."},
    {.name = "retry_backoff_max",
     .type = ValueType::kDuration,
     .defaultValue = "10s",
     .minValue = 1,
     .maxValue = 600 * kSecond,
     .help = "Cap on the retry delay. Records are never dropped because retries ran out: they wait."},
    {.name = "ca_file",
     .type = ValueType::kString,
     .nonEmpty = true,
     .help = "PEM bundle of certificate authorities for HTTPS endpoints. Default: the system's store. "
             "HTTPS_PROXY and NO_PROXY are honoured."},
    {.name = "profile",
     .type = ValueType::kString,
     .nonEmpty = true,
     .help = "Profile of the AWS shared config and credentials files (~/.aws/config, ~/.aws/credentials) to take "
             "credentials and the region from. Default: AWS_PROFILE, else `default`. Credentials come from the "
             "first source that is set up, in the AWS SDKs' order: environment, web identity (IRSA), this "
             "profile, container (ECS, EKS Pod Identity), EC2 instance metadata."},
    {.name = "role_arn",
     .type = ValueType::kString,
     .nonEmpty = true,
     .help = "IAM role to assume (STS AssumeRole) with the credentials found above, e.g. for a stream in "
             "another account."},
    {.name = "external_id",
     .type = ValueType::kString,
     .nonEmpty = true,
     .help = "External ID to pass when assuming `role_arn`, if the role's trust policy asks for one."},
    {.name = "role_session_name",
     .type = ValueType::kString,
     .nonEmpty = true,
     .help = "Session name when assuming `role_arn` (shown in CloudTrail). Default: kinship-<unix time>."},
    {.name = "sts_endpoint",
     .type = ValueType::kString,
     .nonEmpty = true,
     .help = "URL of STS for assuming roles. Default: AWS_ENDPOINT_URL_STS, else "
             "https://sts.<region>.amazonaws.com."},
    {.name = "max_in_flight",
     .type = ValueType::kInt,
     .defaultValue = "64",
     .minValue = 1,
     .maxValue = 256,
     .help = "Most PutRecords requests in flight at once, over kept-alive connections. With `concurrency: "
             "adaptive` the number in flight moves below this with what the endpoint sustains; with `fixed` "
             "it is this."},
    {.name = "concurrency",
     .type = ValueType::kEnum,
     .defaultValue = "adaptive",
     .choices = "adaptive|fixed",
     .help = "`adaptive`: requests in flight start at 4 and, while they are all busy and each round "
             "trip's fastest answer stays near the fastest seen, double per round trip until the first "
             "setback or until a doubling brings less than half as many answers again per second (then "
             "back to the number before it), then grow by an eighth per round trip while the fastest "
             "answer stays close to the fastest seen (by one when less close); they shrink by a tenth on "
             "throttling, 5xx, timeouts or when even the fastest answers slow down, as behind a queue; "
             "answers that merely vary do not shrink it (kinship_sink_concurrency_limit). `fixed`: always "
             "`max_in_flight`."},
    {.name = "max_in_flight_bytes",
     .type = ValueType::kSize,
     .defaultValue = "8MiB",
     .minValue = 64 * kKiB,
     .maxValue = 1024 * kMiB,
     .help = "Encoded PutRecords bodies in flight at once; a request starts only while less is in flight "
             "(so at most this plus one request). Bounds the sink's memory whatever the concurrency."},
    {.name = "protocol",
     .type = ValueType::kEnum,
     .defaultValue = "cbor",
     .choices = "json|cbor",
     .help = "Body format of PutRecords requests. `cbor` (what the AWS SDKs send) carries record data as raw "
             "bytes: about a quarter fewer bytes to sign and send than `json`, which base64-encodes it. Use "
             "`json` for an endpoint that only speaks JSON."},
    {.name = "pacing",
     .type = ValueType::kBool,
     .defaultValue = "true",
     .help = "Pace writes per shard with token buckets (needs kinesis:ListShards; without that permission "
             "kinship logs a warning and sends unpaced). Each shard starts at an eighth of its rate and doubles "
             "it every 100 ms until a throttle or the full rate; a throttled shard's rate is cut by the share of "
             "its records refused and grows back by a fixed step per second, so daemons that share a stream with "
             "no coordinator converge on about equal shares of it."},
    {.name = "shard_records_per_second",
     .type = ValueType::kInt,
     .defaultValue = "1000",
     .minValue = 1,
     .maxValue = 1000000,
     .help = "Write limit of one shard in records per second (Kinesis: 1000)."},
    {.name = "shard_bytes_per_second",
     .type = ValueType::kSize,
     .defaultValue = "1MiB",
     .minValue = 1 * kKiB,
     .maxValue = 1024 * kMiB,
     .help = "Write limit of one shard in bytes (data plus keys) per second (Kinesis: 1 MiB)."},
    {.name = "shard_capacity_percent",
     .type = ValueType::kInt,
     .defaultValue = "95",
     .minValue = 1,
     .maxValue = 100,
     .help = "Share of each shard's limits kinship aims to use. The rest absorbs bursts: Kinesis counts over a "
             "sliding second. Lower it when writers other than kinship share the stream (kinship daemons "
             "share it among themselves by pacing)."},
    {.name = "shard_refresh_interval",
     .type = ValueType::kDuration,
     .defaultValue = "5m",
     .minValue = 1000,
     .maxValue = 24 * 3600 * kSecond,
     .help = "How often to list the stream's shards again, to follow splits and merges."},
    {.name = "ordering",
     .type = ValueType::kEnum,
     .defaultValue = "none",
     .choices = "none|per_key",
     .help = "`none`: records are sent as fast as the shards allow; a retried record may land after later "
             "records of its key. `per_key`: records of one partition key reach the stream in the order they "
             "were read, through partial failures and retries: a request never carries two records of one key, "
             "and a key's next record waits until the previous one is accepted (so each key gets one record per "
             "round trip; use keys with many distinct values)."},
    {.name = "aggregation",
     .type = ValueType::kEnum,
     .defaultValue = "none",
     .choices = "none|kpl",
     .help = "`none`: each record is one Kinesis record. `kpl`: records bound for the same shard are packed "
             "into aggregated records in the Kinesis Producer Library's format, each keeping its own partition "
             "key, so that small records are no longer held to a shard's 1,000 records/s; consumers must "
             "deaggregate them (the KCL, the Lambda deaggregation modules and Firehose do). Needs "
             "kinesis:ListShards (also with `pacing: false`); without a shard map records go unaggregated. "
             "Records wait up to `linger` for others to join them."},
    {.name = "aggregation_max_size",
     .type = ValueType::kSize,
     .minValue = 1 * kKiB,
     .maxValue = 10 * kMiB,
     .help = "With `aggregation: kpl`: largest aggregated record, data plus partition key. Default: the "
             "record size limit (`max_record_size`), which also caps it. Smaller aggregates reach consumers "
             "sooner but use more of a shard's records/s."},
    {.name = "dead_letter_path",
     .type = ValueType::kString,
     .nonEmpty = true,
     .help = "File that receives records that can never be sent (over max_record_size, or refused alone as "
             "invalid), one JSON object per line: time, reason, error, pipeline, partition_key, data (base64). "
             "Its directory must exist. Default: none; such records are only counted and logged."},
    {.name = "dead_letter_max_size",
     .type = ValueType::kSize,
     .defaultValue = "100MiB",
     .minValue = 1 * kKiB,
     .maxValue = 1024 * 1024 * kMiB,
     .help = "Cap on the dead-letter file; past it records are counted in "
             "kinship_sink_records_dropped_total{reason=\"dead_letter_full\"} and logged."},
};

// One part of a URL parsed by libcurl; nullopt when the URL has none.
std::optional<std::string> urlPart(CURLU* url, CURLUPart part) {
  char* text = nullptr;
  if (curl_url_get(url, part, &text, 0) != CURLUE_OK || text == nullptr) return std::nullopt;
  std::string out(text);
  curl_free(text);
  return out;
}

// What is wrong with an endpoint already reduced to scheme://host[:port], or
// nullopt. libcurl's own parser judges it, so what passes here is what the
// transport connects to; the hand checks before it keep the clearer
// messages for the common mistakes.
std::optional<std::string> endpointProblem(const std::string& endpoint) {
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> url(curl_url(), &curl_url_cleanup);
  if (!url) return "cannot be parsed: out of memory";
  if (CURLUcode rc = curl_url_set(url.get(), CURLUPART_URL, endpoint.c_str(), 0); rc != CURLUE_OK) {
    return fmt::format("is not a valid URL: {}", curl_url_strerror(rc));
  }
  auto scheme = urlPart(url.get(), CURLUPART_SCHEME);
  if (scheme != "http" && scheme != "https") return "is not an http:// or https:// URL";
  // The text after "//" is the signed Host header: it must be only host[:port].
  if (urlPart(url.get(), CURLUPART_USER) || urlPart(url.get(), CURLUPART_PASSWORD)) {
    return "holds a user name or password; give only scheme://host[:port]";
  }
  if (urlPart(url.get(), CURLUPART_QUERY) || urlPart(url.get(), CURLUPART_FRAGMENT)) {
    return "has a query or fragment; give only scheme://host[:port]";
  }
  if (auto path = urlPart(url.get(), CURLUPART_PATH); path && !path->empty() && *path != "/") {
    return "has a path; give only scheme://host[:port]";
  }
  if (auto port = urlPart(url.get(), CURLUPART_PORT)) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port->data(), port->data() + port->size(), value);
    if (ec != std::errc() || end != port->data() + port->size() || value == 0 || value > 65535) {
      return fmt::format("has port {}; a port is a number from 1 to 65535", *port);
    }
  }
  return std::nullopt;
}

// The file is opened when the sink starts; its directory is checked now so
// that --check-config refuses what the run would.
void checkDeadLetterPath(const config::Section& section, const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (path.ends_with('/') || fs::is_directory(path, ec)) {
    section.fail("dead_letter_path", fmt::format("'{}' is a directory; give the path of a file in it", path));
  }
  fs::path dir = fs::path(path).parent_path();
  if (dir.empty()) dir = ".";
  if (!fs::is_directory(dir, ec)) {
    section.fail("dead_letter_path",
                 fmt::format("the directory '{}' does not exist (kinship creates the file, not its directory)",
                             dir.string()));
  }
}

// What is wrong with a region name, or nullopt.
std::optional<std::string> regionProblem(const std::string& region) {
  for (char ch : region) {
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '-')) return "invalid region '" + region + "'";
  }
  return std::nullopt;
}

// Normalizes `endpoint` (trailing slashes) and fails the section when it is
// not scheme://host[:port].
void checkEndpoint(const config::Section& section, std::string& endpoint) {
  const std::string written = endpoint;
  size_t hostStart = endpoint.starts_with("http://") ? 7 : endpoint.starts_with("https://") ? 8 : 0;
  if (hostStart == 0) section.fail("endpoint", "'" + written + "' is not an http:// or https:// URL");
  while (endpoint.size() > hostStart && endpoint.back() == '/') endpoint.pop_back();
  if (endpoint.size() == hostStart || endpoint[hostStart] == '/') {
    section.fail("endpoint", "'" + written + "' names no host");
  }
  if (endpoint.find('/', hostStart) != std::string::npos) {
    section.fail("endpoint", "'" + written + "' has a path; give only scheme://host[:port]");
  }
  if (auto problem = endpointProblem(endpoint)) section.fail("endpoint", "'" + written + "' " + *problem);
}

}  // namespace

config::Schema kinesisSinkSchema() { return kKinesisOptions; }

std::string defaultEndpoint(const std::string& region) {
  std::string suffix = region.starts_with("cn-") ? ".amazonaws.com.cn" : ".amazonaws.com";
  return "https://kinesis." + region + suffix;
}

Status applyRegion(KinesisConfig& config, std::string region) {
  if (auto problem = regionProblem(region)) return Status::invalidArgument(*problem);
  config.region = std::move(region);
  config.regionFromInstanceMetadata = false;
  if (!config.endpointConfigured) config.endpoint = defaultEndpoint(config.region);
  config.credentials.region = config.region;
  return Status::ok();
}

KinesisConfig kinesisConfigFrom(const config::Section& section, const config::EnvLookup& env) {
  KinesisConfig c;
  if (section.has("stream")) c.stream = section.getString("stream");
  if (section.has("stream_arn")) c.streamArn = section.getString("stream_arn");
  if (c.stream.empty() == c.streamArn.empty()) {
    section.fail("stream", c.stream.empty() ? "set either 'stream' or 'stream_arn'"
                                            : "set only one of 'stream' and 'stream_arn'");
  }
  if (!c.streamArn.empty() && !c.streamArn.starts_with("arn:")) {
    section.fail("stream_arn", "'" + c.streamArn + "' is not an ARN (arn:aws:kinesis:REGION:ACCOUNT:stream/NAME)");
  }
  if (section.has("profile")) c.credentials.profile = section.getString("profile");
  // The AWS SDKs' order: the option, AWS_REGION, AWS_DEFAULT_REGION, the
  // profile, then (at start, not here: no network while checking a config)
  // the instance metadata service.
  if (section.has("region")) c.region = section.getString("region");
  if (c.region.empty()) c.region = env("AWS_REGION").value_or("");
  if (c.region.empty()) c.region = env("AWS_DEFAULT_REGION").value_or("");
  if (c.region.empty()) {
    auto fromProfile = aws::profileRegion(env, c.credentials.profile);
    if (!fromProfile) section.fail("region", "no region, and the profile's could not be read: " +
                                                 fromProfile.error().message());
    c.region = fromProfile->value_or("");
  }
  if (c.region.empty()) {
    if (aws::imdsDisabled(env)) {
      section.fail("region", "no region: set 'region', the AWS_REGION environment variable or a region in the "
                             "profile (the instance metadata service is disabled)");
    }
    c.regionFromInstanceMetadata = true;
  }
  if (auto problem = regionProblem(c.region)) section.fail("region", *problem);
  if (section.has("endpoint")) {
    c.endpoint = section.getString("endpoint");
    c.endpointConfigured = true;
  } else if (!c.regionFromInstanceMetadata) {
    c.endpoint = defaultEndpoint(c.region);
  }
  if (!c.endpoint.empty()) checkEndpoint(section, c.endpoint);
  c.linger = section.getDuration("linger");
  c.maxBatchRecords = static_cast<size_t>(section.getInt("max_batch_records"));
  c.maxBatchBytes = section.getSize("max_batch_bytes");
  c.maxRecordSizeSet = section.has("max_record_size");
  c.maxRecordSize = c.maxRecordSizeSet ? section.getSize("max_record_size") : kDefaultMaxRecordSize;
  c.connectTimeout = section.getDuration("connect_timeout");
  c.requestTimeout = section.getDuration("request_timeout");
  c.retryBackoffMin = section.getDuration("retry_backoff_min");
  c.retryBackoffMax = section.getDuration("retry_backoff_max");
  if (c.retryBackoffMax < c.retryBackoffMin) {
    section.fail("retry_backoff_max", "is smaller than retry_backoff_min");
  }
  if (section.has("ca_file")) c.caFile = section.getString("ca_file");
  c.maxInFlight = static_cast<size_t>(section.getInt("max_in_flight"));
  c.adaptiveConcurrency = section.getString("concurrency") == "adaptive";
  c.maxInFlightBytes = section.getSize("max_in_flight_bytes");
  c.protocol = section.getString("protocol") == "json" ? WireProtocol::kJson : WireProtocol::kCbor;
  c.pacing = section.getBool("pacing");
  c.shardRecordsPerSecond = static_cast<double>(section.getInt("shard_records_per_second"));
  c.shardBytesPerSecond = static_cast<double>(section.getSize("shard_bytes_per_second"));
  c.shardCapacityPercent = static_cast<int>(section.getInt("shard_capacity_percent"));
  c.shardRefreshInterval = section.getDuration("shard_refresh_interval");
  c.orderingPerKey = section.getString("ordering") == "per_key";
  c.aggregate = section.getString("aggregation") == "kpl";
  if (section.has("aggregation_max_size")) {
    if (!c.aggregate) section.fail("aggregation_max_size", "is only used with aggregation: kpl, which is not set");
    c.aggregationMaxSize = section.getSize("aggregation_max_size");
  }
  if (section.has("dead_letter_path")) {
    c.deadLetterPath = section.getString("dead_letter_path");
    checkDeadLetterPath(section, c.deadLetterPath);
  }
  c.deadLetterMaxSize = section.getSize("dead_letter_max_size");
  if (section.has("role_arn")) {
    c.credentials.roleArn = section.getString("role_arn");
    if (!c.credentials.roleArn.starts_with("arn:")) {
      section.fail("role_arn", "'" + c.credentials.roleArn + "' is not an ARN (arn:aws:iam::ACCOUNT:role/NAME)");
    }
  }
  for (const char* withRole : {"external_id", "role_session_name"}) {
    if (section.has(withRole) && c.credentials.roleArn.empty()) {
      section.fail(withRole, "is only used with role_arn, which is not set");
    }
  }
  if (section.has("external_id")) c.credentials.externalId = section.getString("external_id");
  if (section.has("role_session_name")) c.credentials.roleSessionName = section.getString("role_session_name");
  if (section.has("sts_endpoint")) {
    c.credentials.stsEndpoint = section.getString("sts_endpoint");
    if (auto problem = endpointProblem(c.credentials.stsEndpoint)) {
      section.fail("sts_endpoint", "'" + c.credentials.stsEndpoint + "' " + *problem);
    }
  }
  c.credentials.region = c.region;
  return c;
}

}  // namespace kinship::kinesis
