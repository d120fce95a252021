// kinship-datagram-sender: sends numbered datagrams at a fixed rate to a UDP
// address or a Unix datagram socket and prints an exact JSON summary, for
// the integration tests and benchmarks of the datagram inputs. See --help
// (sender_options.cc) for the command line.

#include <cstdio>
#include <span>

#include "tests/support/datagram_sender/datagram_sender.h"
#include "tests/support/datagram_sender/sender_options.h"

int main(int argc, char** argv) {
  using namespace kinship::sender;
  auto options = parseSenderArgs(std::span<const char* const>(argv + 1, static_cast<size_t>(argc - 1)));
  if (!options) {
    std::fprintf(stderr, "kinship-datagram-sender: %s\n(see --help)\n", options.error().message().c_str());
    return 2;
  }
  if (options->help) {
    std::fwrite(kSenderUsage.data(), 1, kSenderUsage.size(), stdout);
    return 0;
  }
  DatagramSender sender(*options);
  if (auto s = sender.connect(); !s) {
    std::fprintf(stderr, "kinship-datagram-sender: %s\n", s.message().c_str());
    return 1;
  }
  SendSummary summary = sender.run();
  std::printf("%s\n", summary.toJson(*options).c_str());
  if (!summary.error.empty()) {
    std::fprintf(stderr, "kinship-datagram-sender: %s\n", summary.error.c_str());
    return 1;
  }
  return 0;
}
