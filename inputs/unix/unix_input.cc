#include "inputs/unix/unix_input.h"

#include "inputs/unix/unix_datagram_input.h"
#include "inputs/unix/unix_stream_input.h"

namespace kinship::inputs {

std::unique_ptr<Input> makeUnixInput(const InputContext& context, UnixInputConfig config) {
  if (config.mode == UnixInputConfig::Mode::kDatagram) {
    return std::make_unique<UnixDatagramInput>(context, std::move(config));
  }
  return std::make_unique<UnixStreamInput>(context, std::move(config));
}

}  // namespace kinship::inputs
