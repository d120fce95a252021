#include "aws/credentials_json.h"

#include <simdjson.h>

#include <cctype>
#include <cstdint>
#include <string>

namespace kinship::aws {
namespace {

std::string where(const CredentialsJsonContext& context) {
  return std::string(context.source) + ": the answer from " + std::string(context.url);
}

// Credentials end up in request headers (the access key in Authorization,
// the token in X-Amz-Security-Token): anything but visible ASCII could
// split a header, so such an answer is refused whole.
bool isVisibleAscii(std::string_view value) {
  for (unsigned char c : value) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

// A Code worth repeating in an error: IMDS codes are short identifiers
// ("AssumeRoleUnauthorizedAccess"); anything else is not echoed.
bool isPlainCode(std::string_view code) {
  if (code.empty() || code.size() > 64) return false;
  for (char c : code) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.')) return false;
  }
  return true;
}

// Reads one string field into `out`; an absent optional field leaves it empty.
Status readField(simdjson::dom::object object, std::string_view field, bool required, std::string& out,
                 const CredentialsJsonContext& context) {
  simdjson::dom::element element;
  if (object[field].get(element) != simdjson::SUCCESS) {
    if (!required) return Status::ok();
    return Status::corruption(where(context) + " has no " + std::string(field));
  }
  std::string_view value;
  if (element.get(value) != simdjson::SUCCESS) {
    return Status::corruption(where(context) + ": " + std::string(field) + " is not a string");
  }
  if (value.empty()) return Status::corruption(where(context) + ": " + std::string(field) + " is empty");
  if (!isVisibleAscii(value)) {
    return Status::corruption(where(context) + ": " + std::string(field) +
                              " holds characters other than visible ASCII");
  }
  out.assign(value);
  return Status::ok();
}

bool readDigits(std::string_view text, size_t pos, size_t count, int& out) {
  if (pos + count > text.size()) return false;
  out = 0;
  for (size_t i = pos; i < pos + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    out = out * 10 + (text[i] - '0');
  }
  return true;
}

}  // namespace

Result<std::chrono::system_clock::time_point> parseIso8601Utc(std::string_view text) {
  using namespace std::chrono;
  auto bad = [&] { return fail(Status::invalidArgument("not an ISO 8601 UTC timestamp")); };
  // YYYY-MM-DDTHH:MM:SS
  int y, mo, d, h, mi, s;
  if (text.size() < 20 || !readDigits(text, 0, 4, y) || text[4] != '-' || !readDigits(text, 5, 2, mo) ||
      text[7] != '-' || !readDigits(text, 8, 2, d) || (text[10] != 'T' && text[10] != 't') ||
      !readDigits(text, 11, 2, h) || text[13] != ':' || !readDigits(text, 14, 2, mi) || text[16] != ':' ||
      !readDigits(text, 17, 2, s)) {
    return bad();
  }
  size_t pos = 19;
  milliseconds fraction{0};
  if (text[pos] == '.') {
    ++pos;
    const size_t start = pos;
    int64_t scale = 100;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      fraction += milliseconds((text[pos] - '0') * scale);
      scale /= 10;
      ++pos;
    }
    if (pos == start || pos - start > 9) return bad();
  }
  const std::string_view zone = text.substr(pos);
  if (zone != "Z" && zone != "z" && zone != "+00:00") return bad();
  const year_month_day date{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  // A leap second (":60") is not something AWS sends; refuse it with the rest.
  if (!date.ok() || h > 23 || mi > 59 || s > 59) return bad();
  return system_clock::time_point(sys_days(date) + hours(h) + minutes(mi) + seconds(s) + fraction);
}

Result<Credentials> parseCredentialsJson(std::string_view body, const CredentialsJsonContext& context) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(body);
  simdjson::dom::element doc;
  // simdjson's messages describe the failure (TAPE_ERROR...), never the bytes.
  if (auto error = parser.parse(padded).get(doc); error != simdjson::SUCCESS) {
    return fail(Status::corruption(where(context) + " is not valid JSON (" + simdjson::error_message(error) + ")"));
  }
  simdjson::dom::object object;
  if (doc.get(object) != simdjson::SUCCESS) {
    return fail(Status::corruption(where(context) + " is not a JSON object"));
  }
  std::string code;
  if (Status s = readField(object, "Code", false, code, context); !s) return fail(s);
  if (!code.empty() && code != "Success") {
    return fail(Status::unavailable(where(context) + " says Code " +
                                    (isPlainCode(code) ? code : std::string("(not shown)")) +
                                    " rather than Success"));
  }
  Credentials credentials;
  std::string expiration;
  if (Status s = readField(object, "AccessKeyId", true, credentials.accessKeyId, context); !s) return fail(s);
  if (Status s = readField(object, "SecretAccessKey", true, credentials.secretAccessKey, context); !s) return fail(s);
  if (Status s = readField(object, "Token", context.requireTemporary, credentials.sessionToken, context); !s) {
    return fail(s);
  }
  if (Status s = readField(object, "Expiration", context.requireTemporary, expiration, context); !s) return fail(s);
  if (!expiration.empty()) {
    auto when = parseIso8601Utc(expiration);
    if (!when) return fail(Status::corruption(where(context) + ": Expiration is " + when.error().message()));
    credentials.expiration = *when;
  }
  return credentials;
}

}  // namespace kinship::aws
