#pragma once
// Batches for the spool's tests: numbered, recognisable records, and the
// comparisons the tests make on what comes back.

#include <string>
#include <string_view>

#include "pipeline/record_batch.h"

namespace kinship::spool::test {

// Batch number `n`: `records` records whose data says which batch and
// record they are, padded to `size` bytes; every third has an explicit
// hash key.
inline pipeline::RecordBatch makeBatch(int n, int records = 3, size_t size = 40) {
  pipeline::RecordBatch b;
  for (int i = 0; i < records; ++i) {
    std::string data = "batch-" + std::to_string(n) + "-record-" + std::to_string(i) + "|";
    if (data.size() < size) data.append(size - data.size(), static_cast<char>('a' + (n + i) % 26));
    std::string key = "key-" + std::to_string(i);
    std::string ehk = i % 3 == 2 ? std::to_string(1000 + n) : std::string();
    b.append(data, key, ehk);
  }
  return b;
}

// The batch number makeBatch() put in a batch's first record.
inline int batchNumber(const pipeline::RecordBatch& b) {
  std::string_view d = b.data(0);
  d.remove_prefix(6);
  return std::stoi(std::string(d.substr(0, d.find('-'))));
}

inline bool sameBatch(const pipeline::RecordBatch& a, const pipeline::RecordBatch& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a.data(i) != b.data(i) || a.key(i) != b.key(i) || a.explicitHashKey(i) != b.explicitHashKey(i)) return false;
  }
  return true;
}

}  // namespace kinship::spool::test
