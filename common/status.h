#pragma once
// Status and Result: the error channel of every I/O and data path.
// Exceptions are reserved for fatal configuration errors at startup.

#include "common/expected.h"
#include <string>
#include <string_view>
#include <utility>

namespace kinship {

class Status {
 public:
  enum class Code { kOk, kInvalidArgument, kNotFound, kIoError, kUnavailable, kCorruption, kInternal };

  Status() = default;
  static Status ok() { return Status(); }
  static Status invalidArgument(std::string msg) { return Status(Code::kInvalidArgument, std::move(msg)); }
  static Status notFound(std::string msg) { return Status(Code::kNotFound, std::move(msg)); }
  static Status ioError(std::string msg) { return Status(Code::kIoError, std::move(msg)); }
  static Status unavailable(std::string msg) { return Status(Code::kUnavailable, std::move(msg)); }
  static Status corruption(std::string msg) { return Status(Code::kCorruption, std::move(msg)); }
  static Status internal(std::string msg) { return Status(Code::kInternal, std::move(msg)); }

  bool isOk() const { return code_ == Code::kOk; }
  explicit operator bool() const { return isOk(); }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // The same code, its message after `prefix` ("reading x: " + message).
  Status prefixed(std::string_view prefix) const { return Status(code_, std::string(prefix) + message_); }

 private:
  Status(Code code, std::string msg) : code_(code), message_(std::move(msg)) {}
  Code code_ = Code::kOk;
  std::string message_;
};

template <typename T>
using Result = expected<T, Status>;

inline unexpected<Status> fail(Status s) { return unexpected<Status>(std::move(s)); }

}  // namespace kinship
