#include "inputs/unix/unix_datagram_input.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/log.h"

namespace kinship::inputs {

namespace {

// Datagrams per recvmmsg call. Each needs a buffer of max_line_size (1 MiB
// by default), so fewer than UDP's 64; local senders are rarely bursty.
constexpr int kBatchDatagrams = 16;

DatagramReader::Options readerOptions(const std::string& name, const UnixInputConfig& config) {
  DatagramReader::Options o;
  o.parser = config.parser;
  o.framing = DatagramReader::Framing::kStripNewline;
  // Room for the longest record and its "\r\n".
  o.bufferSize = config.maxLineSize + 2;
  o.maxRecordSize = config.maxLineSize;
  o.batchDatagrams = kBatchDatagrams;
  o.oversizeReason = "line_too_long";
  // A Unix datagram sender blocks (or gets EAGAIN) when the socket is full:
  // the kernel drops nothing to count.
  o.countKernelDrops = false;
  o.source = config.path;
  o.component = "unix";
  o.name = name;
  return o;
}

}  // namespace

UnixDatagramInput::UnixDatagramInput(const InputContext& context, UnixInputConfig config)
    : name_("unix input " + context.id + " on " + config.path),
      config_(std::move(config)),
      file_(config_.path),
      reader_(context, readerOptions(name_, config_)) {}

UnixDatagramInput::~UnixDatagramInput() { stop(); }

Status UnixDatagramInput::start() {
  if (Status s = file_.prepare(SOCK_DGRAM, config_.socketGroup); !s) return s;
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::ioError(fmt::format("{}: cannot create the socket: {}", name_, std::strerror(errno)));
  UnixSocketFile::restrictBeforeBind(fd, config_.socketMode);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, config_.path.data(), config_.path.size());
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    int err = errno;
    ::close(fd);
    return Status::ioError(fmt::format("{}: cannot bind: {}", name_, std::strerror(err)));
  }
  if (Status s = file_.finishBind(config_.socketMode); !s) {
    ::close(fd);
    file_.remove();
    return s;
  }
  if (Status s = reader_.start(fd, AF_UNIX); !s) {
    file_.remove();
    return s;
  }
  log::info("unix", "{}: receiving datagrams", name_);
  return Status::ok();
}

void UnixDatagramInput::stop() {
  reader_.stop();
  file_.remove();
}

}  // namespace kinship::inputs
