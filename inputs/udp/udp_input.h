#pragma once
// UdpInput: receives log records as UDP datagrams (syslog-style senders,
// StatsD-like fire-and-forget loggers) on one IPv4 or IPv6 address. Each
// datagram is a record, or each line of it with split_lines. UDP cannot be
// paused: when the pipeline's queue is full, datagrams are received and
// counted as dropped (see DatagramReader), as are those the kernel dropped
// because the socket's receive buffer overflowed.
// Threading: lives on the I/O thread (see inputs/input.h).

#include <cstdint>

#include "inputs/input.h"
#include "inputs/udp/datagram_reader.h"
#include "inputs/udp/udp_input_config.h"

namespace kinship::inputs {

class UdpInput final : public Input {
 public:
  UdpInput(const InputContext& context, UdpInputConfig config);
  ~UdpInput() override;

  Status start() override;
  void stop() override;

  // The bound port (the kernel's choice for port 0); 0 before start().
  uint16_t localPort() const { return port_; }

 private:
  std::string name() const;

  asio::io_context& io_;
  std::string id_;
  UdpInputConfig config_;
  DatagramReader reader_;
  uint16_t port_ = 0;
};

}  // namespace kinship::inputs
