#pragma once
// EnvLookup: how code reads environment variables, injectable so tests never
// depend on (or change) the process environment. Returns nullopt when the
// variable is unset.

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace kinship {

using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;

}  // namespace kinship
