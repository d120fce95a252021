#pragma once
// The kinship_credentials_* series of one sink's credentials:
//   kinship_credentials_refreshes_total{pipeline,provider,result}
//   kinship_credentials_expiry_seconds{pipeline}  time left (+Inf: never)
// The provider label names the source (never a secret). Thread-safe.

#include <string>
#include <string_view>

namespace prometheus {
class Registry;
class Gauge;
template <typename T>
class Family;
class Counter;
}  // namespace prometheus

namespace kinship::aws {

class CredentialsMetrics {
 public:
  CredentialsMetrics(prometheus::Registry& registry, std::string pipeline);

  void refreshed(std::string_view provider, bool succeeded);
  void setSecondsLeft(double seconds);

 private:
  std::string pipeline_;
  prometheus::Family<prometheus::Counter>& refreshes_;
  prometheus::Gauge& secondsLeft_;
};

}  // namespace kinship::aws
