#include "aws/http_transport.h"

namespace kinship::aws {

std::string_view transportFailureName(TransportFailure failure) {
  switch (failure) {
    case TransportFailure::kNone: return "none";
    case TransportFailure::kConnect: return "connect";
    case TransportFailure::kTimeout: return "timeout";
    case TransportFailure::kReset: return "reset";
    case TransportFailure::kTls: return "tls";
    case TransportFailure::kDns: return "dns";
    case TransportFailure::kOther: return "other";
  }
  return "other";
}

}  // namespace kinship::aws
