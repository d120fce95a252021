#include "common/log.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

#include "common/json_escape.h"

namespace kinship::log {
namespace {

std::atomic<Level> gLevel{Level::kInfo};
std::atomic<Format> gFormat{Format::kText};
std::mutex gWriteMutex;

std::string_view levelName(Level level) {
  switch (level) {
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarn: return "warn";
    case Level::kError: return "error";
  }
  return "info";
}

// JSON lines are read in terminals too: the terminal-safe escaping keeps
// DEL and the C1 controls out of them, as appendTextSafe does for text lines.
void appendJsonString(std::string& out, std::string_view s) {
  out.push_back('"');
  appendJsonEscaped(out, s, JsonEscaping::kTerminalSafe);
  out.push_back('"');
}

// Text lines carry strings from outside (partition keys, endpoint answers,
// file names): a newline there would forge a log line, an ANSI escape would
// drive the operator's terminal. Control characters, DEL and the C1 controls
// (U+0080..U+009F, which some terminals obey) are written as escapes.
void appendTextSafe(std::string& out, std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      out += fmt::format("\\x{:02x}", c);
    } else if (c == 0xc2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) >= 0x80 &&
               static_cast<unsigned char>(s[i + 1]) <= 0x9f) {
      out += fmt::format("\\u{:04x}", static_cast<unsigned char>(s[i + 1]));
      ++i;
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
}

std::string timestamp() {
  auto now = std::chrono::system_clock::now();
  auto secs = std::chrono::system_clock::to_time_t(now);
  auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:03}Z", buf, millis);
}

}  // namespace

void configure(Level level, Format format) {
  gLevel.store(level);
  gFormat.store(format);
}

bool enabled(Level level) { return level >= gLevel.load(std::memory_order_relaxed); }

void write(Level level, std::string_view component, std::string_view message) {
  std::string line;
  if (gFormat.load() == Format::kJson) {
    line = "{\"time\":\"" + timestamp() + "\",\"level\":\"" + std::string(levelName(level)) + "\",\"component\":";
    appendJsonString(line, component);
    line += ",\"message\":";
    appendJsonString(line, message);
    line += "}\n";
  } else {
    line = fmt::format("{} {:<5} ", timestamp(), levelName(level));
    appendTextSafe(line, component);
    line += ": ";
    appendTextSafe(line, message);
    line.push_back('\n');
  }
  std::lock_guard lock(gWriteMutex);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

bool parseLevel(std::string_view text, Level& out) {
  if (text == "debug") out = Level::kDebug;
  else if (text == "info") out = Level::kInfo;
  else if (text == "warn") out = Level::kWarn;
  else if (text == "error") out = Level::kError;
  else return false;
  return true;
}

bool parseFormat(std::string_view text, Format& out) {
  if (text == "text") out = Format::kText;
  else if (text == "json") out = Format::kJson;
  else return false;
  return true;
}

}  // namespace kinship::log
