#pragma once
// fakeEnv: an EnvLookup over a fixed map, so tests never read or change the
// process environment.

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/env_lookup.h"

namespace kinship::testing {

inline EnvLookup fakeEnv(std::map<std::string, std::string, std::less<>> vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

}  // namespace kinship::testing
