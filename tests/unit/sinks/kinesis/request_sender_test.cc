// RequestSender: each request signed for Kinesis and started on the
// transport; without credentials nothing goes out and the reason comes back.

#include "sinks/kinesis/request_sender.h"

#include <gtest/gtest.h>

#include "tests/support/manual_clock.h"
#include "tests/support/scripted_transport.h"

namespace kinship::kinesis {
namespace {

using kinship::testing::ManualClock;
using kinship::testing::ScriptedReply;
using kinship::testing::ScriptedTransport;

class Credentials final : public aws::CredentialsProvider {
 public:
  Result<aws::Credentials> current() override {
    if (!available) return fail(Status::unavailable("credentials from profile: none"));
    return aws::Credentials{"AKIDTEST", "secret", ""};
  }
  bool available = true;
};

std::string header(const aws::HeaderList& headers, std::string_view name) {
  for (const auto& [n, v] : headers) {
    if (n == name) return v;
  }
  return "";
}

class RequestSenderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto transport = std::make_unique<ScriptedTransport>(clock_, aws::HttpOptions{},
                                                         [](const aws::HttpRequest&) { return ScriptedReply{}; });
    transport_ = transport.get();
    sender_.open(credentials_, std::move(transport));
  }

  ManualClock clock_;
  Credentials credentials_;
  RequestSender sender_{"https://kinesis.eu-west-1.amazonaws.com", "eu-west-1", clock_};
  ScriptedTransport* transport_ = nullptr;
};

TEST_F(RequestSenderTest, SignsAndStartsARequestForTheOperation) {
  aws::HttpRequest http;
  http.body = "{}";
  ASSERT_TRUE(sender_.send(http, "Kinesis_20131202.PutRecords", WireProtocol::kCbor));
  EXPECT_EQ(sender_.inFlight(), 1u);
  auto sent = transport_->sent();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].url, "https://kinesis.eu-west-1.amazonaws.com/");
  EXPECT_EQ(sent[0].body, "{}");
  EXPECT_EQ(header(sent[0].headers, "Host"), "kinesis.eu-west-1.amazonaws.com");
  EXPECT_EQ(header(sent[0].headers, "Content-Type"), "application/x-amz-cbor-1.1");
  EXPECT_EQ(header(sent[0].headers, "X-Amz-Target"), "Kinesis_20131202.PutRecords");
  EXPECT_NE(header(sent[0].headers, "Authorization").find("Credential=AKIDTEST/"), std::string::npos);
  EXPECT_NE(header(sent[0].headers, "Authorization").find("/eu-west-1/kinesis/aws4_request"), std::string::npos);
  EXPECT_EQ(header(sent[0].headers, "X-Amz-Date"), "20231114T221320Z") << "signed at the clock's wall time";

  std::vector<aws::HttpRequest*> done;
  sender_.poll(std::chrono::milliseconds(0), done);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0], &http);
  EXPECT_EQ(http.httpStatus, 200);
}

TEST_F(RequestSenderTest, WithoutCredentialsNothingGoesOutAndTheReasonComesBack) {
  credentials_.available = false;
  aws::HttpRequest http;
  http.body = "{}";
  Status sent = sender_.send(http, "Kinesis_20131202.ListShards", WireProtocol::kJson);
  ASSERT_FALSE(sent);
  EXPECT_EQ(sent.message(), "credentials from profile: none");
  EXPECT_TRUE(transport_->sent().empty());
  EXPECT_EQ(sender_.inFlight(), 0u);
}

TEST_F(RequestSenderTest, AnEndpointKnownOnlyAtStartIsSetThen) {
  sender_.setEndpoint("https://kinesis.ap-south-1.amazonaws.com", "ap-south-1");
  aws::HttpRequest http;
  http.body = "{}";
  ASSERT_TRUE(sender_.send(http, "Kinesis_20131202.PutRecords", WireProtocol::kJson));
  auto sent = transport_->sent();
  EXPECT_EQ(sent.at(0).url, "https://kinesis.ap-south-1.amazonaws.com/");
  EXPECT_EQ(header(sent.at(0).headers, "Host"), "kinesis.ap-south-1.amazonaws.com");
  EXPECT_NE(header(sent.at(0).headers, "Authorization").find("/ap-south-1/kinesis/"), std::string::npos);
}

TEST_F(RequestSenderTest, ACancelledRequestNeverCompletes) {
  aws::HttpRequest http;
  http.body = "{}";
  ASSERT_TRUE(sender_.send(http, "Kinesis_20131202.PutRecords", WireProtocol::kJson));
  sender_.cancel(http);
  EXPECT_EQ(sender_.inFlight(), 0u);
  std::vector<aws::HttpRequest*> done;
  sender_.poll(std::chrono::milliseconds(0), done);
  EXPECT_TRUE(done.empty());
}

}  // namespace
}  // namespace kinship::kinesis
