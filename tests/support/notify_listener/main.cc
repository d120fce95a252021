// kinship-notify-listener PATH: stands in for systemd's notification socket
// in the integration tests. Binds a Unix datagram socket at PATH and prints
// each message it receives as one line on stdout:
//   <milliseconds since start> <message, newlines shown as \n>
// Prints "listening" once bound; runs until killed.

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: kinship-notify-listener PATH\n");
    return 2;
  }
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (std::strlen(argv[1]) >= sizeof(address.sun_path)) {
    std::fprintf(stderr, "kinship-notify-listener: path too long: %s\n", argv[1]);
    return 2;
  }
  std::strcpy(address.sun_path, argv[1]);
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ::unlink(argv[1]);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    std::fprintf(stderr, "kinship-notify-listener: cannot bind %s: %s\n", argv[1], std::strerror(errno));
    return 1;
  }
  std::printf("listening\n");
  std::fflush(stdout);
  const auto start = std::chrono::steady_clock::now();
  char buffer[4096];
  for (;;) {
    ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      std::fprintf(stderr, "kinship-notify-listener: recv: %s\n", std::strerror(errno));
      return 1;
    }
    std::string line;
    for (ssize_t i = 0; i < n; ++i) line += buffer[i] == '\n' ? std::string("\\n") : std::string(1, buffer[i]);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
    std::printf("%lld %s\n", static_cast<long long>(ms), line.c_str());
    std::fflush(stdout);
  }
}
