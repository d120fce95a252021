#include "spool/spool_metrics.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace kinship::spool {

namespace {

prometheus::Gauge* gauge(prometheus::Registry& r, const char* name, const char* help, const prometheus::Labels& l) {
  return &prometheus::BuildGauge().Name(name).Help(help).Register(r).Add(l);
}

prometheus::Counter* counter(prometheus::Registry& r, const char* name, const char* help,
                             const prometheus::Labels& l) {
  return &prometheus::BuildCounter().Name(name).Help(help).Register(r).Add(l);
}

void addDelta(prometheus::Counter* c, uint64_t now, uint64_t before) {
  if (now > before) c->Increment(static_cast<double>(now - before));
}

}  // namespace

SpoolMetrics::SpoolMetrics(prometheus::Registry& r, const std::string& pipeline) {
  const prometheus::Labels l{{"pipeline", pipeline}};
  bytes_ = gauge(r, "kinship_spool_bytes", "Bytes of the spool's segment files on disk", l);
  records_ = gauge(r, "kinship_spool_records", "Records in the spool not yet acknowledged by the sink", l);
  segments_ = gauge(r, "kinship_spool_segments", "Segment files of the spool", l);
  oldestAge_ = gauge(r, "kinship_spool_oldest_record_age_seconds",
                     "Age of the oldest unacknowledged record in the spool (an upper bound: the age of its "
                     "segment's first record); 0 when the spool is empty",
                     l);
  full_ = gauge(r, "kinship_spool_full", "1 while the spool is at max_size and when_full applies", l);
  writeFailing_ = gauge(r, "kinship_spool_write_failing",
                        "1 while appends to the spool fail (disk full, directory unwritable): inputs are paused "
                        "and /readyz answers 503",
                        l);
  appendedRecords_ = counter(r, "kinship_spool_appended_records_total", "Records appended to the spool", l);
  appendedBytes_ = counter(r, "kinship_spool_appended_bytes_total", "Bytes of frames appended to the spool", l);
  deliveredFrames_ = counter(r, "kinship_spool_read_frames_total", "Frames (batches) read back for the sink", l);
  ackedFrames_ = counter(r, "kinship_spool_acked_frames_total", "Frames the sink finished with", l);
  corruptFrames_ = counter(r, "kinship_spool_corrupt_frames_total",
                           "Corrupt frames found at recovery or when reading (each skips the rest of its "
                           "segment)",
                           l);
  corruptBytes_ = counter(r, "kinship_spool_corrupt_bytes_total", "Bytes skipped because of corrupt frames", l);
  positionsErrors_ = counter(r, "kinship_spool_positions_errors_total",
                             "POSITIONS files (the file positions of deleted segments) that could not be written or "
                             "read: file inputs then resume from their own, older checkpoints (re-reading, not loss)",
                             l);
  tornTails_ = counter(r, "kinship_spool_torn_tails_total",
                       "Truncated last frames (a write cut short by a crash) cut away at recovery", l);
  badSegments_ = counter(r, "kinship_spool_bad_segments_total",
                         "Segment files with an unreadable header, set aside as <name>.bad or removed", l);
  writeErrors_ = counter(r, "kinship_spool_write_errors_total", "Failed appends or fsyncs (retried)", l);
  readErrors_ = counter(r, "kinship_spool_read_errors_total", "Failed reads of the spool (retried)", l);
  auto& dropped = prometheus::BuildCounter()
                      .Name("kinship_spool_dropped_records_total")
                      .Help("Records dropped by the spool, by policy: drop_newest and drop_oldest (when_full at "
                            "max_size), too_large (a batch larger than max_size)")
                      .Register(r);
  droppedNewest_ = &dropped.Add({{"pipeline", pipeline}, {"policy", "drop_newest"}});
  droppedOldest_ = &dropped.Add({{"pipeline", pipeline}, {"policy", "drop_oldest"}});
  droppedTooLarge_ = &dropped.Add({{"pipeline", pipeline}, {"policy", "too_large"}});
  fsyncSeconds_ = &prometheus::BuildHistogram()
                       .Name("kinship_spool_fsync_seconds")
                       .Help("Duration of the spool's fsync calls")
                       .Register(r)
                       .Add(l, prometheus::Histogram::BucketBoundaries{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                                        0.05, 0.1, 0.25, 0.5, 1, 2.5});
}

void SpoolMetrics::publish(const SpoolStats& s, std::chrono::system_clock::time_point now) {
  std::lock_guard lock(mu_);
  bytes_->Set(static_cast<double>(s.bytes));
  records_->Set(static_cast<double>(s.records));
  segments_->Set(static_cast<double>(s.segments));
  double age = 0;
  if (s.oldestAppendWallMs != 0) {
    auto nowMs = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
    age = std::max(0.0, static_cast<double>(nowMs - static_cast<int64_t>(s.oldestAppendWallMs)) / 1000.0);
  }
  oldestAge_->Set(age);
  addDelta(appendedRecords_, s.appendedRecordsTotal, last_.appendedRecordsTotal);
  addDelta(appendedBytes_, s.appendedBytesTotal, last_.appendedBytesTotal);
  addDelta(deliveredFrames_, s.deliveredFramesTotal, last_.deliveredFramesTotal);
  addDelta(ackedFrames_, s.ackedFramesTotal, last_.ackedFramesTotal);
  addDelta(corruptFrames_, s.corruptFramesTotal, last_.corruptFramesTotal);
  addDelta(corruptBytes_, s.corruptBytesTotal, last_.corruptBytesTotal);
  addDelta(positionsErrors_, s.positionsErrorsTotal, last_.positionsErrorsTotal);
  addDelta(tornTails_, s.tornTailsTotal, last_.tornTailsTotal);
  addDelta(badSegments_, s.badSegmentsTotal, last_.badSegmentsTotal);
  addDelta(writeErrors_, s.writeErrorsTotal, last_.writeErrorsTotal);
  addDelta(readErrors_, s.readErrorsTotal, last_.readErrorsTotal);
  last_ = s;
}

void SpoolMetrics::dropped(WhenFull policy, uint64_t records) {
  if (policy == WhenFull::kDropNewest) droppedNewest_->Increment(static_cast<double>(records));
  if (policy == WhenFull::kDropOldest) droppedOldest_->Increment(static_cast<double>(records));
}

void SpoolMetrics::droppedTooLarge(uint64_t records) { droppedTooLarge_->Increment(static_cast<double>(records)); }

void SpoolMetrics::setFull(bool full) { full_->Set(full ? 1 : 0); }

void SpoolMetrics::setWriteFailing(bool failing) { writeFailing_->Set(failing ? 1 : 0); }

void SpoolMetrics::observeFsync(std::chrono::nanoseconds took) {
  fsyncSeconds_->Observe(std::chrono::duration<double>(took).count());
}

}  // namespace kinship::spool
