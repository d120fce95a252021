#pragma once
// The KPL aggregation format: every byte of an aggregated Kinesis record,
// as the Kinesis Producer Library writes it and the KCL, the Lambda
// deaggregation modules and Firehose read it. The encoder (kpl_aggregator.cc)
// and its tests agree on these constants only; nothing else knows the layout.
//
// Aggregated record = the data of one Kinesis record:
//   [0..4)      magic F3 89 9A C2
//   [4..n-16)   an AggregatedRecord protocol buffer message (proto2, below)
//   [n-16..n)   MD5 of bytes [4..n-16): the message alone, not the magic
// A reader that finds no magic at the start (or a record shorter than
// magic + checksum) takes the record as one plain user record, so plain and
// aggregated records can share a stream.
//
// The message (field numbers and wire types; schema names as the KPL's):
//   message AggregatedRecord {
//     repeated string partition_key_table     = 1;  // tag 0x0A: LEN
//     repeated string explicit_hash_key_table = 2;  // tag 0x12: LEN
//     repeated Record records                 = 3;  // tag 0x1A: LEN
//   }
//   message Record {
//     required uint64 partition_key_index     = 1;  // tag 0x08: VARINT
//     optional uint64 explicit_hash_key_index = 2;  // tag 0x10: VARINT
//     required bytes  data                    = 3;  // tag 0x1A: LEN
//     repeated Tag    tags                    = 4;  // never written
//   }
//   message Tag { required string key = 1; optional string value = 2; }
// Protocol buffer encoding: a field is its tag (field number << 3 | wire
// type, one byte for these) then, for VARINT, the value as a varint; for
// LEN, the length as a varint then that many bytes. A varint is LEB128:
// 7 bits per byte, low group first, high bit set on every byte but the
// last (at most 10 bytes for 64 bits). Repeated fields are their entries,
// one field each, in order.
//
// kinship writes the fields in field-number order (each key table entry
// once, in the order its key first appears; then the records in the order
// they were read), as protobuf's own serializer would: readers that expect
// the canonical order find it.
//
// Each user record keeps its own partition key (index into the key table)
// and, when it has one, its explicit hash key (index into that table). The
// Kinesis record that carries the aggregate has a partition key of its own
// (kinship uses its first user record's) and an explicit hash key inside
// the hash-key range of the shard its user records route to, so the
// aggregate lands in the shard each of them would have.

#include <cstddef>
#include <cstdint>

namespace kinship::kinesis::kpl {

inline constexpr unsigned char kMagic[4] = {0xF3, 0x89, 0x9A, 0xC2};
inline constexpr size_t kMagicSize = sizeof kMagic;
inline constexpr size_t kChecksumSize = 16;  // MD5

// Wire types.
inline constexpr uint8_t kVarint = 0;
inline constexpr uint8_t kLen = 2;
constexpr uint8_t tag(uint8_t field, uint8_t wireType) { return static_cast<uint8_t>(field << 3 | wireType); }

// AggregatedRecord.
inline constexpr uint8_t kPartitionKeyTableTag = tag(1, kLen);     // 0x0A
inline constexpr uint8_t kExplicitHashKeyTableTag = tag(2, kLen);  // 0x12
inline constexpr uint8_t kRecordsTag = tag(3, kLen);               // 0x1A
// Record.
inline constexpr uint8_t kPartitionKeyIndexTag = tag(1, kVarint);     // 0x08
inline constexpr uint8_t kExplicitHashKeyIndexTag = tag(2, kVarint);  // 0x10
inline constexpr uint8_t kDataTag = tag(3, kLen);                     // 0x1A

// Bytes of `value` as a varint.
constexpr size_t varintSize(uint64_t value) {
  size_t n = 1;
  while (value >= 0x80) {
    value >>= 7;
    ++n;
  }
  return n;
}

// Bytes of a LEN field (tag, length, payload) with a payload of `size` bytes.
constexpr size_t lenFieldSize(size_t size) { return 1 + varintSize(size) + size; }

}  // namespace kinship::kinesis::kpl
