#pragma once
// Reads one sample out of a prometheus registry, for test assertions.

#include <prometheus/registry.h>

#include <map>
#include <string>

namespace kinship::testing {

// The value of the counter or gauge `name` whose labels include all of
// `labels`; -1 when there is none.
inline double metricValue(prometheus::Registry& registry, const std::string& name,
                          const std::map<std::string, std::string>& labels = {}) {
  for (const auto& family : registry.Collect()) {
    if (family.name != name) continue;
    for (const auto& metric : family.metric) {
      bool match = true;
      for (const auto& [k, v] : labels) {
        bool found = false;
        for (const auto& label : metric.label) found = found || (label.name == k && label.value == v);
        match = match && found;
      }
      if (!match) continue;
      if (family.type == prometheus::MetricType::Counter) return metric.counter.value;
      if (family.type == prometheus::MetricType::Gauge) return metric.gauge.value;
      if (family.type == prometheus::MetricType::Histogram) return static_cast<double>(metric.histogram.sample_count);
    }
  }
  return -1;
}

}  // namespace kinship::testing
