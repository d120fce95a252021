#include "sinks/kinesis/stream_describer.h"

#include <simdjson.h>

#include "common/json_escape.h"
#include "common/log.h"
#include "sinks/kinesis/put_records_response.h"

namespace kinship::kinesis {

namespace {
constexpr std::string_view kComponent = "kinesis";
}  // namespace

StreamDescriber::StreamDescriber(std::string_view streamField, std::string_view streamValue)
    : streamValue_(streamValue) {
  body_ = "{\"";
  body_ += streamField;
  body_ += "\":\"";
  appendJsonEscaped(body_, streamValue);
  body_ += "\"}";
}

Result<size_t> StreamDescriber::maxRecordSizeOf(std::string_view answerBody) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(answerBody.data(), answerBody.size()).get(doc) != simdjson::SUCCESS) {
    return fail(Status::invalidArgument("the answer is not JSON"));
  }
  int64_t kib = 0;
  const auto error = doc["StreamDescriptionSummary"]["MaxRecordSizeInKiB"].get(kib);
  if (error == simdjson::NO_SUCH_FIELD) return fail(Status::notFound("the answer has no MaxRecordSizeInKiB"));
  if (error != simdjson::SUCCESS) return fail(Status::invalidArgument("MaxRecordSizeInKiB is not an integer"));
  if (kib < static_cast<int64_t>(kMinRecordSize / 1024) || kib > static_cast<int64_t>(kMaxRecordSize / 1024)) {
    return fail(Status::invalidArgument("MaxRecordSizeInKiB " + std::to_string(kib) + " is outside 1024..10240"));
  }
  return static_cast<size_t>(kib) * 1024;
}

std::optional<size_t> StreamDescriber::onAnswer(const aws::HttpRequest& http) {
  if (!http.transportStatus) {
    keepDefault(http.transportStatus.message());
    return std::nullopt;
  }
  if (http.httpStatus != 200) {
    std::string body = http.responseBody;
    const std::string type = errorTypeOf(body);
    keepDefault("HTTP " + std::to_string(http.httpStatus) + (type.empty() ? "" : " " + type));
    return std::nullopt;
  }
  auto size = maxRecordSizeOf(http.responseBody);
  if (!size) {
    keepDefault(size.error().message());
    return std::nullopt;
  }
  log::info(kComponent, "stream {} takes records of up to {} bytes (MaxRecordSizeInKiB {}): max_record_size follows it",
            streamValue_, *size, *size / 1024);
  return *size;
}

void StreamDescriber::onNotSent(const Status& why) { keepDefault(why.message()); }

void StreamDescriber::keepDefault(std::string_view why) {
  log::info(kComponent,
            "DescribeStreamSummary on stream {} gave no record size ({}): records are limited to 1 MiB; set "
            "max_record_size for a stream configured for larger records",
            streamValue_, why);
}

}  // namespace kinship::kinesis
