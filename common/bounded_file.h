#pragma once
// readFileAtMost: a whole small file (a config, a token, ~/.aws files) read
// with a bound, so a huge or endless file (/dev/zero, a log given by
// mistake) is an error instead of memory exhaustion. Pipes and FIFOs work
// too: the bound is checked on what is read, not on st_size.
// Thread-safe.

#include <cstddef>
#include <string>

#include "common/status.h"

namespace kinship {

// The file's bytes. Errors say what failed but not the path (the caller
// names the file in its own terms): kNotFound when it does not exist,
// kInvalidArgument when it holds more than `maxBytes` ("larger than N
// bytes"), kIoError otherwise (permission, a directory, a read error).
Result<std::string> readFileAtMost(const std::string& path, std::size_t maxBytes);

}  // namespace kinship
