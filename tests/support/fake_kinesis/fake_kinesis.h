#pragma once
// FakeKinesis: the project's own Kinesis Data Streams endpoint for tests and
// benchmarks, in process. Unlike kinesalite it enforces per-shard limits
// (records/s and bytes/s over a sliding one-second window), injects faults
// (per-record and per-request errors, dropped connections, slow answers; by
// seeded rate or by schedule), and keeps a log and counters of what it
// accepted, duplicates included. It speaks the JSON 1.1 protocol over
// HTTP/1.1 on 127.0.0.1 with keep-alive; SigV4 signatures are required to be
// present, not checked.
//
// Usage in a test:
//
//   FakeOptions options;
//   options.streams = {{"logs", 4, unevenSplits(4)}};
//   options.clock = &manualClock;  // windows slide when the test says so
//   FakeKinesis fake(options);
//   ... point the client at fake.url() ...
//   EXPECT_EQ(fake.stats().recordsAccepted, 1000u);
//
// The control API (for other processes, e.g. the standalone binary) is under
// /_fake/ on the same port; see README.md in this folder.
//
// Threading: every member is thread-safe. The constructor starts
// options.threads threads running the server; the destructor stops and joins
// them.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/status.h"
#include "tests/support/fake_kinesis/faults.h"
#include "tests/support/fake_kinesis/hash_key.h"
#include "tests/support/fake_kinesis/options.h"
#include "tests/support/fake_kinesis/record_log.h"

namespace asio {
class io_context;
}

namespace kinship::fake {

class KinesisService;
class HttpServer;

class FakeKinesis {
 public:
  // Listens and starts serving; throws std::runtime_error if it cannot
  // (address in use, record log not writable, bad stream spec).
  explicit FakeKinesis(FakeOptions options);
  // The same without exceptions, for main().
  static Result<std::unique_ptr<FakeKinesis>> start(FakeOptions options);
  ~FakeKinesis();
  FakeKinesis(const FakeKinesis&) = delete;
  FakeKinesis& operator=(const FakeKinesis&) = delete;

  uint16_t port() const { return port_; }
  std::string url() const;  // "http://127.0.0.1:PORT"

  Stats stats() const;
  // Records accepted (and kept: see FakeOptions::maxStoredRecords), in order.
  std::vector<StoredRecord> records(size_t from = 0, size_t limit = SIZE_MAX) const;

  Faults faults() const;
  // Replaces the faults; scheduled faults count requests from here.
  void setFaults(const Faults& faults);
  void clearFaults() { setFaults(Faults{}); }
  // Per-shard limits from now on (0: none).
  void setLimits(uint64_t recordsPerSecond, uint64_t bytesPerSecond);

  // Splits: starting hash keys of shards 1..n-1; empty: even.
  Status createStream(std::string name, int shardCount, std::vector<HashKey> splits = {});
  Status deleteStream(std::string_view name);
  std::string streamArn(std::string_view name) const;
  // Back to the state at start (streams, limits, faults), counters and record
  // log cleared.
  void reset();

  // Stops serving (idempotent; the destructor calls it). Flushes the record
  // log file.
  void stop();

 private:
  struct NoThrow {};
  FakeKinesis(FakeOptions options, NoThrow);
  Status init();

  std::unique_ptr<KinesisService> service_;
  std::unique_ptr<asio::io_context> io_;
  std::unique_ptr<HttpServer> server_;
  std::vector<std::thread> threads_;
  uint16_t port_ = 0;
  bool stopped_ = false;
};

}  // namespace kinship::fake
