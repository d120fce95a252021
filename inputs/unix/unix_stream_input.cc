#include "inputs/unix/unix_stream_input.h"

#include <sys/socket.h>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>

#include <asio/post.hpp>

#include "common/log.h"

namespace kinship::inputs {

namespace {

// Submit early when a batch gets big, to keep memory per input bounded.
constexpr size_t kBatchFlushBytes = 1024 * 1024;
// While paused, how often to look whether the queue has room again. The
// queue has a single space callback, which a file input of the same
// pipeline may already hold, so this input polls instead.
// After a failed accept (EMFILE, ENFILE, ...), wait before trying again rather than spin.
constexpr auto kAcceptRetryDelay = std::chrono::milliseconds(100);

}  // namespace

UnixStreamInput::UnixStreamInput(const InputContext& context, UnixInputConfig config)
    : io_(context.io),
      pipeline_(context.pipeline),
      name_("unix input " + context.id + " on " + config.path),
      config_(std::move(config)),
      file_(config_.path),
      acceptor_(context.io),
      acceptRetryTimer_(context.io),
      alive_(std::make_shared<bool>(true)),
      records_(inputRecordsCounter(context.metrics, inputLabels(context))),
      bytes_(inputBytesCounter(context.metrics, inputLabels(context))),
      tooLong_(inputDroppedCounter(context.metrics, inputLabels(context), "line_too_long")),
      overBudget_(inputDroppedCounter(context.metrics, inputLabels(context), "buffer_limit")),
      badFrames_(inputDroppedCounter(context.metrics, inputLabels(context), "bad_frame")),
      rejected_(&inputConnectionsRejectedCounter(context.metrics, inputLabels(context))),
      connectionsGauge_(&inputConnectionsGauge(context.metrics, inputLabels(context))) {}

UnixStreamInput::~UnixStreamInput() {
  *alive_ = false;
  stop();
}

Status UnixStreamInput::start() {
  if (Status s = file_.prepare(SOCK_STREAM, config_.socketGroup); !s) return s;
  asio::error_code ec;
  const asio::local::stream_protocol::endpoint endpoint(config_.path);
  acceptor_.open(endpoint.protocol(), ec);
  if (ec) return Status::ioError(fmt::format("{}: cannot create the socket: {}", name_, ec.message()));
  UnixSocketFile::restrictBeforeBind(acceptor_.native_handle(), config_.socketMode);
  acceptor_.bind(endpoint, ec);
  if (ec) {
    asio::error_code ignored;
    acceptor_.close(ignored);
    return Status::ioError(fmt::format("{}: cannot bind: {}", name_, ec.message()));
  }
  Status s = file_.finishBind(config_.socketMode);
  if (s) {
    acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) s = Status::ioError(fmt::format("{}: cannot listen: {}", name_, ec.message()));
  }
  if (!s) {
    asio::error_code ignored;
    acceptor_.close(ignored);
    file_.remove();
    return s;
  }
  running_ = true;
  std::weak_ptr<bool> alive = alive_;
  pipeline_.queue().addSpaceCallback([this, alive, &io = io_] {
    // Runs on the sink's thread: hop to the I/O thread.
    asio::post(io, [this, alive] {
      if (auto a = alive.lock(); a && *a) resume();
    });
  });
  accept();
  log::info("unix", "{}: accepting stream connections", name_);
  return Status::ok();
}

void UnixStreamInput::stop() {
  if (!running_) return;
  running_ = false;
  asio::error_code ignored;
  acceptRetryTimer_.cancel();
  acceptor_.close(ignored);
  // What clients sent before we stopped is kept, even a line they had not
  // finished: it is all they will ever send on this connection.
  for (auto& [id, connection] : connections_) {
    if (!batch_) batch_ = pipeline_.queue().acquire();
    current_ = connection.get();
    if (Status s = connection->framer->finish(*this); !s) onBadFraming(*connection, s);
    connection->socket.close(ignored);
  }
  current_ = nullptr;
  connections_.clear();
  buffered_ = 0;
  connectionsGauge_->Set(0);
  flush();
  batch_.reset();
  file_.remove();
}

void UnixStreamInput::accept() {
  acceptor_.async_accept(
      [this, alive = alive_](const asio::error_code& ec, asio::local::stream_protocol::socket socket) {
        if (!*alive || !running_ || ec == asio::error::operation_aborted) return;
        if (ec) {
          log::warn("unix", "{}: cannot accept a connection ({}); retrying in {} ms", name_, ec.message(),
                    kAcceptRetryDelay.count());
          acceptRetryTimer_.expires_after(kAcceptRetryDelay);
          acceptRetryTimer_.async_wait([this, alive](const asio::error_code& timerError) {
            if (!timerError && *alive && running_) accept();
          });
          return;
        }
        onAccepted(std::move(socket));
        accept();
      });
}

void UnixStreamInput::onAccepted(asio::local::stream_protocol::socket socket) {
  const bool tooMany = connections_.size() >= static_cast<size_t>(config_.maxConnections);
  if (tooMany || buffered_ + kStreamReadBufferSize + pipeline::kParsePadding > config_.maxBufferSize) {
    rejected_->Increment();
    // The first of a burst is enough in the log; the counter has the rest.
    if (rejected_->Value() == 1 || static_cast<uint64_t>(rejected_->Value()) % 1000 == 0) {
      if (tooMany) {
        log::warn("unix", "{}: closed a new connection: max_connections ({}) already open ({} so far)", name_,
                  config_.maxConnections, static_cast<uint64_t>(rejected_->Value()));
      } else {
        log::warn("unix",
                  "{}: closed a new connection: the {} open ones hold {} of max_buffer_size ({} bytes) ({} so far)",
                  name_, connections_.size(), buffered_, config_.maxBufferSize,
                  static_cast<uint64_t>(rejected_->Value()));
      }
    }
    asio::error_code ignored;
    socket.close(ignored);
    return;
  }
  std::unique_ptr<StreamFramer> framer;
  if (config_.framing == UnixInputConfig::Framing::kOctetCounted) {
    framer = std::make_unique<OctetFrameBuffer>(kStreamReadBufferSize, config_.maxLineSize);
  } else {
    framer = std::make_unique<LineBuffer>(kStreamReadBufferSize, config_.maxLineSize);
  }
  auto connection = std::make_shared<Connection>(std::move(socket), std::move(framer));
  connection->id = nextConnectionId_++;
  buffered_ += connection->framer->allocatedBytes();
  connections_.emplace(connection->id, connection);
  connectionsGauge_->Set(static_cast<double>(connections_.size()));
  if (paused_) {
    connection->waitingForRoom = true;
  } else {
    read(connection);
  }
}

void UnixStreamInput::read(const ConnectionPtr& connection) {
  // No read is pending on this connection, so its buffer may move or shrink.
  StreamFramer& framer = *connection->framer;
  const size_t before = framer.allocatedBytes();
  auto room = framer.writable(config_.maxBufferSize > buffered_ ? config_.maxBufferSize - buffered_ : 0);
  buffered_ = buffered_ - before + framer.allocatedBytes();
  connection->socket.async_read_some(asio::buffer(room.data(), room.size()),
                                     [this, alive = alive_, connection](const asio::error_code& ec, size_t n) {
                                       if (*alive) onRead(connection, ec, n);
                                     });
}

void UnixStreamInput::onRead(const ConnectionPtr& connection, const asio::error_code& ec, size_t n) {
  if (!running_ || ec == asio::error::operation_aborted) return;
  if (!batch_) batch_ = pipeline_.queue().acquire();
  current_ = connection.get();
  StreamFramer& framer = *connection->framer;
  const size_t before = framer.allocatedBytes();
  bool closing = static_cast<bool>(ec);
  if (n > 0) {
    if (Status s = framer.commit(n, *this); !s) {
      onBadFraming(*connection, s);
      closing = true;
    }
  }
  if (ec) {
    if (ec != asio::error::eof) {
      log::debug("unix", "{}: connection {} failed: {}", name_, connection->id, ec.message());
    }
    if (Status s = framer.finish(*this); !s) onBadFraming(*connection, s);
  }
  buffered_ = buffered_ - before + framer.allocatedBytes();
  current_ = nullptr;

  if (batch_->bytes() >= kBatchFlushBytes) {
    flush();
  } else {
    scheduleFlush();
  }
  if (closing) {
    close(connection);
  } else if (paused_) {
    connection->waitingForRoom = true;
  } else {
    read(connection);
  }
}

void UnixStreamInput::close(const ConnectionPtr& connection) {
  asio::error_code ignored;
  connection->socket.close(ignored);
  if (connections_.erase(connection->id) != 0) buffered_ -= connection->framer->allocatedBytes();
  connectionsGauge_->Set(static_cast<double>(connections_.size()));
}

void UnixStreamInput::scheduleFlush() {
  if (flushScheduled_) return;
  flushScheduled_ = true;
  // Posted behind the reads already complete, so one batch gathers the
  // lines of every connection that was ready.
  asio::post(io_, [this, alive = alive_] {
    if (!*alive) return;
    flushScheduled_ = false;
    if (running_) flush();
  });
}

void UnixStreamInput::flush() {
  records_.publish();
  bytes_.publish();
  tooLong_.publish();
  overBudget_.publish();
  badFrames_.publish();
  if (batch_ && !batch_->empty()) pipeline_.submit(std::move(batch_));
  if (running_ && !paused_ && pipeline_.queue().full()) pause();
}

void UnixStreamInput::pause() {
  paused_ = true;
  log::debug("unix", "{}: pipeline queue full: pausing reads", name_);
}

void UnixStreamInput::resume() {
  if (!paused_ || !running_) return;
  paused_ = false;
  log::debug("unix", "{}: pipeline queue has room: resuming reads", name_);
  for (auto& [id, connection] : connections_) {
    if (connection->waitingForRoom) {
      connection->waitingForRoom = false;
      read(connection);
    }
  }
}

void UnixStreamInput::onLine(std::string_view line) {
  records_.add();
  bytes_.add(line.size());
  pipeline_.addLine(line, config_.parser, *batch_, pipeline::RecordOrigin{.source = config_.path});
}

void UnixStreamInput::onBadFraming(const Connection& connection, const Status& why) {
  badFrames_.add();
  // One per connection (it is closed), and of a burst of such clients the
  // first in the log is enough: the counter has the rest.
  if (badFrameDrops_++ % 1000 == 0) {
    log::warn("unix", "{}: closed connection {}: its octet-counted frames cannot be read any further: {} ({} so far)",
              name_, connection.id, why.message(), badFrameDrops_);
  }
}

void UnixStreamInput::onLineTooLong(uint64_t bytes) {
  tooLong_.add();
  // Once per connection: a client that only sends long lines must not flood the log.
  if (current_ != nullptr && !current_->warnedTooLong) {
    current_->warnedTooLong = true;
    log::warn("unix",
              "{}: dropped a line of {} bytes or more from connection {}: longer than max_line_size ({} "
              "bytes); further ones on this connection are only counted",
              name_, bytes, current_->id, config_.maxLineSize);
  }
}

void UnixStreamInput::onLineOverBudget(uint64_t bytes) {
  overBudget_.add();
  // Many clients hit this at once: the first of a burst is enough in the
  // log, the counter has the rest.
  if (overBudgetDrops_++ % 1000 == 0) {
    log::warn("unix",
              "{}: dropped a line of {} bytes or more from connection {}: holding it would have taken the "
              "connections' receive buffers past max_buffer_size ({} bytes) ({} so far)",
              name_, bytes, current_ != nullptr ? current_->id : 0, config_.maxBufferSize, overBudgetDrops_);
  }
}

}  // namespace kinship::inputs
