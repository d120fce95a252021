#include "tests/support/datagram_sender/datagram_sender.h"

#include <netdb.h>
#include <poll.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

namespace kinship::sender {

namespace {

using Clock = std::chrono::steady_clock;

// How long to wait for room after EAGAIN before looking again; the wait
// ends early as soon as the socket is writable.
constexpr int kWritablePollMs = 100;
// ENOBUFS cannot be waited for with poll: back off briefly.
constexpr auto kNoBuffersPause = std::chrono::microseconds(200);

void sleepUntil(Clock::time_point when) {
  // steady_clock is CLOCK_MONOTONIC with libstdc++ on Linux.
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(when.time_since_epoch()).count();
  timespec ts{.tv_sec = static_cast<time_t>(ns / 1000000000), .tv_nsec = static_cast<long>(ns % 1000000000)};
  while (::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
  }
}

std::string jsonEscape(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) {
      out += fmt::format("\\u{:04x}", static_cast<unsigned char>(c));
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace

size_t formatDatagram(uint64_t seq, std::string_view tag, size_t size, bool newline, char* out) {
  const size_t minimum = minimumDatagramSize(seq, tag, newline);
  const size_t pad = size > minimum ? size - minimum : 0;
  char* p = fmt::format_to(out, R"({{"seq":{},"src":"{}","pad":")", seq, tag);
  std::memset(p, 'x', pad);
  p += pad;
  *p++ = '"';
  *p++ = '}';
  if (newline) *p++ = '\n';
  return static_cast<size_t>(p - out);
}

std::string SendSummary::toJson(const SenderOptions& options) const {
  std::string out = fmt::format(
      R"({{"target":"{}","sent":{},"bytes":{},"seconds":{:.3f},"rate":{:.1f},"size":{},"first_seq":{},)"
      R"("asked_rate":{},"burst":{},"eagain_waits":{},"enobufs_waits":{})",
      jsonEscape(options.targetText()), sent, bytes, seconds, rate(), options.size, options.firstSeq, options.rate,
      options.burst, eagainWaits, enobufsWaits);
  if (!error.empty()) out += fmt::format(R"(,"error":"{}")", jsonEscape(error));
  out += '}';
  return out;
}

DatagramSender::DatagramSender(SenderOptions options) : options_(std::move(options)) {}

DatagramSender::~DatagramSender() {
  if (fd_ >= 0) ::close(fd_);
}

Status DatagramSender::connect() {
  if (options_.kind == SenderOptions::Kind::kUnix) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return Status::ioError(fmt::format("cannot create a Unix socket: {}", std::strerror(errno)));
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, options_.path.data(), options_.path.size());
    if (::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
      return Status::ioError(fmt::format("cannot connect to {}: {}", options_.path, std::strerror(errno)));
    }
  } else {
    addrinfo hints{};
    hints.ai_socktype = SOCK_DGRAM;
    hints.ai_flags = AI_NUMERICSERV;
    addrinfo* found = nullptr;
    const std::string port = std::to_string(options_.port);
    if (int rc = ::getaddrinfo(options_.host.c_str(), port.c_str(), &hints, &found); rc != 0) {
      return Status::invalidArgument(fmt::format("cannot resolve {}: {}", options_.host, ::gai_strerror(rc)));
    }
    // A name may give several addresses (localhost: ::1, 127.0.0.1): the first that connects.
    int err = 0;
    for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
      int fd = ::socket(a->ai_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (fd < 0) {
        err = errno;
        continue;
      }
      if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
        fd_ = fd;
        break;
      }
      err = errno;
      ::close(fd);
    }
    ::freeaddrinfo(found);
    if (fd_ < 0) return Status::ioError(fmt::format("cannot connect to {}: {}", options_.targetText(), std::strerror(err)));
  }

  const size_t burst = static_cast<size_t>(options_.burst);
  buffers_.resize(burst * options_.size);
  iovecs_.resize(burst);
  headers_.resize(burst);
  return Status::ok();
}

bool DatagramSender::sendBurst(int n, SendSummary& summary) {
  int done = 0;
  while (done < n) {
    int r = ::sendmmsg(fd_, headers_.data() + done, static_cast<unsigned>(n - done), 0);
    if (r > 0) {
      for (int i = done; i < done + r; ++i) summary.bytes += iovecs_[static_cast<size_t>(i)].iov_len;
      done += r;
      summary.sent += static_cast<uint64_t>(r);
      continue;
    }
    const int err = r == 0 ? EAGAIN : errno;
    if (err == EINTR) continue;
    if (err == EAGAIN || err == EWOULDBLOCK) {
      // The socket's send buffer (or a Unix receiver's queue) is full:
      // wait until it takes more, then send the same datagram again.
      ++summary.eagainWaits;
      pollfd p{.fd = fd_, .events = POLLOUT, .revents = 0};
      ::poll(&p, 1, kWritablePollMs);
      continue;
    }
    if (err == ENOBUFS) {
      ++summary.enobufsWaits;
      std::this_thread::sleep_for(kNoBuffersPause);
      continue;
    }
    summary.error = fmt::format("send failed after {} datagrams: {}", summary.sent, std::strerror(err));
    return false;
  }
  return true;
}

SendSummary DatagramSender::run() {
  SendSummary summary;
  const auto start = Clock::now();
  uint64_t seq = options_.firstSeq;
  const uint64_t end = options_.firstSeq + options_.count;  // parseSenderArgs rules out overflow
  uint64_t queued = 0;                                        // datagrams handed to bursts so far
  while (queued < options_.count) {
    if (options_.rate > 0) {
      // Burst k leaves at start + k * burst / rate; a late burst leaves at
      // once, so a slow patch is caught up.
      sleepUntil(start + std::chrono::duration_cast<Clock::duration>(
                             std::chrono::duration<double>(static_cast<double>(queued) / options_.rate)));
    }
    const int n = static_cast<int>(std::min<uint64_t>(static_cast<uint64_t>(options_.burst), end - seq));
    for (int i = 0; i < n; ++i) {
      char* slot = buffers_.data() + static_cast<size_t>(i) * options_.size;
      const size_t length = formatDatagram(seq + static_cast<uint64_t>(i), options_.tag, options_.size,
                                           options_.newline, slot);
      iovecs_[static_cast<size_t>(i)] = iovec{.iov_base = slot, .iov_len = length};
      headers_[static_cast<size_t>(i)] = mmsghdr{};
      headers_[static_cast<size_t>(i)].msg_hdr.msg_iov = &iovecs_[static_cast<size_t>(i)];
      headers_[static_cast<size_t>(i)].msg_hdr.msg_iovlen = 1;
    }
    const bool ok = sendBurst(n, summary);
    seq += static_cast<uint64_t>(n);
    queued += static_cast<uint64_t>(n);
    if (!ok) break;
  }
  summary.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return summary;
}

}  // namespace kinship::sender
