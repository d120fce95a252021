#include "spool/source_positions.h"

#include <algorithm>

namespace kinship::spool {

void SourcePositions::appended(std::shared_ptr<const pipeline::SourceFile> file, uint64_t offset,
                               std::string_view tail) {
  std::lock_guard lock(mu_);
  pending_.push_back({std::move(file), offset, std::string(tail)});
}

void SourcePositions::synced() {
  std::lock_guard lock(mu_);
  // In append order: the newest position of a file is its last one, even
  // when the file was truncated and the offset went back.
  for (Pending& p : pending_) storeLocked(std::move(p.file), p.offset, std::move(p.tail), /*furthest=*/false);
  pending_.clear();
}

void SourcePositions::syncFailed() {
  std::lock_guard lock(mu_);
  pending_.clear();
}

void SourcePositions::recovered(const pipeline::SourcePosition& position) {
  std::lock_guard lock(mu_);
  storeLocked(std::make_shared<const pipeline::SourceFile>(position.file), position.offset, position.tail,
              /*furthest=*/true);
}

void SourcePositions::storeLocked(std::shared_ptr<const pipeline::SourceFile> file, uint64_t offset, std::string tail,
                                  bool furthest) {
  Key key{file->input, file->device, file->inode};
  auto it = durable_.find(key);
  if (it == durable_.end()) {
    if (durable_.size() >= kMaxFiles) {
      auto oldest = std::min_element(durable_.begin(), durable_.end(),
                                     [](const auto& a, const auto& b) { return a.second.stamp < b.second.stamp; });
      durable_.erase(oldest);
    }
    durable_.emplace(std::move(key), Entry{std::move(file), offset, std::move(tail), nextStamp_++});
    return;
  }
  if (furthest) {
    const Entry& held = it->second;
    if (offset < held.offset || (offset == held.offset && tail.empty() && !held.tail.empty())) return;
  }
  it->second = Entry{std::move(file), offset, std::move(tail), nextStamp_++};
}

std::vector<pipeline::SourcePosition> SourcePositions::durable() const {
  std::lock_guard lock(mu_);
  std::vector<pipeline::SourcePosition> out;
  out.reserve(durable_.size());
  for (const auto& [key, entry] : durable_) out.push_back({*entry.file, entry.offset, entry.tail});
  return out;
}

uint64_t SourcePositions::version() const {
  std::lock_guard lock(mu_);
  return nextStamp_;
}

}  // namespace kinship::spool
