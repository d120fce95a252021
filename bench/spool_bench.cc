// spool_bench: append, then read + ack, throughput of the disk spool for
// each fsync policy, with 200-byte records in 1 MiB batches, into a fresh
// temp dir per policy. One line per policy; MB = 10^6 bytes of record data
// (data + partition key), the spool's own framing not counted.
//
//   spool_bench [MiB per policy, default 512] [parent dir, default $TMPDIR or /tmp]
//
// The read phase follows the append phase, so it mostly reads from the page
// cache: it measures the spool's CPU cost (CRC, decode, ack bookkeeping),
// not the disk. The append phase under "always" measures the disk's fsync.

#include <stdlib.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include "common/log.h"
#include "spool/spool.h"

namespace {

using namespace kinship;
using Clock = std::chrono::steady_clock;

pipeline::RecordBatch makeBatch() {
  constexpr size_t kBatchBytes = 1 << 20;
  constexpr size_t kRecordBytes = 200;
  pipeline::RecordBatch b;
  std::string data(kRecordBytes - 16, 'x');
  std::string key(16, 'k');
  for (size_t i = 0; b.bytes() + kRecordBytes <= kBatchBytes; ++i) {
    std::snprintf(data.data(), data.size(), "%012zu", i);  // varied bytes for the CRC
    data[12] = '|';
    b.append(data, key);
  }
  return b;
}

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

int run(const char* name, spool::FsyncPolicy policy, const std::string& parent, int mib, const pipeline::RecordBatch& batch) {
  std::string tmpl = parent + "/kinship-spool-bench-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  spool::SpoolOptions o;
  o.dir = tmpl + "/spool";
  o.fsync = policy;
  o.fsyncInterval = std::chrono::seconds(1);
  o.maxTotalBytes = (static_cast<uint64_t>(mib) + 128) << 20;
  auto opened = spool::openDiskSpool(o);
  if (!opened) {
    std::fprintf(stderr, "open: %s\n", opened.error().message().c_str());
    return 1;
  }
  auto& s = **opened;
  const double mb = static_cast<double>(batch.bytes()) * mib / 1e6;

  auto t0 = Clock::now();
  for (int i = 0; i < mib; ++i) {
    auto id = s.append(batch);
    if (!id) {
      std::fprintf(stderr, "append: %s\n", id.error().message().c_str());
      return 1;
    }
  }
  auto t1 = Clock::now();
  int read = 0;
  size_t records = 0;
  for (;;) {
    auto r = s.readNext();
    if (!r) {
      std::fprintf(stderr, "read: %s\n", r.error().message().c_str());
      return 1;
    }
    if (!*r) break;
    records += (*r)->batch.size();
    ++read;
    if (auto st = s.ack((*r)->id); !st) {
      std::fprintf(stderr, "ack: %s\n", st.message().c_str());
      return 1;
    }
  }
  auto t2 = Clock::now();
  spool::SpoolStats st = s.stats();
  if (read != mib || records != batch.size() * static_cast<size_t>(mib)) {
    std::fprintf(stderr, "read back %d batches, %zu records\n", read, records);
    return 1;
  }
  const double fsyncMs = st.fsyncsTotal == 0 ? 0.0 : static_cast<double>(st.fsyncNanosTotal) / 1e6 / static_cast<double>(st.fsyncsTotal);
  std::printf(
      "policy=%-8s batches=%d records=%zu MB=%.1f append=%.1f MB/s read+ack=%.1f MB/s append+read+ack=%.1f MB/s fsyncs=%llu "
      "fsync_avg=%.2f ms\n",
      name, mib, records, mb, mb / seconds(t1 - t0), mb / seconds(t2 - t1), mb / seconds(t2 - t0),
      static_cast<unsigned long long>(st.fsyncsTotal), fsyncMs);
  std::fflush(stdout);
  opened->reset();
  std::error_code ec;
  std::filesystem::remove_all(tmpl, ec);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  int mib = argc > 1 ? std::atoi(argv[1]) : 512;
  const char* tmp = std::getenv("TMPDIR");
  std::string parent = argc > 2 ? argv[2] : (tmp != nullptr ? tmp : "/tmp");
  if (mib <= 0) {
    std::fprintf(stderr, "usage: spool_bench [MiB per policy] [parent dir]\n");
    return 2;
  }
  log::configure(log::Level::kWarn, log::Format::kText);
  const pipeline::RecordBatch batch = makeBatch();
  int rc = 0;
  rc |= run("always", spool::FsyncPolicy::kAlways, parent, mib, batch);
  rc |= run("interval", spool::FsyncPolicy::kInterval, parent, mib, batch);
  rc |= run("never", spool::FsyncPolicy::kNever, parent, mib, batch);
  return rc;
}
