#include "sinks/kinesis/shard_lister.h"

#include <algorithm>

#include "common/json_escape.h"
#include "common/log.h"
#include "sinks/kinesis/put_records_response.h"

namespace kinship::kinesis {

namespace {
constexpr std::string_view kComponent = "kinesis";
// A failed ListShards is tried again this soon (unless the refresh interval is shorter).
constexpr auto kRetryAfterFailure = std::chrono::seconds(30);
}  // namespace

ShardLister::ShardLister(std::string streamField, std::string streamValue, std::chrono::milliseconds refreshInterval)
    : streamField_(std::move(streamField)), streamValue_(std::move(streamValue)), refreshInterval_(refreshInterval) {}

void ShardLister::writeBody(const std::string& nextToken) {
  body_ = "{\"";
  if (nextToken.empty()) {
    body_ += streamField_;
    body_ += "\":\"";
    appendJsonEscaped(body_, streamValue_);
  } else {
    body_ += "NextToken\":\"";
    appendJsonEscaped(body_, nextToken);
  }
  body_ += "\"}";
}

std::string_view ShardLister::begin() {
  listing_ = true;
  listed_.clear();
  writeBody("");
  return body_;
}

ShardLister::Step ShardLister::failed(const std::string& type, const std::string& problem, Clock::TimePoint now) {
  listing_ = false;
  listed_.clear();
  if (type == "AccessDeniedException") {
    if (!warnedDenied_) {
      warnedDenied_ = true;
      log::warn(kComponent,
                "ListShards on {} was denied: sending without per-shard pacing (grant kinesis:ListShards to pace)",
                streamValue_);
    }
    nextRefresh_ = now + refreshInterval_;
  } else {
    log::warn(kComponent, "ListShards on {} failed ({}); trying again later", streamValue_, problem);
    nextRefresh_ = now + std::min<std::chrono::milliseconds>(refreshInterval_, kRetryAfterFailure);
  }
  return {Step::Kind::kFailed, {}, type.empty() ? "list_shards" : type};
}

ShardLister::Step ShardLister::onNotSent(const Status& why, Clock::TimePoint now) {
  return failed("", why.message(), now);
}

ShardLister::Step ShardLister::onAnswer(aws::HttpRequest& http, Clock::TimePoint now) {
  if (!http.transportStatus) return failed("", http.transportStatus.message(), now);
  if (http.httpStatus != 200) {
    std::string type = errorTypeOf(http.responseBody);
    return failed(type, "HTTP " + std::to_string(http.httpStatus) + (type.empty() ? "" : " " + type), now);
  }
  auto next = parseListShardsPage(http.responseBody, listed_);
  if (!next) return failed("", next.error().message(), now);
  if (!next->empty()) {
    writeBody(*next);
    return {Step::Kind::kNextPage};
  }
  auto map = ShardMap::fromShards(std::move(listed_));
  listed_.clear();
  if (!map) return failed("", map.error().message(), now);
  listing_ = false;
  nextRefresh_ = now + refreshInterval_;
  return {Step::Kind::kMap, std::move(*map)};
}

}  // namespace kinship::kinesis
