#pragma once
// The UDP input's options: schema table and typed form.

#include <cstddef>
#include <string>
#include <vector>

#include "config/config.h"
#include "config/schema.h"
#include "inputs/socket_address.h"
#include "pipeline/pipeline.h"

namespace kinship::inputs {

struct UdpInputConfig {
  HostPort listen;
  std::string listenText;  // as written, for messages
  pipeline::Parser parser = pipeline::Parser::kRaw;
  bool splitLines = false;
  size_t maxDatagramSize = 64 * 1024;
  size_t receiveBufferSize = 4 * 1024 * 1024;
  int batchDatagrams = 64;
};

config::Schema udpInputSchema();
// Throws ConfigError (through the section) for values the schema cannot check.
UdpInputConfig udpInputConfigFrom(const config::Section& section);
// The UDP port the input binds, for the loader's check that no two inputs
// share one; none for port 0, which the kernel picks afresh for each.
std::vector<config::InputClaim> udpInputClaims(const config::Section& section);

}  // namespace kinship::inputs
