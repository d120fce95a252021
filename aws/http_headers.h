#pragma once
// HeaderList: HTTP headers as name/value pairs in order, repeats allowed;
// what the signer signs and the transports send.

#include <string>
#include <utility>
#include <vector>

namespace kinship::aws {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

}  // namespace kinship::aws
