#pragma once
// credential_process: runs the command a profile names and reads the
// credentials it prints, as the AWS SDKs do.
//
// The command runs as `/bin/sh -c <command>`, as the Go, Java, JavaScript
// and C++ SDKs run it (the AWS CLI splits it shell-like and runs it without a
// shell; for the usual "program --flag 'quoted arg'" both give the same
// argv). Its standard input is /dev/null, its environment the daemon's. It
// gets `timeout` to finish; after that its process group is killed. Its
// standard output is read up to kMaxCredentialProcessOutput (more is
// refused) and must be
//   {"Version": 1, "AccessKeyId": "...", "SecretAccessKey": "...",
//    "SessionToken": "...", "Expiration": "2026-12-07T03:00:00Z"}
// with SessionToken and Expiration optional. Standard output holds secrets:
// no error or log line quotes it. Standard error (the helper's own
// diagnostics) is logged, cut to kMaxCredentialProcessStderr, at warn when
// the command fails and at debug when it succeeds. Errors name the
// command's first word, never its arguments (a helper may take a secret as
// an argument).
//
// Thread-safe (no shared state); blocks the caller for at most `timeout`.

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include "aws/credentials.h"
#include "common/status.h"

namespace kinship::aws {

inline constexpr std::size_t kMaxCredentialProcessOutput = 64 * 1024;
inline constexpr std::size_t kMaxCredentialProcessStderr = 4 * 1024;
inline constexpr std::chrono::milliseconds kDefaultCredentialProcessTimeout{30000};

struct CredentialProcessOptions {
  std::string command;
  std::string context;  // "profile x in /home/u/.aws/config", for errors
  std::chrono::milliseconds timeout = kDefaultCredentialProcessTimeout;
};

Result<Credentials> runCredentialProcess(const CredentialProcessOptions& options);

// Reads the process's JSON output; `what` names the command in errors.
Result<Credentials> parseCredentialProcessOutput(std::string_view output, std::string_view what);

}  // namespace kinship::aws
