#include "sinks/discard/discard_sink_config.h"

namespace kinship::sinks {

namespace {

using config::Option;
using config::ValueType;

using config::kMinute;

const Option kNullOptions[] = {
    {.name = "delay",
     .type = ValueType::kDuration,
     .defaultValue = "0",
     .minValue = 0,
     .maxValue = kMinute,
     .help = "Pause before discarding each batch, to stand in for a slow destination (backpressure tests). "
             "0: discard as fast as batches arrive."},
};

}  // namespace

config::Schema discardSinkSchema() { return kNullOptions; }

DiscardSinkConfig discardSinkConfigFrom(const config::Section& section) {
  DiscardSinkConfig c;
  c.delay = section.getDuration("delay");
  return c;
}

}  // namespace kinship::sinks
