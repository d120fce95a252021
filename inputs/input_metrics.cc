#include "inputs/input_metrics.h"

#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include "pipeline/pipeline.h"

namespace kinship::inputs {

prometheus::Labels inputLabels(const InputContext& context) {
  return {{"pipeline", context.pipeline.name()}, {"input", context.id}};
}

prometheus::Counter& inputRecordsCounter(prometheus::Registry& registry, const prometheus::Labels& labels) {
  return prometheus::BuildCounter()
      .Name("kinship_input_records_total")
      .Help("Records (lines or datagrams) read by an input")
      .Register(registry)
      .Add(labels);
}

prometheus::Counter& inputBytesCounter(prometheus::Registry& registry, const prometheus::Labels& labels) {
  return prometheus::BuildCounter()
      .Name("kinship_input_bytes_total")
      .Help("Bytes of records read by an input, without line endings")
      .Register(registry)
      .Add(labels);
}

prometheus::Counter& inputDroppedCounter(prometheus::Registry& registry, const prometheus::Labels& labels,
                                         std::string_view reason) {
  auto withReason = labels;
  withReason["reason"] = std::string(reason);
  return prometheus::BuildCounter()
      .Name("kinship_input_dropped_total")
      .Help("Records an input dropped, by reason: line_too_long (over max_line_size), truncated (a datagram "
            "over max_datagram_size), empty (an empty datagram), queue_full (a datagram arrived while the "
            "pipeline was full), kernel_overflow (dropped by the kernel before kinship read it), buffer_limit (a "
            "unix stream line that would have taken the connections' buffers past max_buffer_size)")
      .Register(registry)
      .Add(withReason);
}

prometheus::Counter& inputRecordsSplitCounter(prometheus::Registry& registry, const prometheus::Labels& labels,
                                              std::string_view reason) {
  auto withReason = labels;
  withReason["reason"] = std::string(reason);
  return prometheus::BuildCounter()
      .Name("kinship_input_records_split_total")
      .Help("Cuts an input made in records too long to ship whole, each starting a new record, by reason: "
            "line_too_long (a line over max_line_size with long_lines: split), multiline_max_size (a multiline "
            "record that reached max_size)")
      .Register(registry)
      .Add(withReason);
}

prometheus::Gauge& inputFilesOpenGauge(prometheus::Registry& registry, const prometheus::Labels& labels) {
  return prometheus::BuildGauge()
      .Name("kinship_input_files_open")
      .Help("Files a file input holds open")
      .Register(registry)
      .Add(labels);
}

prometheus::Gauge& inputFileLagGauge(prometheus::Registry& registry, const prometheus::Labels& labels) {
  return prometheus::BuildGauge()
      .Name("kinship_input_file_lag_bytes")
      .Help("Bytes of the files a file input follows that it has not read yet: the sum over its open files of "
            "size less read offset, updated every poll_interval and after reading")
      .Register(registry)
      .Add(labels);
}

prometheus::Gauge& inputConnectionsGauge(prometheus::Registry& registry, const prometheus::Labels& labels) {
  return prometheus::BuildGauge()
      .Name("kinship_input_connections")
      .Help("Client connections a stream socket input holds open")
      .Register(registry)
      .Add(labels);
}

prometheus::Counter& inputConnectionsRejectedCounter(prometheus::Registry& registry, const prometheus::Labels& labels) {
  return prometheus::BuildCounter()
      .Name("kinship_input_connections_rejected_total")
      .Help("Client connections closed as soon as accepted because the input had max_connections open or "
            "their buffer would not fit in max_buffer_size")
      .Register(registry)
      .Add(labels);
}

prometheus::Counter& inputCheckpointWritesCounter(prometheus::Registry& registry, const prometheus::Labels& labels) {
  return prometheus::BuildCounter()
      .Name("kinship_input_checkpoint_writes_total")
      .Help("Checkpoint files (acknowledged read positions) a file input wrote to data_dir")
      .Register(registry)
      .Add(labels);
}

prometheus::Counter& inputCheckpointErrorsCounter(prometheus::Registry& registry, const prometheus::Labels& labels) {
  return prometheus::BuildCounter()
      .Name("kinship_input_checkpoint_errors_total")
      .Help("Checkpoint files a file input could not read (corrupt or unreadable: ignored, files start as "
            "start_at says) or write (the previous checkpoint stays)")
      .Register(registry)
      .Add(labels);
}

}  // namespace kinship::inputs
