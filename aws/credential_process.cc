#include "aws/credential_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <simdjson.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <thread>

#include "aws/credentials_json.h"
#include "common/log.h"

extern char** environ;

namespace kinship::aws {
namespace {

using Clock = std::chrono::steady_clock;

// The program the command runs, for errors: its arguments may be secrets.
std::string firstWord(std::string_view command) {
  const size_t start = command.find_first_not_of(" \t");
  if (start == std::string_view::npos) return {};
  command.remove_prefix(start);
  if (command.front() == '"' || command.front() == '\'') {
    const size_t close = command.find(command.front(), 1);
    return std::string(command.substr(1, close == std::string_view::npos ? std::string_view::npos : close - 1));
  }
  return std::string(command.substr(0, command.find_first_of(" \t\n")));
}

// Credentials go into request headers: anything but visible ASCII could
// split one, so such output is refused whole.
bool isVisibleAscii(std::string_view value) {
  for (unsigned char c : value) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

// Closes a descriptor once, on every path out.
class Fd {
 public:
  Fd() = default;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }
  int get() const { return fd_; }
  void adopt(int fd) {
    reset();
    fd_ = fd;
  }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

struct Pipe {
  Fd read;
  Fd write;
};

Status makePipe(Pipe& pipe) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return Status::ioError(std::string("pipe: ") + std::strerror(errno));
  pipe.read.adopt(fds[0]);
  pipe.write.adopt(fds[1]);
  ::fcntl(fds[0], F_SETFL, O_NONBLOCK);
  return Status::ok();
}

// Spawns `/bin/sh -c command` in its own process group (so that a timeout
// kills what it started too), with default signal dispositions and an empty
// mask whatever the daemon's threads block or ignore.
Result<pid_t> spawnShell(const std::string& command, int stdoutFd, int stderrFd) {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attributes;
  posix_spawn_file_actions_init(&actions);
  posix_spawnattr_init(&attributes);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, stdoutFd, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, stderrFd, STDERR_FILENO);
  sigset_t none;
  sigset_t all;
  sigemptyset(&none);
  sigfillset(&all);
  sigdelset(&all, SIGKILL);
  sigdelset(&all, SIGSTOP);
  posix_spawnattr_setsigmask(&attributes, &none);
  posix_spawnattr_setsigdefault(&attributes, &all);
  posix_spawnattr_setpgroup(&attributes, 0);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  std::string sh = "sh";
  std::string dashC = "-c";
  std::string commandCopy = command;
  char* argv[] = {sh.data(), dashC.data(), commandCopy.data(), nullptr};
  pid_t pid = -1;
  const int error = ::posix_spawn(&pid, "/bin/sh", &actions, &attributes, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  if (error != 0) return fail(Status::ioError(std::string("cannot run /bin/sh: ") + std::strerror(error)));
  return pid;
}

void killAndReap(pid_t pid) {
  ::kill(-pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
}

// Reads what is available; false at end of file.
bool drain(int fd, std::string& into, size_t limit, bool& overflow) {
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n > 0) {
      const size_t room = limit + 1 > into.size() ? limit + 1 - into.size() : 0;
      into.append(buffer, std::min(room, static_cast<size_t>(n)));
      if (into.size() > limit) overflow = true;
      continue;
    }
    if (n == 0) return false;
    if (errno == EINTR) continue;
    return errno == EAGAIN || errno == EWOULDBLOCK;  // anything else ends the stream
  }
}

void logStderr(bool failed, const std::string& what, std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
  if (text.empty()) return;
  if (failed) {
    log::warn("credentials", "{} wrote to stderr: {}", what, text);
  } else {
    log::debug("credentials", "{} wrote to stderr: {}", what, text);
  }
}

}  // namespace

Result<Credentials> parseCredentialProcessOutput(std::string_view output, std::string_view what) {
  const std::string prefix = std::string(what) + ": ";
  simdjson::dom::parser parser;
  simdjson::padded_string padded(output);
  simdjson::dom::element doc;
  // simdjson's messages name the kind of failure, never the bytes.
  if (auto error = parser.parse(padded).get(doc); error != simdjson::SUCCESS) {
    return fail(Status::corruption(prefix + "its output is not valid JSON (" + simdjson::error_message(error) + ")"));
  }
  simdjson::dom::object object;
  if (doc.get(object) != simdjson::SUCCESS) return fail(Status::corruption(prefix + "its output is not a JSON object"));

  int64_t version = 0;
  if (object["Version"].get(version) != simdjson::SUCCESS || version != 1) {
    return fail(Status::corruption(prefix + "its output's Version is not the number 1"));
  }
  auto field = [&](std::string_view name, bool required, std::string& out) -> Status {
    simdjson::dom::element element;
    if (object[name].get(element) != simdjson::SUCCESS || element.is_null()) {
      return required ? Status::corruption(prefix + "its output has no " + std::string(name)) : Status::ok();
    }
    std::string_view value;
    if (element.get(value) != simdjson::SUCCESS) {
      return Status::corruption(prefix + "its output's " + std::string(name) + " is not a string");
    }
    if (required && value.empty()) {
      return Status::corruption(prefix + "its output's " + std::string(name) + " is empty");
    }
    if (!isVisibleAscii(value)) {
      return Status::corruption(prefix + "its output's " + std::string(name) +
                                " holds characters other than visible ASCII");
    }
    out.assign(value);
    return Status::ok();
  };
  Credentials credentials;
  std::string expiration;
  if (Status s = field("AccessKeyId", true, credentials.accessKeyId); !s) return fail(s);
  if (Status s = field("SecretAccessKey", true, credentials.secretAccessKey); !s) return fail(s);
  if (Status s = field("SessionToken", false, credentials.sessionToken); !s) return fail(s);
  if (Status s = field("Expiration", false, expiration); !s) return fail(s);
  if (!expiration.empty()) {
    auto when = parseIso8601Utc(expiration);
    if (!when) return fail(Status::corruption(prefix + "its output's Expiration is " + when.error().message()));
    credentials.expiration = *when;
  }
  return credentials;
}

Result<Credentials> runCredentialProcess(const CredentialProcessOptions& options) {
  const std::string what = "credential_process '" + firstWord(options.command) + "'" +
                           (options.context.empty() ? "" : " of " + options.context);
  if (firstWord(options.command).empty()) return fail(Status::invalidArgument(what + " is empty"));

  Pipe out;
  Pipe err;
  if (Status s = makePipe(out); !s) return fail(Status::ioError(what + ": " + s.message()));
  if (Status s = makePipe(err); !s) return fail(Status::ioError(what + ": " + s.message()));
  auto spawned = spawnShell(options.command, out.write.get(), err.write.get());
  if (!spawned) return fail(Status::ioError(what + ": " + spawned.error().message()));
  const pid_t pid = *spawned;
  // Ours closed, so end of file means the command (and all it started) closed them.
  out.write.reset();
  err.write.reset();

  const auto deadline = Clock::now() + options.timeout;
  auto remainingMs = [&]() -> int {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
    return left > 0 ? static_cast<int>(std::min<int64_t>(left, 60'000)) : 0;
  };
  std::string stdoutText;
  std::string stderrText;
  bool stdoutOverflow = false;
  bool stderrOverflow = false;  // stderr past its bound is only cut
  bool stdoutOpen = true;
  bool stderrOpen = true;
  while (stdoutOpen || stderrOpen) {
    pollfd fds[2];
    nfds_t count = 0;
    if (stdoutOpen) fds[count++] = {out.read.get(), POLLIN, 0};
    if (stderrOpen) fds[count++] = {err.read.get(), POLLIN, 0};
    const int timeoutMs = remainingMs();
    if (timeoutMs == 0) break;
    const int ready = ::poll(fds, count, timeoutMs);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) {
      const Status status = Status::ioError(what + ": poll: " + std::strerror(errno));
      killAndReap(pid);
      return fail(status);
    }
    for (nfds_t i = 0; i < count; ++i) {
      if (fds[i].revents == 0) continue;
      if (fds[i].fd == out.read.get()) {
        stdoutOpen = drain(fds[i].fd, stdoutText, kMaxCredentialProcessOutput, stdoutOverflow);
      } else {
        stderrOpen = drain(fds[i].fd, stderrText, kMaxCredentialProcessStderr, stderrOverflow);
      }
    }
    if (stdoutOverflow) {
      killAndReap(pid);
      logStderr(true, what, stderrText);
      return fail(Status::invalidArgument(what + " printed more than " + std::to_string(kMaxCredentialProcessOutput) +
                                          " bytes and was stopped"));
    }
  }

  // Both streams closed: the shell is exiting. Wait for it, within the deadline.
  int waitStatus = 0;
  pid_t reaped = 0;
  if (!stdoutOpen && !stderrOpen) {
    while ((reaped = ::waitpid(pid, &waitStatus, WNOHANG)) == 0 && remainingMs() > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  if (reaped <= 0) {
    killAndReap(pid);
    logStderr(true, what, stderrText);
    return fail(Status::unavailable(what + " did not finish within " + std::to_string(options.timeout.count()) +
                                    " ms and was killed"));
  }
  if (WIFSIGNALED(waitStatus)) {
    logStderr(true, what, stderrText);
    return fail(Status::unavailable(what + " was killed by signal " + std::to_string(WTERMSIG(waitStatus))));
  }
  const int code = WIFEXITED(waitStatus) ? WEXITSTATUS(waitStatus) : -1;
  if (code != 0) {
    logStderr(true, what, stderrText);
    return fail(Status::unavailable(what + " exited with status " + std::to_string(code)));
  }
  auto credentials = parseCredentialProcessOutput(stdoutText, what);
  logStderr(!credentials, what, stderrText);
  return credentials;
}

}  // namespace kinship::aws
