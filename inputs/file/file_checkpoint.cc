#include "inputs/file/file_checkpoint.h"

namespace kinship::inputs {

std::optional<ResumePoint> resumePoint(const FileCheckpoint& saved, std::string_view currentHead,
                                       std::string_view currentTail, uint64_t currentSize) {
  using Reason = ResumePoint::Reason;
  if (currentSize < saved.offset) return ResumePoint{0, Reason::kTruncated};
  if (!currentHead.starts_with(saved.fingerprint)) return std::nullopt;
  if (!saved.tail.empty() && currentTail != saved.tail) return ResumePoint{0, Reason::kRewritten};
  return ResumePoint{saved.offset, Reason::kSameFile};
}

}  // namespace kinship::inputs
