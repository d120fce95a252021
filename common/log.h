#pragma once
// Log: one line per event on stderr, as text or JSON; control characters in
// the component and message are escaped in both, so a string from outside
// cannot forge a line or drive a terminal. Thread-safe; not for
// per-record use (the hot path counts in metrics and logs summaries).

#include <fmt/format.h>
#include <string>
#include <string_view>

namespace kinship::log {

enum class Level { kDebug, kInfo, kWarn, kError };
enum class Format { kText, kJson };

void configure(Level level, Format format);
bool enabled(Level level);
void write(Level level, std::string_view component, std::string_view message);

bool parseLevel(std::string_view text, Level& out);
bool parseFormat(std::string_view text, Format& out);

template <typename... Args>
void debug(std::string_view component, fmt::format_string<Args...> pattern, Args&&... args) {
  if (enabled(Level::kDebug)) write(Level::kDebug, component, fmt::format(pattern, std::forward<Args>(args)...));
}
template <typename... Args>
void info(std::string_view component, fmt::format_string<Args...> pattern, Args&&... args) {
  if (enabled(Level::kInfo)) write(Level::kInfo, component, fmt::format(pattern, std::forward<Args>(args)...));
}
template <typename... Args>
void warn(std::string_view component, fmt::format_string<Args...> pattern, Args&&... args) {
  if (enabled(Level::kWarn)) write(Level::kWarn, component, fmt::format(pattern, std::forward<Args>(args)...));
}
template <typename... Args>
void error(std::string_view component, fmt::format_string<Args...> pattern, Args&&... args) {
  if (enabled(Level::kError)) write(Level::kError, component, fmt::format(pattern, std::forward<Args>(args)...));
}

}  // namespace kinship::log
