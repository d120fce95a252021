// What Env's users share, written once over the interface (so a FaultEnv
// reaches every step of it).

#include "common/env.h"

namespace kinship {

Status replaceFile(Env& env, const std::string& directory, const std::string& path, const std::string& tmpPath,
                   std::string_view contents) {
  auto file = env.openWritable(tmpPath);
  if (!file) return file.error();
  // A leftover of a crash may hold bytes: start from empty.
  Status st = (*file)->truncate(0);
  if (st) st = (*file)->append(contents);
  if (st) st = (*file)->sync();
  Status closed = (*file)->close();
  if (st) st = closed;
  if (st) st = env.rename(tmpPath, path);
  if (!st) {
    (void)env.removeFile(tmpPath);  // best effort: the next replace empties it anyway
    return st;
  }
  return env.syncDir(directory);
}

}  // namespace kinship
