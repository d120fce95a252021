#pragma once
// The metric families that inputs share, declared once with their help text,
// and a plain counter for the hot path that is published to the registry in
// one step per batch.
//
// Every input registers the same family names. prometheus-cpp (1.0, whose
// Registry merges by default) hands back the family already registered under
// a name, and the first registration's help text is the one exported; so
// every input registers through these functions.
//
// Threading: registration at construction (startup); PendingCount belongs to
// one input on the I/O thread.

#include <cstdint>
#include <string>
#include <string_view>

#include <prometheus/counter.h>
#include <prometheus/labels.h>

#include "inputs/input.h"

namespace prometheus {
class Gauge;
class Registry;
}  // namespace prometheus

namespace kinship::inputs {

// {pipeline, input}: the labels of every input series.
prometheus::Labels inputLabels(const InputContext& context);

// kinship_input_records_total: records (lines or datagrams) an input read.
prometheus::Counter& inputRecordsCounter(prometheus::Registry& registry, const prometheus::Labels& labels);
// kinship_input_bytes_total: bytes of those records, without line endings.
prometheus::Counter& inputBytesCounter(prometheus::Registry& registry, const prometheus::Labels& labels);
// kinship_input_dropped_total{reason}: records an input dropped.
prometheus::Counter& inputDroppedCounter(prometheus::Registry& registry, const prometheus::Labels& labels,
                                         std::string_view reason);
// kinship_input_records_split_total{reason}: cuts made in records too long
// to ship whole; each cut starts a new record.
prometheus::Counter& inputRecordsSplitCounter(prometheus::Registry& registry, const prometheus::Labels& labels,
                                              std::string_view reason);
// kinship_input_files_open: files a file input holds open.
prometheus::Gauge& inputFilesOpenGauge(prometheus::Registry& registry, const prometheus::Labels& labels);
// kinship_input_file_lag_bytes: bytes of its files a file input has not read yet.
prometheus::Gauge& inputFileLagGauge(prometheus::Registry& registry, const prometheus::Labels& labels);
// kinship_input_connections: open client connections of a stream socket input.
prometheus::Gauge& inputConnectionsGauge(prometheus::Registry& registry, const prometheus::Labels& labels);
// kinship_input_connections_rejected_total: connections closed on accept
// because the input already had max_connections open.
prometheus::Counter& inputConnectionsRejectedCounter(prometheus::Registry& registry, const prometheus::Labels& labels);

// kinship_input_checkpoint_writes_total: checkpoint files a file input wrote.
prometheus::Counter& inputCheckpointWritesCounter(prometheus::Registry& registry, const prometheus::Labels& labels);
// kinship_input_checkpoint_errors_total: checkpoint files that could not be
// read (corrupt, unreadable: ignored) or written.
prometheus::Counter& inputCheckpointErrorsCounter(prometheus::Registry& registry, const prometheus::Labels& labels);

// Counts on the hot path with a plain add; publish() moves the sum to the
// registry's counter (an atomic), once per batch rather than once per record.
class PendingCount {
 public:
  explicit PendingCount(prometheus::Counter& target) : target_(&target) {}
  void add(uint64_t n = 1) { pending_ += n; }
  uint64_t pending() const { return pending_; }
  void publish() {
    if (pending_ == 0) return;
    target_->Increment(static_cast<double>(pending_));
    pending_ = 0;
  }

 private:
  prometheus::Counter* target_;
  uint64_t pending_ = 0;
};

}  // namespace kinship::inputs
