// libFuzzer target: the ${NAME} / ${NAME:-default} expander of config
// values, with a fixed environment.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "config/schema.h"

namespace {

void check(bool condition) {
  if (!condition) std::abort();
}

std::optional<std::string> fakeEnvironment(std::string_view name) {
  if (name == "HOST") return "web-1";
  if (name == "EMPTY") return "";
  if (name == "A") return "a";
  if (name == "BRACES") return "{service}-${A}}";  // values are not expanded again
  if (name == "DOLLAR") return "$$";
  return std::nullopt;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const kinship::config::EnvLookup env = fakeEnvironment;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto out = kinship::config::substituteEnv(text, env);
  // Text without '$' comes back unchanged.
  if (text.find('$') == std::string_view::npos) check(out.has_value() && *out == text);
  return 0;
}
