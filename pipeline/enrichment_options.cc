#include "pipeline/enrichment_options.h"

#include <unistd.h>

#include <climits>
#include <set>

#include <fmt/format.h>

#include "config/schema.h"

namespace kinship::pipeline {

namespace {

constexpr std::string_view kMetadataKinds = "hostname, source, ingest_time, record_id, line_hash";

void checkName(const config::Section& options, std::string_view option, const std::string& name,
               std::set<std::string, std::less<>>& names) {
  if (!isAddedFieldName(name)) {
    options.failEntry(option, name,
                      fmt::format("\"{}\" cannot name an added field: it must be one template step, not empty, "
                                  "without `.`, `[`, `]`, `|`, `{{`, `}}` or `'`",
                                  name));
  }
  if (!names.insert(name).second) {
    options.failEntry(option, name, fmt::format("the field \"{}\" is added twice (add_fields and add_metadata "
                                                "share one set of names)",
                                                name));
  }
}

}  // namespace

std::vector<AddedField> addedFieldsFrom(const config::Section& options, std::string_view host) {
  std::vector<AddedField> fields;
  std::set<std::string, std::less<>> names;
  if (options.has("add_fields")) {
    for (auto& [name, text] : options.getStringMap("add_fields")) {
      checkName(options, "add_fields", name, names);
      fields.push_back({.name = name, .kind = AddedField::Kind::kText, .text = text});
    }
  }
  if (options.has("add_metadata")) {
    for (auto& [name, what] : options.getStringMap("add_metadata")) {
      checkName(options, "add_metadata", name, names);
      if (what == "hostname") {
        fields.push_back({.name = name, .kind = AddedField::Kind::kText, .text = std::string(host)});
      } else if (auto kind = addedFieldKind(what)) {
        fields.push_back({.name = name, .kind = *kind, .text = {}});
      } else {
        options.failEntry("add_metadata", name,
                          fmt::format("unknown metadata \"{}\": expected one of {}", what, kMetadataKinds));
      }
    }
  }
  return fields;
}

EncodingOptions encodingOptionsFrom(const config::Section& options) {
  EncodingOptions encoding;
  encoding.encoding = options.getString("encoding") == "json" ? Encoding::kJson : Encoding::kRaw;
  encoding.trailingNewline = options.getBool("trailing_newline");
  return encoding;
}

std::string hostName() {
  char name[HOST_NAME_MAX + 1] = {};
  if (::gethostname(name, sizeof(name) - 1) != 0) return {};
  return name;
}

}  // namespace kinship::pipeline
