#include "tests/support/fake_kinesis/fake_kinesis.h"

#include <asio.hpp>
#include <stdexcept>

#include "common/log.h"
#include "tests/support/fake_kinesis/http_server.h"
#include "tests/support/fake_kinesis/service.h"

namespace kinship::fake {

FakeKinesis::FakeKinesis(FakeOptions options) : FakeKinesis(std::move(options), NoThrow{}) {
  if (auto status = init(); !status) {
    stop();
    throw std::runtime_error("fake kinesis: " + status.message());
  }
}

FakeKinesis::FakeKinesis(FakeOptions options, NoThrow)
    : service_(std::make_unique<KinesisService>(std::move(options))), io_(std::make_unique<asio::io_context>()) {}

Result<std::unique_ptr<FakeKinesis>> FakeKinesis::start(FakeOptions options) {
  std::unique_ptr<FakeKinesis> fake(new FakeKinesis(std::move(options), NoThrow{}));
  if (auto status = fake->init(); !status) return fail(status);
  return fake;
}

Status FakeKinesis::init() {
  const FakeOptions& options = service_->options();
  if (auto status = service_->start(); !status) return status;
  HttpServer::Limits limits;
  limits.maxBodyBytes = options.maxBodySize;
  limits.idleTimeout = options.idleTimeout;
  server_ = std::make_unique<HttpServer>(
      *io_,
      [service = service_.get()](const HttpRequest& request, HttpReply& reply) { service->handle(request, reply); },
      limits);
  if (!options.tlsCertificateFile.empty() || !options.tlsKeyFile.empty()) {
    if (auto status = server_->enableTls(options.tlsCertificateFile, options.tlsKeyFile); !status) return status;
  }
  if (auto status = server_->listen(options.host, options.port); !status) return status;
  port_ = server_->port();
  log::debug("fake-kinesis", "listening on {}:{} with {} thread(s)", options.host, port_, options.threads);
  int threads = std::max(1, options.threads);
  for (int i = 0; i < threads; ++i) {
    threads_.emplace_back([io = io_.get()] {
      // The guard keeps run() going while the server waits for connections.
      auto guard = asio::make_work_guard(*io);
      io->run();
    });
  }
  return Status::ok();
}

FakeKinesis::~FakeKinesis() { stop(); }

void FakeKinesis::stop() {
  if (stopped_) return;
  stopped_ = true;
  if (server_) server_->stop();
  io_->stop();
  for (auto& thread : threads_) thread.join();
  threads_.clear();
  service_->flush();
}

std::string FakeKinesis::url() const {
  const bool tls = !service_->options().tlsCertificateFile.empty();
  return (tls ? "https://127.0.0.1:" : "http://127.0.0.1:") + std::to_string(port_);
}
Stats FakeKinesis::stats() const { return service_->stats(); }
std::vector<StoredRecord> FakeKinesis::records(size_t from, size_t limit) const {
  return service_->records(from, limit);
}
Faults FakeKinesis::faults() const { return service_->faults(); }
void FakeKinesis::setFaults(const Faults& faults) { service_->setFaults(faults); }
void FakeKinesis::setLimits(uint64_t recordsPerSecond, uint64_t bytesPerSecond) {
  service_->setLimits(recordsPerSecond, bytesPerSecond);
}
Status FakeKinesis::createStream(std::string name, int shardCount, std::vector<HashKey> splits) {
  return service_->createStream(StreamSpec{std::move(name), shardCount, std::move(splits)});
}
Status FakeKinesis::deleteStream(std::string_view name) { return service_->deleteStream(name); }
std::string FakeKinesis::streamArn(std::string_view name) const { return service_->streamArn(name); }
void FakeKinesis::reset() { service_->reset(); }

}  // namespace kinship::fake
