#include "inputs/file/file_checkpoint.h"

namespace kinship::inputs {

std::optional<uint64_t> resumeOffset(const FileCheckpoint& saved, std::string_view currentHead, uint64_t currentSize) {
  if (currentSize < saved.offset) return 0;
  if (!currentHead.starts_with(saved.fingerprint)) return std::nullopt;
  return saved.offset;
}

}  // namespace kinship::inputs
