#include "tests/support/fake_kinesis/faults.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <array>

#include "tests/support/fake_kinesis/codec.h"

namespace kinship::fake {
namespace {

constexpr std::array<ApiErrorInfo, static_cast<size_t>(ApiError::kPayloadTooLarge) + 1> kErrors = {{
    {ApiError::kProvisionedThroughputExceeded, "ProvisionedThroughputExceededException", 400, "Rate exceeded."},
    {ApiError::kLimitExceeded, "LimitExceededException", 400, "Rate exceeded."},
    {ApiError::kResourceNotFound, "ResourceNotFoundException", 400, "Requested resource not found."},
    {ApiError::kResourceInUse, "ResourceInUseException", 400, "The resource is in use."},
    {ApiError::kAccessDenied, "AccessDeniedException", 400, "User is not authorized to perform this action."},
    {ApiError::kKmsThrottling, "KMSThrottlingException", 400, "The request was denied due to request throttling."},
    {ApiError::kKmsDisabled, "KMSDisabledException", 400, "The KMS key is disabled."},
    {ApiError::kKmsAccessDenied, "KMSAccessDeniedException", 400, "Access to the KMS key was denied."},
    {ApiError::kKmsNotFound, "KMSNotFoundException", 400, "The KMS key was not found."},
    {ApiError::kKmsInvalidState, "KMSInvalidStateException", 400, "The KMS key is not in a valid state."},
    {ApiError::kKmsOptInRequired, "KMSOptInRequired", 400, "The AWS access key ID needs a subscription for KMS."},
    {ApiError::kExpiredToken, "ExpiredTokenException", 400, "The security token included in the request is expired"},
    {ApiError::kUnrecognizedClient, "UnrecognizedClientException", 400,
     "The security token included in the request is invalid."},
    {ApiError::kInvalidArgument, "InvalidArgumentException", 400, "Invalid argument."},
    {ApiError::kValidation, "ValidationException", 400, "Validation error."},
    {ApiError::kSerialization, "SerializationException", 400, "Could not parse the request."},
    {ApiError::kMissingAuthenticationToken, "MissingAuthenticationTokenException", 400, "Missing Authentication Token"},
    {ApiError::kUnknownOperation, "UnknownOperationException", 400, "Unknown operation."},
    {ApiError::kExpiredNextToken, "ExpiredNextTokenException", 400, "The pagination token has expired."},
    {ApiError::kInternalFailure, "InternalFailure", 500, "Internal service failure."},
    {ApiError::kServiceUnavailable, "ServiceUnavailable", 503, "Service Unavailable"},
    {ApiError::kPayloadTooLarge, "PayloadTooLarge", 413, ""},
}};

// errorInfo() indexes the table by enum value.
constexpr bool tableInEnumOrder() {
  for (size_t i = 0; i < kErrors.size(); ++i) {
    if (static_cast<size_t>(kErrors[i].error) != i) return false;
  }
  return true;
}
static_assert(tableInEnumOrder());

using simdjson::dom::element;
using simdjson::dom::element_type;

Status typeError(std::string_view key, std::string_view expected) {
  return Status::invalidArgument(fmt::format("\"{}\" must be {}", key, expected));
}

Status readRate(element value, std::string_view key, double& out) {
  double rate = 0;
  if (value.get(rate) != simdjson::SUCCESS) return typeError(key, "a number");
  if (!(rate >= 0.0 && rate <= 1.0)) return Status::invalidArgument(fmt::format("\"{}\" must be in [0, 1]", key));
  out = rate;
  return Status::ok();
}

Status readUint(element value, std::string_view key, uint64_t& out) {
  if (value.type() == element_type::UINT64 || value.type() == element_type::INT64) {
    int64_t signedValue = 0;
    uint64_t unsignedValue = 0;
    if (value.get(unsignedValue) == simdjson::SUCCESS) {
      out = unsignedValue;
      return Status::ok();
    }
    if (value.get(signedValue) == simdjson::SUCCESS && signedValue >= 0) {
      out = static_cast<uint64_t>(signedValue);
      return Status::ok();
    }
  }
  return typeError(key, "a non-negative integer");
}

Status readBool(element value, std::string_view key, bool& out) {
  if (value.get(out) != simdjson::SUCCESS) return typeError(key, "true or false");
  return Status::ok();
}

Status readError(element value, std::string_view key, ApiError& out) {
  std::string_view name;
  if (value.get(name) != simdjson::SUCCESS) return typeError(key, "an error name");
  auto error = apiErrorFromName(name);
  if (!error) return Status::invalidArgument(fmt::format("unknown error \"{}\" in \"{}\"", name, key));
  out = *error;
  return Status::ok();
}

Status readRecordFaults(element value, std::vector<RecordFault>& out) {
  simdjson::dom::array array;
  if (value.get(array) != simdjson::SUCCESS) return typeError("recordFaults", "an array");
  for (element item : array) {
    simdjson::dom::object object;
    if (item.get(object) != simdjson::SUCCESS) return typeError("recordFaults[]", "an object");
    RecordFault fault;
    for (auto field : object) {
      if (field.key == "index") {
        int64_t index = 0;
        if (field.value.get(index) != simdjson::SUCCESS || index < -1) {
          return typeError("index", "an integer >= -1 (-1: every record)");
        }
        fault.index = index;
      } else if (field.key == "error") {
        std::string_view name;
        if (field.value.get(name) != simdjson::SUCCESS) return typeError("error", "a string");
        auto error = recordErrorFromName(name);
        if (!error) {
          return Status::invalidArgument(fmt::format(
              "record error \"{}\" is not InternalFailure or ProvisionedThroughputExceededException", name));
        }
        fault.error = *error;
      } else {
        return Status::invalidArgument(fmt::format("unknown key \"{}\" in recordFaults", field.key));
      }
    }
    out.push_back(fault);
  }
  return Status::ok();
}

Status readAction(std::string_view key, element value, FaultAction& action, bool& known) {
  known = true;
  if (key == "error") {
    ApiError error{};
    if (auto s = readError(value, key, error); !s) return s;
    action.error = error;
  } else if (key == "drop") {
    return readBool(value, key, action.drop);
  } else if (key == "dropAfterProcessing") {
    return readBool(value, key, action.dropAfterProcessing);
  } else if (key == "delayMs") {
    uint64_t ms = 0;
    if (auto s = readUint(value, key, ms); !s) return s;
    action.delay = std::chrono::milliseconds(ms);
  } else if (key == "recordFaults") {
    return readRecordFaults(value, action.recordFaults);
  } else {
    known = false;
  }
  return Status::ok();
}

Status readSchedule(element value, std::vector<ScheduledFault>& out) {
  simdjson::dom::array array;
  if (value.get(array) != simdjson::SUCCESS) return typeError("schedule", "an array");
  for (element item : array) {
    simdjson::dom::object object;
    if (item.get(object) != simdjson::SUCCESS) return typeError("schedule[]", "an object");
    ScheduledFault entry;
    for (auto field : object) {
      if (field.key == "request") {
        if (auto s = readUint(field.value, "request", entry.request); !s) return s;
        if (entry.request == 0) return Status::invalidArgument("\"request\" counts from 1");
        continue;
      }
      if (field.key == "count") {
        if (auto s = readUint(field.value, "count", entry.count); !s) return s;
        if (entry.count == 0) return Status::invalidArgument("\"count\" must be at least 1");
        continue;
      }
      bool known = false;
      if (auto s = readAction(field.key, field.value, entry.action, known); !s) return s;
      if (!known) return Status::invalidArgument(fmt::format("unknown key \"{}\" in a schedule entry", field.key));
    }
    out.push_back(std::move(entry));
  }
  return Status::ok();
}

void appendAction(std::string& out, const FaultAction& action) {
  if (action.error) out += fmt::format(",\"error\":\"{}\"", errorInfo(*action.error).type);
  if (action.drop) out += ",\"drop\":true";
  if (action.dropAfterProcessing) out += ",\"dropAfterProcessing\":true";
  if (action.delay.count() != 0) out += fmt::format(",\"delayMs\":{}", action.delay.count());
  if (!action.recordFaults.empty()) {
    out += ",\"recordFaults\":[";
    for (size_t i = 0; i < action.recordFaults.size(); ++i) {
      if (i != 0) out += ',';
      out += fmt::format("{{\"index\":{},\"error\":\"{}\"}}", action.recordFaults[i].index,
                         recordErrorCode(action.recordFaults[i].error));
    }
    out += ']';
  }
}

}  // namespace

const ApiErrorInfo& errorInfo(ApiError error) { return kErrors[static_cast<size_t>(error)]; }

std::optional<ApiError> apiErrorFromName(std::string_view name) {
  if (name == "413") return ApiError::kPayloadTooLarge;
  if (name == "ServiceUnavailableException") return ApiError::kServiceUnavailable;
  for (const auto& info : kErrors) {
    if (info.type == name) return info.error;
  }
  return std::nullopt;
}

std::span<const ApiErrorInfo> allErrors() { return kErrors; }

std::string_view recordErrorCode(RecordError error) {
  return error == RecordError::kInternalFailure ? "InternalFailure" : "ProvisionedThroughputExceededException";
}

std::optional<RecordError> recordErrorFromName(std::string_view name) {
  if (name == "InternalFailure") return RecordError::kInternalFailure;
  if (name == "ProvisionedThroughputExceededException") return RecordError::kProvisionedThroughputExceeded;
  return std::nullopt;
}

bool Faults::any() const {
  return recordInternalFailureRate > 0 || recordThrottleRate > 0 || !requestErrorRates.empty() || dropRate > 0 ||
         dropAfterProcessingRate > 0 || delay.count() > 0 || !schedule.empty();
}

Result<Faults> parseFaults(std::string_view json) {
  simdjson::dom::parser parser;
  element root;
  if (parser.parse(json.data(), json.size()).get(root) != simdjson::SUCCESS) {
    return fail(Status::invalidArgument("faults: not valid JSON"));
  }
  simdjson::dom::object object;
  if (root.get(object) != simdjson::SUCCESS) return fail(Status::invalidArgument("faults: expected a JSON object"));
  Faults faults;
  for (auto field : object) {
    std::string_view key = field.key;
    Status s;
    if (key == "recordInternalFailureRate") {
      s = readRate(field.value, key, faults.recordInternalFailureRate);
    } else if (key == "recordThrottleRate") {
      s = readRate(field.value, key, faults.recordThrottleRate);
    } else if (key == "dropRate") {
      s = readRate(field.value, key, faults.dropRate);
    } else if (key == "dropAfterProcessingRate") {
      s = readRate(field.value, key, faults.dropAfterProcessingRate);
    } else if (key == "delayRate") {
      s = readRate(field.value, key, faults.delayRate);
    } else if (key == "delayMs") {
      uint64_t ms = 0;
      s = readUint(field.value, key, ms);
      faults.delay = std::chrono::milliseconds(ms);
    } else if (key == "seed") {
      uint64_t seed = 0;
      s = readUint(field.value, key, seed);
      faults.seed = seed;
    } else if (key == "requestErrorRates") {
      simdjson::dom::object rates;
      if (field.value.get(rates) != simdjson::SUCCESS) {
        s = typeError(key, "an object of error name to rate");
      } else {
        double total = 0;
        for (auto rate : rates) {
          auto error = apiErrorFromName(rate.key);
          if (!error)
            return fail(Status::invalidArgument(fmt::format("unknown error \"{}\" in requestErrorRates", rate.key)));
          double value = 0;
          if (auto rs = readRate(rate.value, rate.key, value); !rs) return fail(rs);
          total += value;
          faults.requestErrorRates.emplace_back(*error, value);
        }
        if (total > 1.0 + 1e-9) s = Status::invalidArgument("requestErrorRates add up to more than 1");
      }
    } else if (key == "operations") {
      simdjson::dom::array operations;
      if (field.value.get(operations) != simdjson::SUCCESS) {
        s = typeError(key, "an array of operation names");
      } else {
        faults.operations.clear();
        for (element op : operations) {
          std::string_view name;
          if (op.get(name) != simdjson::SUCCESS) return fail(typeError(key, "an array of operation names"));
          faults.operations.emplace_back(name);
        }
      }
    } else if (key == "schedule") {
      s = readSchedule(field.value, faults.schedule);
    } else {
      s = Status::invalidArgument(fmt::format("unknown key \"{}\" in faults", key));
    }
    if (!s) return fail(s);
  }
  return faults;
}

std::string faultsToJson(const Faults& faults) {
  std::string out = fmt::format(
      "{{\"recordInternalFailureRate\":{},\"recordThrottleRate\":{},\"dropRate\":{},\"dropAfterProcessingRate\":{},"
      "\"delayMs\":{},\"delayRate\":{},\"requestErrorRates\":{{",
      faults.recordInternalFailureRate, faults.recordThrottleRate, faults.dropRate, faults.dropAfterProcessingRate,
      faults.delay.count(), faults.delayRate);
  for (size_t i = 0; i < faults.requestErrorRates.size(); ++i) {
    if (i != 0) out += ',';
    out +=
        fmt::format("\"{}\":{}", errorInfo(faults.requestErrorRates[i].first).type, faults.requestErrorRates[i].second);
  }
  out += "},\"operations\":[";
  for (size_t i = 0; i < faults.operations.size(); ++i) {
    if (i != 0) out += ',';
    appendJsonString(out, faults.operations[i]);
  }
  out += "],\"schedule\":[";
  for (size_t i = 0; i < faults.schedule.size(); ++i) {
    if (i != 0) out += ',';
    out += fmt::format("{{\"request\":{},\"count\":{}", faults.schedule[i].request, faults.schedule[i].count);
    appendAction(out, faults.schedule[i].action);
    out += '}';
  }
  out += ']';
  if (faults.seed) out += fmt::format(",\"seed\":{}", *faults.seed);
  out += '}';
  return out;
}

void FaultInjector::set(Faults faults) {
  faults_ = std::move(faults);
  requests_ = 0;
  if (faults_.seed) rng_.seed(*faults_.seed);
}

bool FaultInjector::inScope(std::string_view operation) const {
  return std::any_of(faults_.operations.begin(), faults_.operations.end(),
                     [&](const std::string& op) { return op == "*" || op == operation; });
}

bool FaultInjector::draw(double rate) {
  if (rate <= 0) return false;
  if (rate >= 1) return true;
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng_) < rate;
}

FaultDecision FaultInjector::decide() {
  ++requests_;
  FaultDecision decision;
  decision.inScope = true;
  for (const auto& entry : faults_.schedule) {
    if (requests_ >= entry.request && requests_ - entry.request < entry.count) {
      decision.error = entry.action.error;
      decision.drop = entry.action.drop;
      decision.dropAfterProcessing = entry.action.dropAfterProcessing;
      decision.delay = entry.action.delay;
      decision.recordFaults = entry.action.recordFaults;
      decision.scheduled = true;
      return decision;
    }
  }
  if (draw(faults_.dropRate)) {
    decision.drop = true;
    return decision;
  }
  if (!faults_.requestErrorRates.empty()) {
    double r = std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
    double cumulative = 0;
    for (const auto& [error, rate] : faults_.requestErrorRates) {
      cumulative += rate;
      if (r < cumulative) {
        decision.error = error;
        break;
      }
    }
  }
  if (faults_.delay.count() > 0 && draw(faults_.delayRate)) decision.delay = faults_.delay;
  if (!decision.error) decision.dropAfterProcessing = draw(faults_.dropAfterProcessingRate);
  return decision;
}

std::optional<RecordError> FaultInjector::recordFault(size_t index, const FaultDecision& decision) {
  if (!decision.inScope) return std::nullopt;
  for (const auto& fault : decision.recordFaults) {
    if (fault.index == -1 || static_cast<size_t>(fault.index) == index) return fault.error;
  }
  if (decision.scheduled) return std::nullopt;
  double internal = faults_.recordInternalFailureRate;
  double throttle = faults_.recordThrottleRate;
  if (internal <= 0 && throttle <= 0) return std::nullopt;
  double r = std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
  if (r < internal) return RecordError::kInternalFailure;
  if (r < internal + throttle) return RecordError::kProvisionedThroughputExceeded;
  return std::nullopt;
}

}  // namespace kinship::fake
