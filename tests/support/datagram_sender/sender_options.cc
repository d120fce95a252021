#include "tests/support/datagram_sender/sender_options.h"

#include <sys/un.h>

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>

#include "common/host_port.h"

namespace kinship::sender {

namespace {

// sendmmsg takes at most UIO_MAXIOV messages per call.
constexpr int kMaxBurst = 1024;

Status usage(std::string message) { return Status::invalidArgument(std::move(message)); }

Result<uint64_t> parseUint(std::string_view flag, std::string_view text) {
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    return fail(usage(fmt::format("{} needs a non-negative integer, not \"{}\"", flag, text)));
  }
  return value;
}

Result<double> parseRate(std::string_view flag, std::string_view text) {
  std::string copy(text);
  char* end = nullptr;
  double value = std::strtod(copy.c_str(), &end);
  if (copy.empty() || *end != '\0' || !std::isfinite(value) || value < 0) {
    return fail(usage(fmt::format("{} needs a non-negative number of datagrams per second, not \"{}\"", flag, text)));
  }
  return value;
}

}  // namespace

const std::string_view kSenderUsage = R"(usage: kinship-datagram-sender (--udp HOST:PORT | --unix PATH) --count N [options]

Sends N datagrams at a fixed rate to a UDP address or a Unix datagram socket,
then prints one JSON line: {"target","sent","bytes","seconds","rate",...}.
"sent" counts exactly the datagrams the kernel accepted: a send that the
kernel refuses for now (EAGAIN, ENOBUFS) is retried, never skipped.

Each datagram is a JSON object with its sequence number, padded to --size:
  {"seq":123,"src":"udp","pad":"xxxx...x"}
Sequence numbers run from --first-seq upwards, one per datagram.

Target (one of):
  --udp HOST:PORT      e.g. 127.0.0.1:5514, [::1]:5514, localhost:5514
  --unix PATH          a bound Unix datagram socket (SOCK_DGRAM)

Options:
  --count N            datagrams to send (required, at least 1)
  --rate R             datagrams per second; 0 = as fast as the kernel
                       accepts them (default 0)
  --size BYTES         bytes per datagram, padding included (default 200);
                       at least the length of the unpadded object
  --burst N            datagrams per sendmmsg call, 1..1024 (default: one
                       millisecond's worth at --rate, or 64 without a rate);
                       a burst goes out every N/R seconds
  --tag TEXT           the "src" field (default "udp" or "unix")
  --first-seq N        the first sequence number (default 0)
  --newline            end each datagram with "\n" (within --size)
  -h, --help           this text

Exit status: 0 when all N were sent; 1 on a send error (the summary then
carries "error" and the exact count sent before it); 2 for bad arguments.
)";

std::string SenderOptions::targetText() const {
  if (kind == Kind::kUnix) return "unix:" + path;
  return "udp:" + formatHostPort(host, port);
}

size_t minimumDatagramSize(uint64_t seq, std::string_view tag, bool newline) {
  return fmt::formatted_size(R"({{"seq":{},"src":"{}","pad":""}})", seq, tag) + (newline ? 1 : 0);
}

Result<SenderOptions> parseSenderArgs(std::span<const char* const> args) {
  SenderOptions o;
  bool haveTarget = false;
  bool haveCount = false;
  bool haveTag = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string_view flag = args[i];
    std::string_view value;
    auto takeValue = [&]() -> Status {
      if (i + 1 >= args.size()) return usage(fmt::format("{} needs a value", flag));
      value = args[++i];
      return Status::ok();
    };
    if (flag == "-h" || flag == "--help") {
      o.help = true;
      return o;
    }
    if (flag == "--newline") {
      o.newline = true;
      continue;
    }
    if (Status s = takeValue(); !s) return fail(s);
    if (flag == "--udp" || flag == "--unix") {
      if (haveTarget) return fail(usage("give one target: --udp or --unix"));
      haveTarget = true;
      if (flag == "--unix") {
        o.kind = SenderOptions::Kind::kUnix;
        if (value.empty() || value.size() >= sizeof(sockaddr_un::sun_path)) {
          return fail(usage(fmt::format("--unix: the path must be 1 to {} bytes long", sizeof(sockaddr_un::sun_path) - 1)));
        }
        o.path = std::string(value);
      } else {
        auto address = parseHostPort(value);
        if (!address) return fail(usage("--udp: " + address.error().message()));
        if (address->port == 0) return fail(usage("--udp: the port must not be 0"));
        o.host = address->host;
        o.port = address->port;
      }
    } else if (flag == "--count") {
      auto n = parseUint(flag, value);
      if (!n) return fail(n.error());
      if (*n == 0) return fail(usage("--count must be at least 1"));
      o.count = *n;
      haveCount = true;
    } else if (flag == "--rate") {
      auto r = parseRate(flag, value);
      if (!r) return fail(r.error());
      o.rate = *r;
    } else if (flag == "--size") {
      auto n = parseUint(flag, value);
      if (!n) return fail(n.error());
      if (*n > 65507) return fail(usage("--size must be at most 65507 (the largest UDP payload)"));
      o.size = static_cast<size_t>(*n);
    } else if (flag == "--burst") {
      auto n = parseUint(flag, value);
      if (!n) return fail(n.error());
      if (*n < 1 || *n > kMaxBurst) return fail(usage(fmt::format("--burst must be in [1, {}]", kMaxBurst)));
      o.burst = static_cast<int>(*n);
    } else if (flag == "--tag") {
      if (value.find_first_of("\"\\") != std::string_view::npos) {
        return fail(usage("--tag must not contain '\"' or '\\' (it goes into a JSON string as is)"));
      }
      o.tag = std::string(value);
      haveTag = true;
    } else if (flag == "--first-seq") {
      auto n = parseUint(flag, value);
      if (!n) return fail(n.error());
      o.firstSeq = *n;
    } else {
      return fail(usage(fmt::format("unknown option \"{}\"", flag)));
    }
  }
  if (!haveTarget) return fail(usage("missing target: --udp HOST:PORT or --unix PATH"));
  if (!haveCount) return fail(usage("missing --count"));
  if (o.firstSeq > UINT64_MAX - (o.count - 1)) return fail(usage("--first-seq + --count overflows"));
  if (!haveTag) o.tag = o.kind == SenderOptions::Kind::kUnix ? "unix" : "udp";
  // The longest sequence number decides the shortest possible datagram.
  const size_t minimum = minimumDatagramSize(o.firstSeq + o.count - 1, o.tag, o.newline);
  if (o.size < minimum) {
    return fail(usage(fmt::format("--size {} is too small: these datagrams need at least {} bytes", o.size, minimum)));
  }
  if (o.burst == 0) {
    o.burst = o.rate > 0 ? static_cast<int>(std::clamp(o.rate / 1000.0, 1.0, static_cast<double>(kMaxBurst))) : 64;
  }
  return o;
}

}  // namespace kinship::sender
