#pragma once
// DatagramSender: the sending half of kinship-datagram-sender. Connects a
// datagram socket to the target, then sends numbered datagrams at a fixed
// rate in bursts (one sendmmsg call each) and counts exactly what the kernel
// accepted: a send the kernel refuses for now (EAGAIN: the socket buffer, or
// a Unix receiver's queue, is full; ENOBUFS) is retried after waiting, so
// "sent" equals the count asked for unless a hard error stops the run.
//
// Threading: one thread; blocking.

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "tests/support/datagram_sender/sender_options.h"

namespace kinship::sender {

struct SendSummary {
  uint64_t sent = 0;   // datagrams the kernel accepted
  uint64_t bytes = 0;  // their payload bytes
  double seconds = 0;  // from the first send to the last
  uint64_t eagainWaits = 0;
  uint64_t enobufsWaits = 0;
  std::string error;  // empty unless the run stopped early

  double rate() const { return seconds > 0 ? static_cast<double>(sent) / seconds : 0; }
  // One JSON line (no newline).
  std::string toJson(const SenderOptions& options) const;
};

// Writes datagram `seq` into `out`, exactly `size` bytes when size is at
// least minimumDatagramSize(seq, tag, newline). Returns the length written.
size_t formatDatagram(uint64_t seq, std::string_view tag, size_t size, bool newline, char* out);

class DatagramSender {
 public:
  explicit DatagramSender(SenderOptions options);
  ~DatagramSender();
  DatagramSender(const DatagramSender&) = delete;
  DatagramSender& operator=(const DatagramSender&) = delete;

  // Creates the socket and connects it to the target.
  Status connect();
  // Sends options.count datagrams; returns what was sent, and why it
  // stopped early if it did.
  SendSummary run();

 private:
  // Sends datagrams [0, n) of the prepared burst; false on a hard error.
  bool sendBurst(int n, SendSummary& summary);

  SenderOptions options_;
  int fd_ = -1;
  std::vector<char> buffers_;  // burst slots of options_.size bytes
  std::vector<iovec> iovecs_;
  std::vector<mmsghdr> headers_;
};

}  // namespace kinship::sender
