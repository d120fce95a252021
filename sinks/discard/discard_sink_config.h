#pragma once
// The discard sink's options: schema table and typed form.

#include <chrono>

#include "config/schema.h"

namespace kinship::sinks {

struct DiscardSinkConfig {
  // Pause before discarding each batch: stands in for a slow destination.
  std::chrono::milliseconds delay{0};
};

config::Schema discardSinkSchema();
DiscardSinkConfig discardSinkConfigFrom(const config::Section& section);

}  // namespace kinship::sinks
