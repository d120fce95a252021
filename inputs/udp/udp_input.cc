#include "inputs/udp/udp_input.h"

#include <sys/socket.h>

#include <asio/ip/udp.hpp>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

#include "common/log.h"

namespace kinship::inputs {

namespace {

DatagramReader::Options readerOptions(const std::string& id, const UdpInputConfig& config) {
  DatagramReader::Options o;
  o.parser = config.parser;
  o.framing = config.splitLines ? DatagramReader::Framing::kSplitLines : DatagramReader::Framing::kWhole;
  o.bufferSize = config.maxDatagramSize;
  o.batchDatagrams = config.batchDatagrams;
  o.oversizeReason = "truncated";
  o.countKernelDrops = true;
  o.senderAsSource = true;
  o.component = "udp";
  o.name = "udp input " + id + " on " + config.listenText;
  return o;
}

// Asks for `wanted` bytes of receive buffer; warns when the kernel grants
// less (it caps requests at net.core.rmem_max, and reports double what it
// was asked for, the extra being its bookkeeping).
void setReceiveBuffer(int fd, size_t wanted, const std::string& name) {
  int asked = static_cast<int>(std::min<size_t>(wanted, INT_MAX / 2));
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &asked, sizeof(asked)) != 0) {
    log::warn("udp", "{}: cannot set receive_buffer_size: {}", name, std::strerror(errno));
    return;
  }
  int granted = 0;
  socklen_t length = sizeof(granted);
  if (::getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &granted, &length) == 0 && granted / 2 < asked) {
    log::warn("udp",
              "{}: the kernel granted a receive buffer of {} bytes instead of the {} asked for "
              "(receive_buffer_size); raise net.core.rmem_max to absorb larger bursts",
              name, granted / 2, asked);
  }
}

}  // namespace

UdpInput::UdpInput(const InputContext& context, UdpInputConfig config)
    : io_(context.io),
      id_(context.id),
      config_(std::move(config)),
      reader_(context, readerOptions(context.id, config_)) {}

UdpInput::~UdpInput() = default;

std::string UdpInput::name() const { return "udp input " + id_ + " on " + config_.listenText; }

Status UdpInput::start() {
  auto endpoints = resolveUdpEndpoints(config_.listen);
  if (!endpoints) return Status::invalidArgument(name() + ": " + endpoints.error().message());

  asio::ip::udp::socket socket(io_);
  asio::error_code ec;
  // A name may resolve to several addresses ("localhost": ::1 and
  // 127.0.0.1); the first that binds wins, so a host without IPv6 still works.
  for (const auto& endpoint : *endpoints) {
    asio::error_code ignored;
    socket.close(ignored);
    socket.open(endpoint.protocol(), ec);
    if (ec) continue;
    // Before bind, so no datagram arrives into a default-sized buffer.
    setReceiveBuffer(socket.native_handle(), config_.receiveBufferSize, name());
    // The drop count on each datagram: a second source next to SO_MEMINFO
    // (see DatagramReader), so that kernels without it still count drops.
    int on = 1;
    if (::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RXQ_OVFL, &on, sizeof(on)) != 0) {
      log::debug("udp", "{}: cannot enable SO_RXQ_OVFL ({})", name(), std::strerror(errno));
    }
    socket.bind(endpoint, ec);
    if (!ec) break;
  }
  if (ec) return Status::ioError(fmt::format("{}: cannot listen: {}", name(), ec.message()));

  auto local = socket.local_endpoint(ec);
  if (ec) return Status::ioError(fmt::format("{}: cannot read the bound address: {}", name(), ec.message()));
  port_ = local.port();
  const int family = local.protocol().family();
  int fd = socket.release(ec);
  if (ec) return Status::ioError(fmt::format("{}: cannot hand the socket over: {}", name(), ec.message()));
  if (Status s = reader_.start(fd, family); !s) return s;
  log::info("udp", "{}: listening on port {}", name(), port_);
  return Status::ok();
}

void UdpInput::stop() { reader_.stop(); }

}  // namespace kinship::inputs
