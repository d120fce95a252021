#pragma once
// Names the calling thread, so that top -H, perf and /proc/<pid>/task/*/comm
// tell kinship's threads apart. Linux keeps 15 bytes of a name.

#include <pthread.h>

#include <string>
#include <string_view>

namespace kinship {

inline void setCurrentThreadName(std::string_view name) {
  std::string truncated(name.substr(0, 15));
  pthread_setname_np(pthread_self(), truncated.c_str());  // only fails on a name too long
}

}  // namespace kinship
