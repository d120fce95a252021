#pragma once
// DatagramReader: the receiving half of the datagram inputs (UDP, and Unix
// sockets in datagram mode). It takes a bound socket, waits on it through
// Asio, and drains it with recvmmsg into buffers allocated once at start, so
// a datagram costs no heap allocation; each datagram becomes records in the
// pipeline's current batch.
//
// A datagram sender cannot be told to wait, so the reader never pauses: when
// the pipeline's queue is full it keeps draining the socket and counts what
// it drops (kinship_input_dropped_total{reason="queue_full"}); it also
// counts what the kernel dropped because the socket buffer was full
// (reason="kernel_overflow"), from the socket's own drop counter. Every
// datagram is counted exactly once: as records, or under one drop reason.
//
// Threading: lives on the I/O thread (see inputs/input.h).

#include <sys/socket.h>

// Standard headers before Asio's: Asio chooses how it allocates handler
// memory by whether libstdc++'s configuration is already included, and every
// translation unit must make the same choice (else memory allocated in one is
// freed by the other's mismatched function).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <asio/generic/datagram_protocol.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include "common/clock.h"
#include "common/status.h"
#include "inputs/input.h"
#include "inputs/input_metrics.h"
#include "pipeline/pipeline.h"

namespace prometheus {
class Counter;
}

namespace kinship::inputs {

class DatagramReader {
 public:
  enum class Framing {
    kWhole,         // the datagram is the record, byte for byte
    kSplitLines,    // each "\n"-terminated line is a record ("\r\n" too); trailing empty lines dropped
    kStripNewline,  // the datagram is the record, less one trailing "\n" or "\r\n" (syslog style)
  };
  struct Options {
    pipeline::Parser parser = pipeline::Parser::kRaw;
    Framing framing = Framing::kWhole;
    // Receive buffer per datagram. A longer datagram is cut by the kernel;
    // it is dropped and counted under `oversizeReason`.
    size_t bufferSize = 64 * 1024;
    // Longest record after framing; longer ones are dropped like cut ones.
    size_t maxRecordSize = SIZE_MAX;
    int batchDatagrams = 64;
    std::string oversizeReason = "truncated";
    // Count what the kernel dropped: read the socket's drop counter at the
    // end of every wake-up (SO_MEMINFO), and from the SO_RXQ_OVFL value on
    // each datagram when the socket has that option set.
    bool countKernelDrops = false;
    // What the pipeline's `source` field says of each record: this text
    // (a unix socket's path), or, with senderAsSource, the sender's
    // address ("ip:port"), formatted only when the pipeline reads it.
    std::string source;
    bool senderAsSource = false;
    std::string component = "udp";  // for log lines
    std::string name;               // "udp_0 on 127.0.0.1:5514", for log lines
  };

  DatagramReader(const InputContext& context, Options options);
  ~DatagramReader();
  DatagramReader(const DatagramReader&) = delete;
  DatagramReader& operator=(const DatagramReader&) = delete;

  // Takes ownership of `fd`, a bound datagram socket of `family` (closed on
  // error too), and starts receiving.
  Status start(int fd, int family);
  // Closes the socket and submits what was received; idempotent.
  void stop();

 private:
  // Per-datagram control buffer: room for the SO_RXQ_OVFL counter.
  struct alignas(cmsghdr) Control {
    char bytes[CMSG_SPACE(sizeof(uint32_t))];
  };

  void waitReadable();
  void drain();
  void handleReceived(int count);
  void handleDatagram(std::string_view datagram, bool& queueFull, const pipeline::RecordOrigin& origin);
  // The sender of datagram `i` as "ip:port" ("[::1]:5514"), in sender_;
  // formatted again only when it differs from the previous datagram's.
  std::string_view senderOf(size_t i);
  void noteKernelDrops(msghdr& header);
  void pollKernelDrops();
  void addKernelDrops(uint32_t total);
  void finishWake();
  void submitBatch();
  void retryLater();

  asio::io_context& io_;
  const Clock& clock_;  // paces the warnings
  pipeline::Pipeline& pipeline_;
  Options options_;
  asio::generic::datagram_protocol::socket socket_;
  asio::steady_timer retryTimer_;
  bool running_ = false;
  // Lets handlers still queued after destruction find out the reader is gone.
  std::shared_ptr<bool> alive_;

  size_t stride_ = 0;              // bytes per datagram slot: bufferSize + parse padding
  std::unique_ptr<char[]> slots_;  // batchDatagrams slots
  std::vector<iovec> iovecs_;
  std::vector<Control> controls_;
  std::vector<mmsghdr> headers_;
  std::vector<sockaddr_storage> senders_;  // per slot; empty unless the pipeline reads senders
  sockaddr_storage lastSender_{};
  socklen_t lastSenderLength_ = 0;
  std::string sender_;
  pipeline::BatchPtr batch_;

  uint32_t kernelDropsSeen_ = 0;   // the socket's cumulative drop counter, last value read
  bool memInfoWorks_ = true;       // false once SO_MEMINFO failed (a kernel before 4.6)
  bool droppingForQueue_ = false;  // between the first queue_full drop and the next record kept
  uint64_t droppedThisEpisode_ = 0;
  Clock::TimePoint lastWarning_{};

  PendingCount records_;
  PendingCount bytes_;
  PendingCount droppedOversize_;
  PendingCount droppedEmpty_;
  PendingCount droppedQueueFull_;
  prometheus::Counter* droppedKernel_ = nullptr;
};

}  // namespace kinship::inputs
