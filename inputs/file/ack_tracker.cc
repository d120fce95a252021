#include "inputs/file/ack_tracker.h"

namespace kinship::inputs {

void AckTracker::add(uint64_t sourceId, uint64_t offset) {
  std::lock_guard lock(mutex_);
  Source& source = sources_[sourceId];
  source.acknowledgedOffset = offset;
  source.outstanding.clear();
  changed_ = true;
}

void AckTracker::close(uint64_t sourceId) {
  std::lock_guard lock(mutex_);
  if (sources_.erase(sourceId) != 0) changed_ = true;
}

void AckTracker::submitted(uint64_t sourceId, uint64_t endOffset) {
  std::lock_guard lock(mutex_);
  auto it = sources_.find(sourceId);
  if (it == sources_.end()) return;
  it->second.outstanding.push_back({endOffset, false});
}

void AckTracker::acknowledged(uint64_t sourceId, uint64_t endOffset) {
  std::lock_guard lock(mutex_);
  auto it = sources_.find(sourceId);
  if (it == sources_.end()) return;
  Source& source = it->second;
  // Batches are matched by end offset. Two outstanding batches can share one
  // only after a truncation restarted the file; marking either gives the
  // same result, because the offset advances over whole prefixes.
  for (Batch& batch : source.outstanding) {
    if (!batch.acknowledged && batch.endOffset == endOffset) {
      batch.acknowledged = true;
      break;
    }
  }
  // The latest batch of the acknowledged prefix, not the highest offset:
  // after a truncation the file's offsets start again from zero.
  while (!source.outstanding.empty() && source.outstanding.front().acknowledged) {
    source.acknowledgedOffset = source.outstanding.front().endOffset;
    source.outstanding.pop_front();
    changed_ = true;
  }
}

std::optional<uint64_t> AckTracker::acknowledgedOffset(uint64_t sourceId) const {
  std::lock_guard lock(mutex_);
  auto it = sources_.find(sourceId);
  if (it == sources_.end()) return std::nullopt;
  return it->second.acknowledgedOffset;
}

size_t AckTracker::outstanding(uint64_t sourceId) const {
  std::lock_guard lock(mutex_);
  auto it = sources_.find(sourceId);
  return it == sources_.end() ? 0 : it->second.outstanding.size();
}

bool AckTracker::takeChanged() {
  std::lock_guard lock(mutex_);
  bool changed = changed_;
  changed_ = false;
  return changed;
}

}  // namespace kinship::inputs
