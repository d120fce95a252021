// kinship-log-generator: writes N JSON lines of exactly S bytes (newline
// included) to a file, as fast as it can or at a fixed rate, for the
// benchmarks (bench/run.sh). Every line carries the time it was written,
// `"ts":<unix ns>`, which the fake endpoint's --latency-field ts turns into
// end-to-end latency (line written -> record accepted).
//
//   {"ts":1763920000123456789,"seq":42,"service":"svc0","host":"h3","msg":"xxxx…"}
//
// service is svc<seq % 7> and host h<seq % 13>: 91 distinct
// "{service}-{host}" keys. --no-key-fields leaves both out, for lines as
// small as 50 bytes. A line that cannot fit S bytes is written longer and
// counted ("oversize" in the summary).
//
// Paced (--rate R): every millisecond, the lines due by then are formatted
// with the current time and written with one write(), so a tailer sees them
// as a steady stream. Prints one JSON summary line on stdout.

#include <fcntl.h>
#include <fmt/format.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

namespace kinship::bench {
namespace {

constexpr std::string_view kUsage = R"(usage: kinship-log-generator --out FILE --lines N [options]

Writes N JSON lines of --size bytes each (newline included) to FILE:
  {"ts":<unix ns at write>,"seq":N,"service":"svc<N%7>","host":"h<N%13>","msg":"xx…"}

  --out FILE          the file to write (created; truncated unless --append)
  --lines N           lines to write (required)
  --size BYTES        bytes per line, newline included (default 200)
  --rate R            lines per second, written every millisecond; 0 = as
                      fast as possible (default 0)
  --append            append to FILE instead of truncating it
  --first-seq N       the first sequence number (default 0)
  --no-key-fields     leave out "service" and "host" (lines down to ~50 bytes)
  -h, --help          this text

Prints {"lines","bytes","seconds","rate","oversize"} as one JSON line.
)";

constexpr size_t kFlushBytes = 1 << 20;  // bulk mode: one write() per MiB

struct Options {
  std::string out;
  uint64_t lines = 0;
  size_t size = 200;
  uint64_t rate = 0;
  bool append = false;
  uint64_t firstSeq = 0;
  bool keyFields = true;
};

[[noreturn]] void usageError(const std::string& message) {
  std::fprintf(stderr, "kinship-log-generator: %s\n(see --help)\n", message.c_str());
  std::exit(2);
}

uint64_t parseUint(std::string_view flag, std::string_view text) {
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    usageError(fmt::format("{} needs a non-negative integer, not \"{}\"", flag, text));
  }
  return value;
}

Options parseArgs(int argc, char** argv) {
  Options o;
  bool haveLines = false;
  std::vector<std::string_view> args(argv + 1, argv + argc);
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view flag = args[i];
    auto value = [&]() -> std::string_view {
      if (i + 1 >= args.size()) usageError(fmt::format("{} needs a value", flag));
      return args[++i];
    };
    if (flag == "-h" || flag == "--help") {
      std::fwrite(kUsage.data(), 1, kUsage.size(), stdout);
      std::exit(0);
    } else if (flag == "--out") {
      o.out = std::string(value());
    } else if (flag == "--lines") {
      o.lines = parseUint(flag, value());
      haveLines = true;
    } else if (flag == "--size") {
      o.size = parseUint(flag, value());
      if (o.size < 2 || o.size > 1024 * 1024) usageError("--size must be in [2, 1048576]");
    } else if (flag == "--rate") {
      o.rate = parseUint(flag, value());
    } else if (flag == "--append") {
      o.append = true;
    } else if (flag == "--first-seq") {
      o.firstSeq = parseUint(flag, value());
    } else if (flag == "--no-key-fields") {
      o.keyFields = false;
    } else {
      usageError(fmt::format("unknown argument \"{}\"", flag));
    }
  }
  if (o.out.empty()) usageError("missing --out FILE");
  if (!haveLines) usageError("missing --lines N");
  return o;
}

uint64_t nanosOf(clockid_t clock) {
  timespec t{};
  clock_gettime(clock, &t);
  return static_cast<uint64_t>(t.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(t.tv_nsec);
}

// Formats lines into one growing buffer; the caller writes and clears it.
class LineWriter {
 public:
  explicit LineWriter(const Options& options) : options_(options) { buffer_.reserve(kFlushBytes + options.size * 2); }

  void append(uint64_t seq, uint64_t stampNanos) {
    size_t start = buffer_.size();
    auto out = std::back_inserter(buffer_);
    if (options_.keyFields) {
      fmt::format_to(out, R"({{"ts":{},"seq":{},"service":"svc{}","host":"h{}","msg":")", stampNanos, seq, seq % 7,
                     seq % 13);
    } else {
      fmt::format_to(out, R"({{"ts":{},"seq":{},"msg":")", stampNanos, seq);
    }
    constexpr std::string_view kTail = "\"}\n";
    size_t used = buffer_.size() - start + kTail.size();
    if (used > options_.size) {
      ++oversize_;
    } else {
      buffer_.append(options_.size - used, 'x');
    }
    buffer_.append(kTail);
  }

  const std::string& buffer() const { return buffer_; }
  void clear() { buffer_.clear(); }
  uint64_t oversize() const { return oversize_; }

 private:
  const Options& options_;
  std::string buffer_;
  uint64_t oversize_ = 0;
};

bool writeAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

int run(const Options& options) {
  int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (options.append ? O_APPEND : O_TRUNC);
  int fd = ::open(options.out.c_str(), flags, 0644);
  if (fd < 0) {
    std::fprintf(stderr, "kinship-log-generator: cannot open %s: %s\n", options.out.c_str(), std::strerror(errno));
    return 1;
  }
  LineWriter writer(options);
  uint64_t bytes = 0;
  auto flush = [&] {
    if (!writeAll(fd, writer.buffer())) {
      std::fprintf(stderr, "kinship-log-generator: write to %s: %s\n", options.out.c_str(), std::strerror(errno));
      std::exit(1);
    }
    bytes += writer.buffer().size();
    writer.clear();
  };

  uint64_t startMono = nanosOf(CLOCK_MONOTONIC);
  uint64_t written = 0;
  if (options.rate == 0) {
    while (written < options.lines) {
      writer.append(options.firstSeq + written, nanosOf(CLOCK_REALTIME));
      ++written;
      if (writer.buffer().size() >= kFlushBytes) flush();
    }
    flush();
  } else {
    // Lines due by tick k are k ms worth at the rate, counted from the
    // start, so rounding never drifts and a late tick catches up.
    constexpr uint64_t kTickNanos = 1'000'000;
    for (uint64_t tick = 1; written < options.lines; ++tick) {
      uint64_t wake = startMono + tick * kTickNanos;
      timespec at{static_cast<time_t>(wake / 1'000'000'000u), static_cast<long>(wake % 1'000'000'000u)};
      while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, nullptr) == EINTR) {
      }
      unsigned __int128 elapsed = nanosOf(CLOCK_MONOTONIC) - startMono;
      auto due = std::min<uint64_t>(options.lines, static_cast<uint64_t>(elapsed * options.rate / 1'000'000'000u));
      uint64_t stamp = nanosOf(CLOCK_REALTIME);
      for (; written < due; ++written) writer.append(options.firstSeq + written, stamp);
      flush();
    }
  }
  ::close(fd);
  double seconds = static_cast<double>(nanosOf(CLOCK_MONOTONIC) - startMono) / 1e9;
  std::printf("{\"lines\":%llu,\"bytes\":%llu,\"seconds\":%.3f,\"rate\":%.1f,\"oversize\":%llu}\n",
              static_cast<unsigned long long>(written), static_cast<unsigned long long>(bytes), seconds,
              seconds > 0 ? static_cast<double>(written) / seconds : 0.0,
              static_cast<unsigned long long>(writer.oversize()));
  return 0;
}

}  // namespace
}  // namespace kinship::bench

int main(int argc, char** argv) { return kinship::bench::run(kinship::bench::parseArgs(argc, argv)); }
