#include "aws/refreshing_credentials.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <limits>
#include <utility>

#include "common/log.h"
#include "common/thread_name.h"

namespace kinship::aws {
namespace {

// For kinship_credentials_expiry_seconds: +Inf for keys that do not expire.
double secondsLeft(const Credentials& credentials, WallTime now) {
  if (!credentials.expiration) return std::numeric_limits<double>::infinity();
  return std::chrono::duration<double>(*credentials.expiration - now).count();
}

std::string formatWall(WallTime t) {
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", std::chrono::floor<std::chrono::seconds>(t));
}

}  // namespace

RefreshingCredentials::RefreshingCredentials(std::unique_ptr<CredentialsSource> source, const Clock& clock,
                                             Options options, std::shared_ptr<CredentialsMetrics> metrics)
    : source_(std::move(source)),
      clock_(clock),
      options_(options),
      metrics_(std::move(metrics)),
      random_(std::random_device{}()),
      provider_(source_->name()) {}

RefreshingCredentials::~RefreshingCredentials() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Status RefreshingCredentials::start() {
  if (started_) return Status::invalidArgument("credentials provider started twice");
  started_ = true;
  fetchNow();
  if (options_.runThread) thread_ = std::thread([this] { run(); });
  std::lock_guard lock(mu_);
  if (!lastError_.empty()) return Status::unavailable(lastError_);
  return Status::ok();
}

bool RefreshingCredentials::usable(const Credentials& credentials, WallTime now) const {
  return !credentials.expiration || now + options_.policy.expirySkew < *credentials.expiration;
}

Result<Credentials> RefreshingCredentials::current() {
  const WallTime now = clock_.wallNow();
  std::lock_guard lock(mu_);
  if (credentials_ && usable(*credentials_, now)) return *credentials_;
  if (credentials_) {
    return fail(Status::unavailable(fmt::format("AWS credentials from {} expired at {}{}{}", provider_,
                                                formatWall(*credentials_->expiration),
                                                lastError_.empty() ? "" : "; refreshing failed: ", lastError_)));
  }
  return fail(Status::unavailable(lastError_.empty() ? "no AWS credentials yet" : lastError_));
}

void RefreshingCredentials::refreshSoon() {
  {
    std::lock_guard lock(mu_);
    forced_ = true;
  }
  wake_.notify_all();
}

std::string RefreshingCredentials::providerName() const {
  std::lock_guard lock(mu_);
  return provider_;
}

void RefreshingCredentials::refreshIfDue() {
  const WallTime now = clock_.wallNow();
  {
    std::lock_guard lock(mu_);
    if (metrics_ && credentials_) {
      metrics_->setSecondsLeft(secondsLeft(*credentials_, now));
    }
    // A forced refresh still waits minBackoff after the last fetch: an
    // endpoint that keeps saying "expired" must not make us hammer STS.
    const bool forcedNow = forced_ && (!lastFetch_ || now >= *lastFetch_ + options_.policy.minBackoff);
    const bool due = forcedNow || (nextFetch_ && now >= *nextFetch_);
    if (!due) return;
    forced_ = false;
  }
  fetchNow();
}

// Fetches without holding the lock, so current() answers meanwhile.
void RefreshingCredentials::fetchNow() {
  Result<Credentials> fetched = source_->fetch();
  const std::string provider(source_->name());
  const WallTime now = clock_.wallNow();
  const double random01 = std::uniform_real_distribution<double>(0.0, 1.0)(random_);
  if (metrics_) metrics_->refreshed(provider, fetched.has_value());

  std::lock_guard lock(mu_);
  lastFetch_ = now;
  const bool firstFromThisProvider = provider_ != provider || !credentials_;
  provider_ = provider;
  if (fetched) {
    if (firstFromThisProvider) {
      log::info("aws", "AWS credentials from {}{}", provider,
                fetched->expiration ? ", valid until " + formatWall(*fetched->expiration) : std::string());
    } else if (failures_ > 0) {
      log::info("aws", "AWS credentials from {} refreshed after {} failed attempt(s)", provider, failures_);
    } else {
      log::debug("aws", "AWS credentials from {} refreshed{}", provider,
                 fetched->expiration ? ", valid until " + formatWall(*fetched->expiration) : std::string());
    }
    failures_ = 0;
    lastError_.clear();
    nextFetch_ = refreshTimeAfterSuccess(now, fetched->expiration, options_.policy, random01);
    credentials_ = std::move(*fetched);
    if (metrics_) {
      metrics_->setSecondsLeft(secondsLeft(*credentials_, now));
    }
    return;
  }
  ++failures_;
  lastError_ = fetched.error().message();
  std::optional<WallTime> expiration = credentials_ ? credentials_->expiration : std::nullopt;
  nextFetch_ = retryTimeAfterFailure(now, failures_, expiration, options_.policy, random01);
  if (credentials_ && usable(*credentials_, now)) {
    log::warn("aws", "refreshing AWS credentials failed ({}); the current ones stay valid until {}; next try at {}",
              lastError_, credentials_->expiration ? formatWall(*credentials_->expiration) : std::string("(never)"),
              formatWall(*nextFetch_));
  } else {
    log::error("aws", "no usable AWS credentials: {}; sending is paused; next try at {}", lastError_,
               formatWall(*nextFetch_));
  }
}

void RefreshingCredentials::run() {
  setCurrentThreadName("credentials");
  std::unique_lock lock(mu_);
  while (!stopping_) {
    wake_.wait_for(lock, options_.pollInterval);  // refreshSoon() and the destructor notify
    if (stopping_) break;
    lock.unlock();
    refreshIfDue();
    lock.lock();
  }
}

}  // namespace kinship::aws
