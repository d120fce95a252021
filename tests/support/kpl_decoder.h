#pragma once
// KplDecoder: reads KPL aggregated records with libprotobuf, independently
// of kinship's hand-written encoder: the AggregatedRecord schema is built
// at run time as a FileDescriptorProto (no protoc step) and each message is
// parsed as a DynamicMessage. deaggregate() checks the magic and the MD5 and
// returns the user records with their keys; a record without the magic is
// one plain user record, as every deaggregator reads it. Test-only.

#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/text_format.h>
#include <openssl/evp.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace kinship::testing {

struct UserRecord {
  std::string data;
  std::string partitionKey;
  std::string explicitHashKey;  // empty: none
  bool operator==(const UserRecord&) const = default;
};

class KplDecoder {
 public:
  KplDecoder() {
    // The schema of the KPL's aggregation-format document, proto2.
    google::protobuf::FileDescriptorProto file;
    const bool parsed = google::protobuf::TextFormat::ParseFromString(R"pb(
      name: "kpl_aggregation.proto"
      syntax: "proto2"
      message_type {
        name: "AggregatedRecord"
        field { name: "partition_key_table" number: 1 label: LABEL_REPEATED type: TYPE_STRING }
        field { name: "explicit_hash_key_table" number: 2 label: LABEL_REPEATED type: TYPE_STRING }
        field { name: "records" number: 3 label: LABEL_REPEATED type: TYPE_MESSAGE type_name: ".Record" }
      }
      message_type {
        name: "Tag"
        field { name: "key" number: 1 label: LABEL_REQUIRED type: TYPE_STRING }
        field { name: "value" number: 2 label: LABEL_OPTIONAL type: TYPE_STRING }
      }
      message_type {
        name: "Record"
        field { name: "partition_key_index" number: 1 label: LABEL_REQUIRED type: TYPE_UINT64 }
        field { name: "explicit_hash_key_index" number: 2 label: LABEL_OPTIONAL type: TYPE_UINT64 }
        field { name: "data" number: 3 label: LABEL_REQUIRED type: TYPE_BYTES }
        field { name: "tags" number: 4 label: LABEL_REPEATED type: TYPE_MESSAGE type_name: ".Tag" }
      }
    )pb", &file);
    if (!parsed) throw std::runtime_error("bad schema text");
    const google::protobuf::FileDescriptor* descriptor = pool_.BuildFile(file);
    if (descriptor == nullptr) throw std::runtime_error("schema does not build");
    aggregated_ = descriptor->FindMessageTypeByName("AggregatedRecord");
    prototype_ = factory_.GetPrototype(aggregated_);
  }

  static bool isAggregated(std::string_view data) {
    return data.size() >= 4 + 16 && static_cast<unsigned char>(data[0]) == 0xF3 &&
           static_cast<unsigned char>(data[1]) == 0x89 && static_cast<unsigned char>(data[2]) == 0x9A &&
           static_cast<unsigned char>(data[3]) == 0xC2;
  }

  // The AggregatedRecord message of an aggregated record, parsed (throws
  // when the checksum or the message is wrong).
  std::unique_ptr<google::protobuf::Message> parse(std::string_view data) const {
    if (!isAggregated(data)) throw std::runtime_error("no KPL magic");
    const std::string_view message = data.substr(4, data.size() - 4 - 16);
    if (md5(message) != data.substr(data.size() - 16)) throw std::runtime_error("MD5 does not match");
    std::unique_ptr<google::protobuf::Message> parsed(prototype_->New());
    if (!parsed->ParseFromArray(message.data(), static_cast<int>(message.size()))) {
      throw std::runtime_error("the message does not parse");
    }
    return parsed;
  }

  // The user records in one Kinesis record (itself, when it is plain).
  std::vector<UserRecord> deaggregate(std::string_view data, std::string_view partitionKey,
                                      std::string_view explicitHashKey = {}) const {
    if (!isAggregated(data)) return {{std::string(data), std::string(partitionKey), std::string(explicitHashKey)}};
    auto message = parse(data);
    const google::protobuf::Reflection* r = message->GetReflection();
    const auto* keys = aggregated_->FindFieldByName("partition_key_table");
    const auto* hashKeys = aggregated_->FindFieldByName("explicit_hash_key_table");
    const auto* records = aggregated_->FindFieldByName("records");
    std::vector<UserRecord> out;
    for (int i = 0; i < r->FieldSize(*message, records); ++i) {
      const google::protobuf::Message& record = r->GetRepeatedMessage(*message, records, i);
      const google::protobuf::Reflection* rr = record.GetReflection();
      const google::protobuf::Descriptor* d = record.GetDescriptor();
      const auto keyIndex = rr->GetUInt64(record, d->FindFieldByName("partition_key_index"));
      if (keyIndex >= static_cast<uint64_t>(r->FieldSize(*message, keys))) throw std::runtime_error("key index");
      UserRecord u{rr->GetString(record, d->FindFieldByName("data")),
                   r->GetRepeatedString(*message, keys, static_cast<int>(keyIndex)),
                   {}};
      const auto* hashKeyIndex = d->FindFieldByName("explicit_hash_key_index");
      if (rr->HasField(record, hashKeyIndex)) {
        const auto index = rr->GetUInt64(record, hashKeyIndex);
        if (index >= static_cast<uint64_t>(r->FieldSize(*message, hashKeys))) {
          throw std::runtime_error("explicit hash key index");
        }
        u.explicitHashKey = r->GetRepeatedString(*message, hashKeys, static_cast<int>(index));
      }
      out.push_back(std::move(u));
    }
    return out;
  }

  static std::string md5(std::string_view bytes) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    if (EVP_Digest(bytes.data(), bytes.size(), out, &size, EVP_md5(), nullptr) != 1) throw std::runtime_error("md5");
    return std::string(reinterpret_cast<char*>(out), size);
  }

 private:
  google::protobuf::DescriptorPool pool_;
  google::protobuf::DynamicMessageFactory factory_{&pool_};
  const google::protobuf::Descriptor* aggregated_ = nullptr;
  const google::protobuf::Message* prototype_ = nullptr;
};

}  // namespace kinship::testing
