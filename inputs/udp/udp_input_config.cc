#include "inputs/udp/udp_input_config.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "inputs/parser_option.h"

namespace kinship::inputs {

namespace {

using config::Option;
using config::ValueType;

using config::kKiB;
using config::kMiB;

const Option kUdpInputOptions[] = {
    {.name = "listen",
     .type = ValueType::kString,
     .required = true,
     .help = "host:port to receive datagrams on, e.g. \"127.0.0.1:5514\", \"0.0.0.0:5514\" or \"[::1]:5514\" "
             "(IPv6 in brackets). A host name is resolved at start; the first address that binds wins."},
    kParserOption,
    kPatternOption,
    {.name = "split_lines",
     .type = ValueType::kBool,
     .defaultValue = "false",
     .help = "`false`: each datagram is one record, as received. `true`: each datagram is cut on \"\\n\" "
             "(a \"\\r\" before it is removed too) and each line is a record; empty lines at the end of a "
             "datagram are dropped."},
    {.name = "max_datagram_size",
     .type = ValueType::kSize,
     .defaultValue = "64KiB",
     .minValue = 512,
     .maxValue = 64 * kKiB,
     .help = "Largest datagram received whole. The kernel cuts longer ones: they are dropped rather than "
             "shipped in part, counted in kinship_input_dropped_total{reason=\"truncated\"}. Memory: "
             "`batch_datagrams` buffers of this size."},
    {.name = "receive_buffer_size",
     .type = ValueType::kSize,
     .defaultValue = "4MiB",
     .minValue = 4 * kKiB,
     .maxValue = 1024 * kMiB,
     .help = "Socket receive buffer (SO_RCVBUF) that absorbs bursts while kinship is busy. The kernel caps it "
             "at net.core.rmem_max; a warning is logged when it grants less. Datagrams that arrive while it is "
             "full are lost, counted in kinship_input_dropped_total{reason=\"kernel_overflow\"}."},
    {.name = "batch_datagrams",
     .type = ValueType::kInt,
     .defaultValue = "64",
     .minValue = 1,
     .maxValue = 1024,
     .help = "Datagrams received per system call (recvmmsg)."},
};

}  // namespace

config::Schema udpInputSchema() { return kUdpInputOptions; }

UdpInputConfig udpInputConfigFrom(const config::Section& section) {
  UdpInputConfig c;
  c.listenText = section.getString("listen");
  auto parsed = parseHostPort(c.listenText);
  if (!parsed) section.fail("listen", parsed.error().message());
  c.listen = std::move(*parsed);
  c.parser = parserFrom(section);
  c.splitLines = section.getBool("split_lines");
  c.maxDatagramSize = section.getSize("max_datagram_size");
  c.receiveBufferSize = section.getSize("receive_buffer_size");
  c.batchDatagrams = static_cast<int>(section.getInt("batch_datagrams"));
  return c;
}

std::vector<config::InputClaim> udpInputClaims(const config::Section& section) {
  UdpInputConfig c = udpInputConfigFrom(section);
  if (c.listen.port == 0) return {};
  std::string host = c.listen.host;
  std::transform(host.begin(), host.end(), host.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  if (isWildcardHost(host)) host.clear();
  return {config::InputClaim{fmt::format("UDP port {}", c.listen.port), std::move(host), "listen"}};
}

}  // namespace kinship::inputs
