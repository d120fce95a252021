#include "sinks/kinesis/put_records_encoder.h"

#include <gtest/gtest.h>
#include <cbor.h>
#include <simdjson.h>

#include <random>
#include <string>

#include "common/json_escape.h"

using namespace kinship::kinesis;
using kinship::appendJsonEscaped;

namespace {

// Reference base64 (RFC 4648, with padding), written plainly for the test.
std::string base64(std::string_view in) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    uint32_t v = (uint32_t(uint8_t(in[i])) << 16) | (uint32_t(uint8_t(in[i + 1])) << 8) | uint8_t(in[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  size_t rest = in.size() - i;
  if (rest == 1) {
    uint32_t v = uint32_t(uint8_t(in[i])) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (rest == 2) {
    uint32_t v = (uint32_t(uint8_t(in[i])) << 16) | (uint32_t(uint8_t(in[i + 1])) << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

std::string bodyOf(std::initializer_list<std::pair<std::string, std::string>> records, std::string_view field = "StreamName",
                   std::string_view stream = "s") {
  PutRecordsEncoder e(field, stream);
  e.begin();
  for (const auto& [data, key] : records) e.add(data, key);
  return std::string(e.finish());
}

std::string escaped(std::string_view text) {
  std::string out = "[";
  appendJsonEscaped(out, text);
  out += "]";
  return out;
}

}  // namespace

TEST(PutRecordsEncoder, NoRecords) {
  PutRecordsEncoder e("StreamName", "s");
  e.begin();
  EXPECT_EQ(e.records(), 0u);
  EXPECT_EQ(e.finish(), R"({"StreamName":"s","Records":[]})");
}

TEST(PutRecordsEncoder, OneRecord) {
  EXPECT_EQ(bodyOf({{"hi", "k"}}), R"({"StreamName":"s","Records":[{"Data":"aGk=","PartitionKey":"k"}]})");
}

TEST(PutRecordsEncoder, ThreeRecords) {
  PutRecordsEncoder e("StreamName", "my-stream");
  e.begin();
  e.add("hello", "k1");
  e.add("", "k2");
  e.add("{\"a\":1}", "k3");
  EXPECT_EQ(e.records(), 3u);
  EXPECT_EQ(e.finish(),
            R"({"StreamName":"my-stream","Records":[)"
            R"({"Data":"aGVsbG8=","PartitionKey":"k1"},)"
            R"({"Data":"","PartitionKey":"k2"},)"
            R"({"Data":"eyJhIjoxfQ==","PartitionKey":"k3"}]})");
}

TEST(PutRecordsEncoder, StreamArnField) {
  EXPECT_EQ(bodyOf({{"x", "k"}}, "StreamARN", "arn:aws:kinesis:us-east-1:123456789012:stream/s"),
            R"({"StreamARN":"arn:aws:kinesis:us-east-1:123456789012:stream/s","Records":[)"
            R"({"Data":"eA==","PartitionKey":"k"}]})");
}

TEST(PutRecordsEncoder, StreamValueIsEscaped) {
  EXPECT_EQ(bodyOf({}, "StreamName", "a\"b"), R"({"StreamName":"a\"b","Records":[]})");
}

TEST(PutRecordsEncoder, Base64OfShortLengths) {
  EXPECT_EQ(bodyOf({{"", "k"}}), R"({"StreamName":"s","Records":[{"Data":"","PartitionKey":"k"}]})");
  EXPECT_EQ(bodyOf({{"f", "k"}}), R"({"StreamName":"s","Records":[{"Data":"Zg==","PartitionKey":"k"}]})");
  EXPECT_EQ(bodyOf({{"fo", "k"}}), R"({"StreamName":"s","Records":[{"Data":"Zm8=","PartitionKey":"k"}]})");
  EXPECT_EQ(bodyOf({{"foo", "k"}}), R"({"StreamName":"s","Records":[{"Data":"Zm9v","PartitionKey":"k"}]})");
  EXPECT_EQ(bodyOf({{"foob", "k"}}), R"({"StreamName":"s","Records":[{"Data":"Zm9vYg==","PartitionKey":"k"}]})");
  EXPECT_EQ(bodyOf({{"foobar", "k"}}), R"({"StreamName":"s","Records":[{"Data":"Zm9vYmFy","PartitionKey":"k"}]})");
}

TEST(PutRecordsEncoder, BinaryData) {
  const std::string data("\x00\xff\xfe\x01", 4);
  EXPECT_EQ(bodyOf({{data, "k"}}), R"({"StreamName":"s","Records":[{"Data":"AP/+AQ==","PartitionKey":"k"}]})");
  const std::string nul(1, '\0');
  EXPECT_EQ(bodyOf({{nul, "k"}}), R"({"StreamName":"s","Records":[{"Data":"AA==","PartitionKey":"k"}]})");
}

TEST(PutRecordsEncoder, RandomDataMatchesReferenceBase64) {
  std::mt19937 rng(12345);
  PutRecordsEncoder e("StreamName", "s");
  for (size_t len = 0; len < 200; ++len) {
    std::string data(len, '\0');
    for (char& c : data) c = static_cast<char>(rng());
    e.begin();
    e.add(data, "k");
    std::string want = R"({"StreamName":"s","Records":[{"Data":")" + base64(data) + R"(","PartitionKey":"k"}]})";
    ASSERT_EQ(e.finish(), want) << "length " << len;
  }
}

TEST(PutRecordsEncoder, LargeRecord) {
  std::string data(1024 * 1024, 'a');
  PutRecordsEncoder e("StreamName", "s");
  e.begin();
  e.add(data, "k");
  std::string_view body = e.finish();
  std::string want = R"({"StreamName":"s","Records":[{"Data":")" + base64(data) + R"(","PartitionKey":"k"}]})";
  EXPECT_EQ(body.size(), want.size());
  EXPECT_TRUE(body == want);
}

TEST(PutRecordsEncoder, PartitionKeyEscaping) {
  EXPECT_EQ(bodyOf({{"", "a\"b\\c"}}), R"({"StreamName":"s","Records":[{"Data":"","PartitionKey":"a\"b\\c"}]})");
  EXPECT_EQ(bodyOf({{"", "\n\r\t\x01\x1f"}}),
            R"({"StreamName":"s","Records":[{"Data":"","PartitionKey":"\n\r\t\u0001\u001f"}]})");
  EXPECT_EQ(bodyOf({{"", "é日😀"}}), R"({"StreamName":"s","Records":[{"Data":"","PartitionKey":"é日😀"}]})");
}

TEST(PutRecordsEncoder, BodyIsValidJsonThatRoundTrips) {
  PutRecordsEncoder e("StreamName", "s");
  e.begin();
  const std::string keys[] = {"plain", "quo\"te", "back\\slash", std::string("ctl\x01\x02\x7f", 6), "ünï"};
  for (const auto& k : keys) e.add(k, k);
  std::string body(e.finish());
  simdjson::dom::parser parser;
  simdjson::padded_string padded(body);
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(padded).get(doc), simdjson::SUCCESS) << body;
  simdjson::dom::array records;
  ASSERT_EQ(doc["Records"].get(records), simdjson::SUCCESS);
  ASSERT_EQ(records.size(), std::size(keys));
  size_t i = 0;
  for (simdjson::dom::element r : records) {
    std::string_view key, data;
    ASSERT_EQ(r["PartitionKey"].get(key), simdjson::SUCCESS);
    ASSERT_EQ(r["Data"].get(data), simdjson::SUCCESS);
    EXPECT_EQ(key, keys[i]);
    EXPECT_EQ(data, base64(keys[i]));
    ++i;
  }
}

TEST(PutRecordsEncoder, BodyReuseAcrossBegin) {
  PutRecordsEncoder e("StreamName", "s");
  e.begin();
  e.add("first request with a long payload", "key-one");
  e.add("second", "key-two");
  EXPECT_EQ(e.records(), 2u);
  (void)e.finish();
  e.begin();
  EXPECT_EQ(e.records(), 0u);
  e.add("hi", "k");
  EXPECT_EQ(e.records(), 1u);
  EXPECT_EQ(e.finish(), R"({"StreamName":"s","Records":[{"Data":"aGk=","PartitionKey":"k"}]})");
  e.begin();
  EXPECT_EQ(e.finish(), R"({"StreamName":"s","Records":[]})");
}

TEST(AppendJsonEscaped, Cases) {
  EXPECT_EQ(escaped(""), "[]");
  EXPECT_EQ(escaped("plain text"), "[plain text]");
  EXPECT_EQ(escaped("\""), "[\\\"]");
  EXPECT_EQ(escaped("\\"), "[\\\\]");
  EXPECT_EQ(escaped("a\nb\rc\td"), "[a\\nb\\rc\\td]");
  EXPECT_EQ(escaped(std::string("\x00", 1)), "[\\u0000]");
  EXPECT_EQ(escaped("\x08\x0c\x1f"), "[\\u0008\\u000c\\u001f]");
  EXPECT_EQ(escaped(" \x7f"), "[ \x7f]");
  EXPECT_EQ(escaped("/"), "[/]");
  EXPECT_EQ(escaped("é日😀"), "[é日😀]");
  EXPECT_EQ(escaped("\"start"), "[\\\"start]");
  EXPECT_EQ(escaped("end\""), "[end\\\"]");
  EXPECT_EQ(escaped("\"\"\""), "[\\\"\\\"\\\"]");
}

TEST(AppendJsonEscaped, AppendsToExistingContent) {
  std::string out = "prefix:";
  appendJsonEscaped(out, "a\"b");
  EXPECT_EQ(out, "prefix:a\\\"b");
}

TEST(PutRecordsEncoderExplicitHashKey, WrittenAfterThePartitionKeyOnlyWhenGiven) {
  kinship::kinesis::PutRecordsEncoder encoder("StreamName", "s");
  encoder.begin();
  encoder.add("hi", "k", "340282366920938463463374607431768211455");
  encoder.add("hi", "k");
  EXPECT_EQ(encoder.finish(),
            R"({"StreamName":"s","Records":[{"Data":"aGk=","PartitionKey":"k",)"
            R"("ExplicitHashKey":"340282366920938463463374607431768211455"},{"Data":"aGk=","PartitionKey":"k"}]})");
}

// CBOR bodies, read back with libcbor's decoder.
namespace {

std::string_view textOf(cbor_item_t* item) {
  return {reinterpret_cast<const char*>(cbor_string_handle(item)), cbor_string_length(item)};
}

cbor_item_t* field(cbor_item_t* map, std::string_view name) {
  for (size_t i = 0; i < cbor_map_size(map); ++i) {
    cbor_pair pair = cbor_map_handle(map)[i];
    if (cbor_isa_string(pair.key) && textOf(pair.key) == name) return pair.value;
  }
  return nullptr;
}

}  // namespace

TEST(PutRecordsEncoder, CborBodyHoldsRawBytesKeysAndExplicitHashKeys) {
  PutRecordsEncoder e("StreamARN", "arn:aws:kinesis:us-east-1:1:stream/s", WireProtocol::kCbor);
  const std::string binary("\x00\xff\"\\\n", 5);
  const std::string large(70000, 'z');  // a 4-byte length head
  e.begin();
  e.add(binary, "key-1");
  e.add(large, "k\xc3\xa9", "340282366920938463463374607431768211455");
  e.add("", "empty");
  std::string body(e.finish());
  // Indefinite-length map and array, as the AWS SDKs send.
  EXPECT_EQ(static_cast<unsigned char>(body.front()), 0xbf);
  EXPECT_EQ(body.substr(body.size() - 2), "\xff\xff");

  cbor_load_result loaded;
  cbor_item_t* root = cbor_load(reinterpret_cast<cbor_data>(body.data()), body.size(), &loaded);
  ASSERT_NE(root, nullptr);
  EXPECT_EQ(loaded.read, body.size());
  ASSERT_TRUE(cbor_isa_map(root));
  EXPECT_EQ(cbor_map_size(root), 2u);
  EXPECT_EQ(textOf(field(root, "StreamARN")), "arn:aws:kinesis:us-east-1:1:stream/s");
  cbor_item_t* records = field(root, "Records");
  ASSERT_TRUE(records != nullptr && cbor_isa_array(records));
  ASSERT_EQ(cbor_array_size(records), 3u);
  auto dataOf = [](cbor_item_t* r) {
    cbor_item_t* d = field(r, "Data");
    EXPECT_TRUE(cbor_isa_bytestring(d));
    return std::string(reinterpret_cast<const char*>(cbor_bytestring_handle(d)), cbor_bytestring_length(d));
  };
  cbor_item_t* first = cbor_array_handle(records)[0];
  EXPECT_EQ(cbor_map_size(first), 2u);
  EXPECT_EQ(dataOf(first), binary);
  EXPECT_EQ(textOf(field(first, "PartitionKey")), "key-1");
  EXPECT_EQ(field(first, "ExplicitHashKey"), nullptr);
  cbor_item_t* second = cbor_array_handle(records)[1];
  EXPECT_EQ(dataOf(second), large);
  EXPECT_EQ(textOf(field(second, "PartitionKey")), "k\xc3\xa9");
  EXPECT_EQ(textOf(field(second, "ExplicitHashKey")), "340282366920938463463374607431768211455");
  EXPECT_EQ(dataOf(cbor_array_handle(records)[2]), "");
  cbor_decref(&root);

  // begin() starts over.
  e.begin();
  body = std::string(e.finish());
  root = cbor_load(reinterpret_cast<cbor_data>(body.data()), body.size(), &loaded);
  ASSERT_NE(root, nullptr);
  EXPECT_EQ(cbor_array_size(field(root, "Records")), 0u);
  cbor_decref(&root);
}

TEST(PutRecordsEncoder, CborBodyIsSmallerThanJsonForText) {
  PutRecordsEncoder json("StreamName", "s", WireProtocol::kJson);
  PutRecordsEncoder cbor("StreamName", "s", WireProtocol::kCbor);
  json.begin();
  cbor.begin();
  const std::string line(200, 'x');
  for (int i = 0; i < 500; ++i) {
    json.add(line, "svc-host");
    cbor.add(line, "svc-host");
  }
  const double ratio = static_cast<double>(cbor.finish().size()) / static_cast<double>(json.finish().size());
  EXPECT_LT(ratio, 0.8);
}
