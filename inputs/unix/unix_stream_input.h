#pragma once
// UnixStreamInput: a Unix stream socket that local clients connect to and
// write records on, many clients at once: newline-delimited lines, or
// octet-counted frames (`framing`). Each connection is cut into records on
// its own (see LineBuffer, OctetFrameBuffer), so records from different
// clients never mix; a client's last line without a newline counts when it
// closes. A connection whose frames cannot be told apart any more (a length
// that is not a number) is closed, counted and logged. While the pipeline's queue is full the input stops
// reading every connection (clients block in write(), nothing is lost) and
// resumes once the queue has room. The connections' receive buffers
// together stay within max_buffer_size: a connection is refused, or a line
// dropped (counted), rather than let them grow past it.
// Threading: lives on the I/O thread (see inputs/input.h).

// Standard headers before Asio's (see inputs/udp/datagram_reader.h).
#include <cstdint>
#include <map>
#include <memory>

#include <asio/local/stream_protocol.hpp>
#include <asio/steady_timer.hpp>

#include "inputs/input.h"
#include "inputs/input_metrics.h"
#include "inputs/unix/line_buffer.h"
#include "inputs/unix/octet_frame_buffer.h"
#include "inputs/unix/unix_input_config.h"
#include "inputs/unix/unix_socket_file.h"
#include "pipeline/pipeline.h"

namespace prometheus {
class Gauge;
}

namespace kinship::inputs {

class UnixStreamInput final : public Input, private LineHandler {
 public:
  UnixStreamInput(const InputContext& context, UnixInputConfig config);
  ~UnixStreamInput() override;

  Status start() override;
  void stop() override;

  size_t connectionCount() const { return connections_.size(); }
  // Memory held by the connections' receive buffers (at most max_buffer_size).
  size_t bufferedBytes() const { return buffered_; }

 private:
  struct Connection {
    Connection(asio::local::stream_protocol::socket s, std::unique_ptr<StreamFramer> f)
        : socket(std::move(s)), framer(std::move(f)) {}
    asio::local::stream_protocol::socket socket;
    std::unique_ptr<StreamFramer> framer;  // LineBuffer or OctetFrameBuffer
    uint64_t id = 0;
    bool waitingForRoom = false;  // read not restarted because the input is paused
    bool warnedTooLong = false;
  };
  using ConnectionPtr = std::shared_ptr<Connection>;

  void accept();
  void onAccepted(asio::local::stream_protocol::socket socket);
  void read(const ConnectionPtr& connection);
  void onRead(const ConnectionPtr& connection, const asio::error_code& ec, size_t n);
  void close(const ConnectionPtr& connection);
  // The connection's records cannot be cut out any more: counted, logged.
  void onBadFraming(const Connection& connection, const Status& why);
  void scheduleFlush();
  void flush();
  void pause();
  void resume();

  void onLine(std::string_view line) override;
  void onLineTooLong(uint64_t bytes) override;
  void onLineOverBudget(uint64_t bytes) override;

  asio::io_context& io_;
  pipeline::Pipeline& pipeline_;
  std::string name_;
  UnixInputConfig config_;
  UnixSocketFile file_;
  asio::local::stream_protocol::acceptor acceptor_;
  asio::steady_timer acceptRetryTimer_;
  std::map<uint64_t, ConnectionPtr> connections_;
  uint64_t nextConnectionId_ = 0;
  Connection* current_ = nullptr;  // whose lines onLine() is receiving, for messages
  size_t buffered_ = 0;            // sum of the connections' StreamFramer::allocatedBytes()
  pipeline::BatchPtr batch_;
  bool running_ = false;
  bool paused_ = false;
  bool flushScheduled_ = false;
  // Lets handlers still queued after destruction find out the input is gone.
  std::shared_ptr<bool> alive_;

  PendingCount records_;
  PendingCount bytes_;
  PendingCount tooLong_;
  PendingCount overBudget_;
  PendingCount badFrames_;
  uint64_t overBudgetDrops_ = 0;  // for the log; overBudget_ counts them too
  uint64_t badFrameDrops_ = 0;   // for the log; badFrames_ counts them too
  prometheus::Counter* rejected_;
  prometheus::Gauge* connectionsGauge_;
};

}  // namespace kinship::inputs
