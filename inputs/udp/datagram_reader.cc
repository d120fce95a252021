#include "inputs/udp/datagram_reader.h"

#include <arpa/inet.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <prometheus/counter.h>

#include <asio/post.hpp>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "common/log.h"

namespace kinship::inputs {

namespace {

// recvmmsg calls per wake-up before yielding, so a flood on one socket
// leaves room for the other inputs, the admin endpoint and signals.
constexpr int kMaxCallsPerWake = 16;
// Submit early when a batch gets big, to keep memory per input bounded.
constexpr size_t kBatchFlushBytes = 1024 * 1024;
// Drops are counted in metrics; the log gets at most one line per interval.
constexpr auto kWarningInterval = std::chrono::seconds(10);
// After an unexpected receive error, wait before trying again rather than spin.
constexpr auto kRetryDelay = std::chrono::milliseconds(100);

std::string_view stripOneNewline(std::string_view d) {
  if (d.ends_with('\n')) {
    d.remove_suffix(1);
    if (d.ends_with('\r')) d.remove_suffix(1);
  }
  return d;
}

}  // namespace

DatagramReader::DatagramReader(const InputContext& context, Options options)
    : io_(context.io),
      clock_(*context.clock),
      pipeline_(context.pipeline),
      options_(std::move(options)),
      socket_(context.io),
      retryTimer_(context.io),
      alive_(std::make_shared<bool>(true)),
      records_(inputRecordsCounter(context.metrics, inputLabels(context))),
      bytes_(inputBytesCounter(context.metrics, inputLabels(context))),
      droppedOversize_(inputDroppedCounter(context.metrics, inputLabels(context), options_.oversizeReason)),
      droppedEmpty_(inputDroppedCounter(context.metrics, inputLabels(context), "empty")),
      droppedQueueFull_(inputDroppedCounter(context.metrics, inputLabels(context), "queue_full")) {
  if (options_.countKernelDrops) {
    droppedKernel_ = &inputDroppedCounter(context.metrics, inputLabels(context), "kernel_overflow");
  }
}

DatagramReader::~DatagramReader() {
  *alive_ = false;
  stop();
}

Status DatagramReader::start(int fd, int family) {
  asio::error_code ec;
  socket_.assign(asio::generic::datagram_protocol(family, 0), fd, ec);
  if (ec) {
    ::close(fd);
    return Status::ioError(fmt::format("{}: cannot register the socket: {}", options_.name, ec.message()));
  }
  socket_.non_blocking(true, ec);
  if (ec) {
    return Status::ioError(fmt::format("{}: cannot make the socket non-blocking: {}", options_.name, ec.message()));
  }

  const size_t count = static_cast<size_t>(options_.batchDatagrams);
  stride_ = options_.bufferSize + pipeline::kParsePadding;
  // Not zeroed: pages the kernel never writes into stay unbacked, so a large
  // buffer costs memory only as large datagrams arrive.
  slots_ = std::make_unique_for_overwrite<char[]>(count * stride_);
  iovecs_.resize(count);
  controls_.resize(count);
  headers_.resize(count);
  if (options_.senderAsSource && pipeline_.wantsSource()) senders_.resize(count);
  for (size_t i = 0; i < count; ++i) {
    iovecs_[i].iov_base = slots_.get() + i * stride_;
    iovecs_[i].iov_len = options_.bufferSize;
  }
  running_ = true;
  // Datagrams may have arrived between bind and now; asio's wait would not
  // report readiness the reactor saw before it was asked, so drain first.
  asio::post(io_, [this, alive = alive_] {
    if (*alive && running_) drain();
  });
  return Status::ok();
}

void DatagramReader::stop() {
  if (!running_ && !socket_.is_open()) return;
  running_ = false;
  asio::error_code ignored;
  retryTimer_.cancel();
  if (options_.countKernelDrops) pollKernelDrops();  // while the socket is still open
  socket_.close(ignored);
  finishWake();
  batch_.reset();
}

void DatagramReader::waitReadable() {
  socket_.async_wait(asio::socket_base::wait_read, [this, alive = alive_](const asio::error_code& ec) {
    if (ec || !*alive || !running_) return;
    drain();
  });
}

void DatagramReader::drain() {
  const int fd = socket_.native_handle();
  for (int call = 0; call < kMaxCallsPerWake; ++call) {
    for (size_t i = 0; i < headers_.size(); ++i) {
      msghdr& h = headers_[i].msg_hdr;
      h = msghdr{};
      h.msg_iov = &iovecs_[i];
      h.msg_iovlen = 1;
      if (!senders_.empty()) {
        h.msg_name = &senders_[i];
        h.msg_namelen = sizeof(senders_[i]);
      }
      if (options_.countKernelDrops) {
        h.msg_control = controls_[i].bytes;
        h.msg_controllen = sizeof(controls_[i].bytes);
      }
      headers_[i].msg_len = 0;
    }
    int n = ::recvmmsg(fd, headers_.data(), static_cast<unsigned>(headers_.size()), MSG_DONTWAIT, nullptr);
    if (n < 0) {
      int err = errno;
      if (err == EINTR) continue;
      finishWake();
      if (err == EAGAIN || err == EWOULDBLOCK) {
        // Drained: the next datagram is a new readiness edge for the wait.
        waitReadable();
      } else {
        log::warn(options_.component, "{}: receive failed ({}); retrying in {} ms", options_.name, std::strerror(err),
                  kRetryDelay.count());
        retryLater();
      }
      return;
    }
    handleReceived(n);
  }
  finishWake();
  // Still more to read: come back after whatever else is ready.
  asio::post(io_, [this, alive = alive_] {
    if (*alive && running_) drain();
  });
}

void DatagramReader::retryLater() {
  retryTimer_.expires_after(kRetryDelay);
  retryTimer_.async_wait([this, alive = alive_](const asio::error_code& ec) {
    if (ec || !*alive || !running_) return;
    drain();
  });
}

void DatagramReader::handleReceived(int count) {
  // One look at the queue per call: it only fills through our own submits,
  // after which we look again.
  bool queueFull = pipeline_.queue().full();
  for (int i = 0; i < count; ++i) {
    msghdr& h = headers_[i].msg_hdr;
    if (options_.countKernelDrops) noteKernelDrops(h);
    if (h.msg_flags & MSG_TRUNC) {
      droppedOversize_.add();
      continue;
    }
    const pipeline::RecordOrigin origin{.source = senders_.empty() ? std::string_view(options_.source)
                                                                   : senderOf(static_cast<size_t>(i))};
    handleDatagram(std::string_view(slots_.get() + static_cast<size_t>(i) * stride_, headers_[i].msg_len), queueFull,
                   origin);
  }
}

std::string_view DatagramReader::senderOf(size_t i) {
  const msghdr& h = headers_[i].msg_hdr;
  if (h.msg_namelen == lastSenderLength_ && std::memcmp(&senders_[i], &lastSender_, h.msg_namelen) == 0) {
    return sender_;
  }
  lastSenderLength_ = h.msg_namelen;
  std::memcpy(&lastSender_, &senders_[i], h.msg_namelen);
  sender_.clear();
  char host[INET6_ADDRSTRLEN] = {};
  uint16_t port = 0;
  if (senders_[i].ss_family == AF_INET) {
    const auto& a = reinterpret_cast<const sockaddr_in&>(senders_[i]);
    ::inet_ntop(AF_INET, &a.sin_addr, host, sizeof(host));
    sender_ += host;
    port = ntohs(a.sin_port);
  } else if (senders_[i].ss_family == AF_INET6) {
    const auto& a = reinterpret_cast<const sockaddr_in6&>(senders_[i]);
    ::inet_ntop(AF_INET6, &a.sin6_addr, host, sizeof(host));
    sender_ += '[';
    sender_ += host;
    sender_ += ']';
    port = ntohs(a.sin6_port);
  } else {
    return sender_;  // unknown: no source
  }
  char digits[8];
  auto end = std::to_chars(digits, digits + sizeof(digits), port).ptr;
  sender_ += ':';
  sender_.append(digits, end);
  return sender_;
}

void DatagramReader::handleDatagram(std::string_view datagram, bool& queueFull, const pipeline::RecordOrigin& origin) {
  // Classify first, so each datagram lands in exactly one count.
  if (options_.framing == Framing::kStripNewline) datagram = stripOneNewline(datagram);
  if (options_.framing == Framing::kSplitLines) {
    // Empty lines at the end do not count as content.
    std::string_view content = datagram;
    while (!content.empty() && (content.back() == '\n' || content.back() == '\r')) content.remove_suffix(1);
    if (content.empty()) {
      droppedEmpty_.add();
      return;
    }
  } else if (datagram.empty()) {
    droppedEmpty_.add();
    return;
  }
  if (datagram.size() > options_.maxRecordSize) {
    droppedOversize_.add();
    return;
  }
  if (queueFull) {
    droppedQueueFull_.add();
    ++droppedThisEpisode_;
    if (!droppingForQueue_) {
      droppingForQueue_ = true;
      log::warn(options_.component, "{}: pipeline queue full: dropping datagrams until the sink catches up",
                options_.name);
    }
    return;
  }
  if (droppingForQueue_) {
    droppingForQueue_ = false;
    log::info(options_.component, "{}: pipeline queue has room again; dropped {} datagrams while it was full",
              options_.name, droppedThisEpisode_);
    droppedThisEpisode_ = 0;
  }

  if (!batch_) batch_ = pipeline_.queue().acquire();
  // Records are views into the slot, whose buffer extends kParsePadding
  // bytes past any datagram, as addLine() requires.
  if (options_.framing != Framing::kSplitLines) {
    records_.add();
    bytes_.add(datagram.size());
    pipeline_.addLine(datagram, options_.parser, *batch_, origin);
  } else {
    size_t emptyLinesHeld = 0;  // shipped only if a non-empty line follows
    while (!datagram.empty()) {
      size_t nl = datagram.find('\n');
      std::string_view line = datagram.substr(0, nl);
      if (nl != std::string_view::npos && line.ends_with('\r')) line.remove_suffix(1);
      datagram.remove_prefix(nl == std::string_view::npos ? datagram.size() : nl + 1);
      if (line.empty()) {
        ++emptyLinesHeld;
        continue;
      }
      for (; emptyLinesHeld > 0; --emptyLinesHeld) {
        records_.add();
        pipeline_.addLine(std::string_view(line.data(), 0), options_.parser, *batch_, origin);
      }
      records_.add();
      bytes_.add(line.size());
      pipeline_.addLine(line, options_.parser, *batch_, origin);
    }
  }
  if (batch_->bytes() >= kBatchFlushBytes) {
    submitBatch();
    queueFull = pipeline_.queue().full();
  }
}

void DatagramReader::noteKernelDrops(msghdr& header) {
  // The kernel attaches the socket's cumulative drop count, as it stood when
  // the datagram was queued, once it is non-zero.
  for (cmsghdr* c = CMSG_FIRSTHDR(&header); c != nullptr; c = CMSG_NXTHDR(&header, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SO_RXQ_OVFL) continue;
    uint32_t total = 0;
    std::memcpy(&total, CMSG_DATA(c), sizeof(total));
    addKernelDrops(total);
  }
}

void DatagramReader::pollKernelDrops() {
  // The SO_RXQ_OVFL value rides on datagrams, so the drops after the last
  // datagram queued (the tail of a flood that overflowed the buffer) would
  // wait for the next datagram, perhaps for ever. The counter itself, read
  // now, has them all: the kernel drops for a full buffer only while
  // datagrams are queued (it lets one past the limit of an empty buffer),
  // and every wake-up reads until the queue is empty or comes back to it.
  // (Drops for other reasons, such as system-wide UDP memory pressure, may
  // come with an empty queue: those are counted at the next wake-up.)
  if (!memInfoWorks_ || !socket_.is_open()) return;
  uint32_t info[SK_MEMINFO_VARS] = {};
  socklen_t length = sizeof(info);
  if (::getsockopt(socket_.native_handle(), SOL_SOCKET, SO_MEMINFO, info, &length) != 0 ||
      length < (SK_MEMINFO_DROPS + 1) * sizeof(uint32_t)) {
    memInfoWorks_ = false;
    log::warn(options_.component,
              "{}: cannot read the socket's drop counter (SO_MEMINFO: {}); datagrams the kernel drops are "
              "counted late, when a later datagram arrives",
              options_.name, std::strerror(errno));
    return;
  }
  addKernelDrops(info[SK_MEMINFO_DROPS]);
}

void DatagramReader::addKernelDrops(uint32_t total) {
  // `total` is the socket's cumulative count; the difference from the last
  // value seen is what was lost since. A value behind it (an older
  // datagram's SO_RXQ_OVFL) is ignored.
  uint32_t delta = total - kernelDropsSeen_;  // unsigned: survives wrap-around
  if (delta == 0 || delta >= (1u << 31)) return;
  kernelDropsSeen_ = total;
  droppedKernel_->Increment(static_cast<double>(delta));
  auto now = clock_.now();
  if (now - lastWarning_ >= kWarningInterval) {
    lastWarning_ = now;
    log::warn(options_.component,
              "{}: the kernel dropped {} datagrams because the socket buffer was full ({} so far); "
              "raise receive_buffer_size (and net.core.rmem_max) or add CPU",
              options_.name, delta, total);
  }
}

void DatagramReader::finishWake() {
  if (droppedOversize_.pending() != 0) {
    auto now = clock_.now();
    if (now - lastWarning_ >= kWarningInterval) {
      lastWarning_ = now;
      log::warn(options_.component, "{}: dropped {} datagrams longer than {} bytes ({})", options_.name,
                droppedOversize_.pending(),
                options_.maxRecordSize == SIZE_MAX ? options_.bufferSize : options_.maxRecordSize,
                options_.oversizeReason);
    }
  }
  if (options_.countKernelDrops) pollKernelDrops();
  submitBatch();
  droppedOversize_.publish();
  droppedEmpty_.publish();
  droppedQueueFull_.publish();
}

void DatagramReader::submitBatch() {
  records_.publish();
  bytes_.publish();
  if (batch_ && !batch_->empty()) pipeline_.submit(std::move(batch_));
}

}  // namespace kinship::inputs
