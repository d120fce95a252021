#include "aws/credential_process.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace kinship::aws {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view kSecret = "wJalrXUtnFEMIK7MDENGbPxRfiCYSECRETKEY";
constexpr std::string_view kToken = "IQoJb3JpZ2luX2VjSESSIONTOKENVALUE";

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "kinship-credential-process-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  // An executable shell script.
  std::string script(const std::string& name, const std::string& body) const {
    const std::string file = path_ + "/" + name;
    std::ofstream(file) << "#!/bin/sh\n" << body;
    ::chmod(file.c_str(), 0755);
    return file;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string printJson(const std::string& json) { return "cat <<'EOF'\n" + json + "\nEOF\n"; }

std::string goodJson() {
  return R"({"Version": 1, "AccessKeyId": "AKIDPROCESS", "SecretAccessKey": ")" + std::string(kSecret) +
         R"(", "SessionToken": ")" + std::string(kToken) + R"(", "Expiration": "2026-12-07T03:00:00Z"})";
}

Result<Credentials> run(const std::string& command, std::chrono::milliseconds timeout = 10s) {
  return runCredentialProcess({.command = command, .context = "profile p in /home/u/.aws/config", .timeout = timeout});
}

void expectNoSecrets(const std::string& message) {
  EXPECT_EQ(message.find(kSecret), std::string::npos) << message;
  EXPECT_EQ(message.find(kToken), std::string::npos) << message;
}

TEST(CredentialProcess, ReadsTheJsonTheCommandPrints) {
  TempDir dir;
  const std::string helper = dir.script("helper", printJson(goodJson()));
  auto credentials = run(helper + " --profile x");
  ASSERT_TRUE(credentials.has_value()) << credentials.error().message();
  EXPECT_EQ(credentials->accessKeyId, "AKIDPROCESS");
  EXPECT_EQ(credentials->secretAccessKey, kSecret);
  EXPECT_EQ(credentials->sessionToken, kToken);
  ASSERT_TRUE(credentials->expiration.has_value());
  EXPECT_EQ(*credentials->expiration,
            std::chrono::sys_days{std::chrono::year{2026} / std::chrono::December / 7} + 3h);
}

TEST(CredentialProcess, SessionTokenAndExpirationAreOptional) {
  TempDir dir;
  const std::string helper =
      dir.script("helper", printJson(R"({"Version": 1, "AccessKeyId": "AKID", "SecretAccessKey": "s"})"));
  auto credentials = run(helper);
  ASSERT_TRUE(credentials.has_value()) << credentials.error().message();
  EXPECT_TRUE(credentials->sessionToken.empty());
  EXPECT_FALSE(credentials->expiration.has_value());
}

TEST(CredentialProcess, RunsThroughTheShell) {
  TempDir dir;
  const std::string helper = dir.script("helper", printJson(goodJson()));
  auto credentials = run("FOO=bar '" + helper + "' 2>/dev/null | cat");
  ASSERT_TRUE(credentials.has_value()) << credentials.error().message();
  EXPECT_EQ(credentials->accessKeyId, "AKIDPROCESS");
}

TEST(CredentialProcess, NonZeroExitIsAnErrorWithTheStatusAndFirstWordOnly) {
  TempDir dir;
  const std::string helper = dir.script("helper", printJson(goodJson()) + "echo 'oops' >&2\nexit 3\n");
  auto credentials = run(helper + " --password hunter2");
  ASSERT_FALSE(credentials.has_value());
  const std::string& message = credentials.error().message();
  EXPECT_NE(message.find("exited with status 3"), std::string::npos) << message;
  EXPECT_NE(message.find(helper), std::string::npos) << message;
  EXPECT_NE(message.find("profile p in /home/u/.aws/config"), std::string::npos) << message;
  EXPECT_EQ(message.find("hunter2"), std::string::npos) << message;
  expectNoSecrets(message);
}

TEST(CredentialProcess, CommandNotFoundIsAnError) {
  auto credentials = run("/nonexistent/helper");
  ASSERT_FALSE(credentials.has_value());
  EXPECT_NE(credentials.error().message().find("exited with status 127"), std::string::npos)
      << credentials.error().message();
}

TEST(CredentialProcess, InvalidJsonIsAnErrorWithoutTheSecrets) {
  TempDir dir;
  // Valid up to the secrets, then cut: the parser sees them.
  const std::string json = goodJson();
  const std::string helper = dir.script("helper", printJson(json.substr(0, json.size() - 10)));
  auto credentials = run(helper);
  ASSERT_FALSE(credentials.has_value());
  EXPECT_NE(credentials.error().message().find("not valid JSON"), std::string::npos) << credentials.error().message();
  expectNoSecrets(credentials.error().message());
}

TEST(CredentialProcess, WrongVersionMissingOrMistypedFieldsAreErrors) {
  const std::string secret(kSecret);
  for (const std::string& json : std::initializer_list<std::string>{
           R"({"Version": 2, "AccessKeyId": "A", "SecretAccessKey": ")" + secret + R"("})",
           R"({"Version": "1", "AccessKeyId": "A", "SecretAccessKey": ")" + secret + R"("})",
           R"({"AccessKeyId": "A", "SecretAccessKey": ")" + secret + R"("})",
           R"({"Version": 1, "SecretAccessKey": ")" + secret + R"("})",
           std::string(R"({"Version": 1, "AccessKeyId": "A"})"),
           R"({"Version": 1, "AccessKeyId": 5, "SecretAccessKey": ")" + secret + R"("})",
           R"({"Version": 1, "AccessKeyId": "A", "SecretAccessKey": ")" + secret + R"(\n"})",
           R"({"Version": 1, "AccessKeyId": "A", "SecretAccessKey": ")" + secret +
               R"(", "Expiration": "tomorrow"})",
           std::string("[1]"),
       }) {
    auto credentials = parseCredentialProcessOutput(json, "credential_process 'helper'");
    ASSERT_FALSE(credentials.has_value()) << json;
    EXPECT_NE(credentials.error().message().find("credential_process 'helper'"), std::string::npos);
    expectNoSecrets(credentials.error().message());
  }
}

TEST(CredentialProcess, ACommandPastTheTimeoutIsKilledWithWhatItStarted) {
  TempDir dir;
  const std::string pidFile = dir.path() + "/sleeper.pid";
  const std::string helper = dir.script("helper", "sleep 60 &\necho $! > " + pidFile + "\nwait\n");
  auto credentials = run(helper, 2000ms);
  ASSERT_FALSE(credentials.has_value());
  EXPECT_NE(credentials.error().message().find("did not finish within 2000 ms"), std::string::npos)
      << credentials.error().message();

  // The script wrote the pid long before the timeout (2 s for a fork and an
  // echo). The background sleep was in the command's process group: it got
  // SIGKILL too. Wait for it to end rather than assume it has: a pidfd turns
  // readable when its process ends (a bounded wait; the sleep would take 60 s).
  std::string pid;
  std::ifstream(pidFile) >> pid;
  ASSERT_FALSE(pid.empty());
  bool dead = false;
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, std::stoi(pid), 0));
  if (pidfd < 0) {
    dead = errno == ESRCH;  // already ended and reaped
  } else {
    pollfd ended{pidfd, POLLIN, 0};
    dead = ::poll(&ended, 1, 30'000) == 1;
    ::close(pidfd);
  }
  EXPECT_TRUE(dead) << "the sleep the command started is still running: " << pid;
}

TEST(CredentialProcess, OutputPastTheBoundIsRefused) {
  TempDir dir;
  const std::string helper =
      dir.script("helper", "head -c " + std::to_string(kMaxCredentialProcessOutput * 4) + " /dev/zero | tr '\\0' a\n");
  auto credentials = run(helper);
  ASSERT_FALSE(credentials.has_value());
  EXPECT_NE(credentials.error().message().find("printed more than 65536 bytes"), std::string::npos)
      << credentials.error().message();
}

TEST(CredentialProcess, EndlessOutputIsStoppedAtTheBound) {
  // `yes` never ends on its own: only the bound stops it, before the timeout.
  auto credentials = run("yes", 60s);
  ASSERT_FALSE(credentials.has_value());
  EXPECT_NE(credentials.error().message().find("printed more than"), std::string::npos)
      << credentials.error().message();
}

TEST(CredentialProcess, StderrDoesNotReachTheError) {
  TempDir dir;
  const std::string helper = dir.script("helper", "echo 'stderr-detail-xyz' >&2\nexit 1\n");
  auto credentials = run(helper);
  ASSERT_FALSE(credentials.has_value());
  EXPECT_EQ(credentials.error().message().find("stderr-detail-xyz"), std::string::npos);
}

TEST(CredentialProcess, EmptyCommandIsAnError) {
  auto credentials = run("   ");
  ASSERT_FALSE(credentials.has_value());
  EXPECT_NE(credentials.error().message().find("is empty"), std::string::npos) << credentials.error().message();
}

}  // namespace
}  // namespace kinship::aws
