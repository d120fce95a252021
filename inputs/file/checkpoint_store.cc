#include "inputs/file/checkpoint_store.h"

#include <simdjson.h>

#include <string_view>

#include "common/private_files.h"

namespace kinship::inputs {

namespace {

constexpr int64_t kFormatVersion = 1;
constexpr char kHexDigits[] = "0123456789abcdef";

// JSON string contents for `text`. Paths are bytes, not necessarily UTF-8:
// a path that is not valid UTF-8 has its high bytes written as \u00XX, which
// reads back differently, but the path is only informational.
void appendEscaped(std::string& out, std::string_view text) {
  const bool utf8 = simdjson::validate_utf8(text.data(), text.size());
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (byte < 0x20 || (byte >= 0x80 && !utf8)) {
      out.append("\\u00");
      out.push_back(kHexDigits[byte >> 4]);
      out.push_back(kHexDigits[byte & 0xf]);
    } else {
      out.push_back(c);
    }
  }
}

void appendHex(std::string& out, std::string_view bytes) {
  for (char c : bytes) {
    auto byte = static_cast<unsigned char>(c);
    out.push_back(kHexDigits[byte >> 4]);
    out.push_back(kHexDigits[byte & 0xf]);
  }
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool decodeHex(std::string_view hex, std::string& out) {
  if (hex.size() % 2 != 0) return false;
  out.clear();
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = hexValue(hex[i]);
    int lo = hexValue(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return true;
}

}  // namespace

CheckpointStore::CheckpointStore(std::string directory, const std::string& name, Env& env)
    : env_(env),
      directory_(std::move(directory)),
      path_(directory_ + "/" + name + ".json"),
      tmpPath_(path_ + ".tmp") {}

Status CheckpointStore::prepare() {
  if (Status s = createPrivateDirectories(directory_); !s) {
    return Status::ioError("cannot create checkpoint directory " + directory_ + ": " + s.message());
  }
  // Writing the temporary file proves the directory is usable now, rather
  // than at the first checkpoint, when nobody is watching the start-up.
  // Removing it also clears a leftover of a crash, which may have a wider
  // mode that O_TRUNC would keep and the rename carry to the checkpoint.
  (void)env_.removeFile(tmpPath_);  // absent, usually
  auto probe = env_.openWritable(tmpPath_);
  if (!probe) return Status::ioError("cannot write in checkpoint directory " + directory_ + ": " + probe.error().message());
  (void)(*probe)->close();
  (void)env_.removeFile(tmpPath_);
  return Status::ok();
}

Result<std::vector<FileCheckpoint>> CheckpointStore::load() const {
  std::vector<FileCheckpoint> files;
  auto file = env_.openReadable(path_);
  if (!file && file.error().code() == Status::Code::kNotFound) return files;
  auto cannotRead = [this](const Status& why) {
    return fail(Status::ioError("cannot read checkpoint file " + path_ + ": " + why.message()));
  };
  if (!file) return cannotRead(file.error());
  auto size = (*file)->size();
  if (!size) return cannotRead(size.error());
  simdjson::padded_string text(static_cast<size_t>(*size));
  auto read = (*file)->read(0, text.size(), text.data());
  if (!read) return cannotRead(read.error());
  // A file cut short meanwhile reads as what it holds now (and then most
  // likely as corrupt, below).
  if (*read < text.size()) text = simdjson::padded_string(text.data(), *read);
  auto corrupt = [this](const std::string& why) {
    return fail(Status::corruption("checkpoint file " + path_ + " is not valid: " + why));
  };
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (auto error = parser.parse(text).get(root); error != simdjson::SUCCESS) {
    return corrupt(simdjson::error_message(error));
  }
  int64_t version = 0;
  if (root["version"].get_int64().get(version) != simdjson::SUCCESS || version != kFormatVersion) {
    return corrupt("no \"version\": 1");
  }
  simdjson::dom::array list;
  if (root["files"].get_array().get(list) != simdjson::SUCCESS) return corrupt("no \"files\" array");
  for (simdjson::dom::element entry : list) {
    FileCheckpoint file;
    uint64_t device = 0;
    uint64_t inode = 0;
    uint64_t fingerprintBytes = 0;
    std::string_view path;
    std::string_view fingerprint;
    if (entry["device"].get_uint64().get(device) != simdjson::SUCCESS ||
        entry["inode"].get_uint64().get(inode) != simdjson::SUCCESS ||
        entry["offset"].get_uint64().get(file.offset) != simdjson::SUCCESS ||
        entry["fingerprint_bytes"].get_uint64().get(fingerprintBytes) != simdjson::SUCCESS ||
        entry["fingerprint"].get_string().get(fingerprint) != simdjson::SUCCESS ||
        entry["path"].get_string().get(path) != simdjson::SUCCESS) {
      return corrupt("an entry lacks device, inode, offset, fingerprint_bytes, fingerprint or path");
    }
    if (!decodeHex(fingerprint, file.fingerprint) || file.fingerprint.size() != fingerprintBytes ||
        fingerprintBytes > kFingerprintBytes) {
      return corrupt("a fingerprint is not hex of fingerprint_bytes bytes (at most " +
                     std::to_string(kFingerprintBytes) + ")");
    }
    // Optional: absent in files written before it was kept.
    if (auto tailField = entry["tail"]; tailField.error() != simdjson::NO_SUCH_FIELD) {
      std::string_view tail;
      if (tailField.get_string().get(tail) != simdjson::SUCCESS || !decodeHex(tail, file.tail) ||
          file.tail.size() > kTailBytes || file.tail.size() > file.offset) {
        return corrupt("a tail is not hex of at most " + std::to_string(kTailBytes) + " bytes before its offset");
      }
    }
    file.identity = {static_cast<dev_t>(device), static_cast<ino_t>(inode)};
    file.path = path;
    files.push_back(std::move(file));
  }
  return files;
}

Status CheckpointStore::save(const std::vector<FileCheckpoint>& files) {
  text_.clear();
  text_.append("{\"version\":");
  text_.append(std::to_string(kFormatVersion));
  text_.append(",\"files\":[");
  for (size_t i = 0; i < files.size(); ++i) {
    const FileCheckpoint& f = files[i];
    text_.append(i == 0 ? "\n" : ",\n");
    text_.append("{\"path\":\"");
    appendEscaped(text_, f.path);
    text_.append("\",\"device\":");
    text_.append(std::to_string(static_cast<uint64_t>(f.identity.device)));
    text_.append(",\"inode\":");
    text_.append(std::to_string(static_cast<uint64_t>(f.identity.inode)));
    text_.append(",\"offset\":");
    text_.append(std::to_string(f.offset));
    text_.append(",\"fingerprint_bytes\":");
    text_.append(std::to_string(f.fingerprint.size()));
    text_.append(",\"fingerprint\":\"");
    appendHex(text_, f.fingerprint);
    text_.append("\",\"tail\":\"");
    appendHex(text_, f.tail);
    text_.append("\"}");
  }
  text_.append("\n]}\n");

  return replaceFile(env_, directory_, path_, tmpPath_, text_);
}

}  // namespace kinship::inputs
