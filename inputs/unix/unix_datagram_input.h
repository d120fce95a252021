#pragma once
// UnixDatagramInput: a Unix datagram socket such as /dev/log: each datagram
// is one record, less one trailing newline. Received in batches by
// DatagramReader; while the pipeline's queue is full, datagrams are still
// read and counted as dropped (kinship_input_dropped_total{reason=
// "queue_full"}), so that senders (often an application's syslog() call)
// never block on kinship.
// Threading: lives on the I/O thread (see inputs/input.h).

#include "inputs/input.h"
#include "inputs/udp/datagram_reader.h"
#include "inputs/unix/unix_input_config.h"
#include "inputs/unix/unix_socket_file.h"

namespace kinship::inputs {

class UnixDatagramInput final : public Input {
 public:
  UnixDatagramInput(const InputContext& context, UnixInputConfig config);
  ~UnixDatagramInput() override;

  Status start() override;
  void stop() override;

 private:
  std::string name_;
  UnixInputConfig config_;
  UnixSocketFile file_;
  DatagramReader reader_;
};

}  // namespace kinship::inputs
