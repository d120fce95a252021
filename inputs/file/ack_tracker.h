#pragma once
// AckTracker: a file input's acknowledgement bookkeeping. For every open
// file (a source id) it keeps the end offsets of the batches submitted and
// not yet acknowledged, in submission order, and the file's acknowledged
// offset: the end offset of the latest batch that, together with every
// earlier batch of that file, has been acknowledged. Acknowledgements may
// arrive out of order (the sink retries records individually); the offset
// only ever covers a contiguous prefix, so a restart never skips a line
// that was not delivered.
//
// Threading: thread-safe. The input calls add/close/submitted and reads the
// offsets on the I/O thread; the sink calls acknowledged() on its thread.
// One mutex, taken once per batch, never per record.

#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "pipeline/record_batch.h"

namespace kinship::inputs {

class AckTracker final : public pipeline::AckReceiver {
 public:
  // Starts following a source whose lines before `offset` need no delivery
  // (its checkpoint, or where start_at put it).
  void add(uint64_t sourceId, uint64_t offset);
  // Stops following a source (its file was closed); later acknowledgements
  // for it are ignored.
  void close(uint64_t sourceId);
  // A batch of the source ending at `endOffset` is about to be queued.
  // Call before the sink can see the batch.
  void submitted(uint64_t sourceId, uint64_t endOffset);

  void acknowledged(uint64_t sourceId, uint64_t endOffset) override;

  // The source's acknowledged offset; nullopt for a source not followed.
  std::optional<uint64_t> acknowledgedOffset(uint64_t sourceId) const;
  // Batches of the source submitted and not yet acknowledged.
  size_t outstanding(uint64_t sourceId) const;
  // True when an offset moved (or a source came or went) since the last call.
  bool takeChanged();

 private:
  struct Batch {
    uint64_t endOffset;
    bool acknowledged;
  };
  struct Source {
    uint64_t acknowledgedOffset = 0;
    std::deque<Batch> outstanding;  // submission order
  };

  mutable std::mutex mutex_;
  std::unordered_map<uint64_t, Source> sources_;
  bool changed_ = false;
};

}  // namespace kinship::inputs
