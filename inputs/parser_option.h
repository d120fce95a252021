#pragma once
// The `parser` option every input takes, declared once so its default and
// help text cannot drift between inputs.

#include "config/schema.h"
#include "pipeline/pipeline.h"

namespace kinship::inputs {

inline constexpr config::Option kParserOption{
    .name = "parser",
    .type = config::ValueType::kEnum,
    .defaultValue = "raw",
    .choices = "raw|json",
    .help = "How records are read to derive the partition key: `json` parses each record as a JSON object so "
            "`partition_key` and `explicit_hash_key` can name its fields; `raw` does not parse (keys are random "
            "unless the template has no fields). The record's data is always the line or datagram as received, "
            "bytes unchanged."};

inline pipeline::Parser parserFrom(const config::Section& section) {
  return section.getString("parser") == "json" ? pipeline::Parser::kJson : pipeline::Parser::kRaw;
}

}  // namespace kinship::inputs
