#include "common/log.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

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

void appendJsonString(std::string& out, std::string_view s) {
  out.push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += fmt::format("\\u{:04x}", c);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('"');
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
    line = fmt::format("{} {:<5} {}: {}\n", timestamp(), levelName(level), component, message);
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
