#pragma once
// FieldPath: where a template finds a value in a parsed record, written
// `service`, `kubernetes.pod` or `items[0].id`. Compiled once at startup;
// immutable and shareable afterwards.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace kinship::pipeline {

struct FieldPath {
  struct Step {
    bool isIndex = false;
    std::string name{};  // a member name (isIndex false)
    size_t index = 0;  // an array position (isIndex true)
  };
  // The path as written: flat parsers (logfmt, regex groups), whose field
  // names may hold dots themselves, look the whole text up as one name.
  std::string text;
  std::vector<Step> steps;

  // Syntax: names separated by `.`, each optionally followed by one or more
  // `[N]` indexes (N decimal, below 2^32). A name is any run of characters
  // but `.`, `[`, `]`, `|`, `{`, `}` and `'`; it cannot be empty.
  static Result<FieldPath> parse(std::string_view text);
};

}  // namespace kinship::pipeline
