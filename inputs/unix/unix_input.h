#pragma once
// The `unix` input type: a Unix socket that local processes send records to,
// as a stream (UnixStreamInput) or as datagrams (UnixDatagramInput),
// chosen by the `mode` option.

#include <memory>

#include "inputs/input.h"
#include "inputs/unix/unix_input_config.h"

namespace kinship::inputs {

std::unique_ptr<Input> makeUnixInput(const InputContext& context, UnixInputConfig config);

}  // namespace kinship::inputs
