// HttpTransport never keeps more of an answer than maxResponseBytes: an
// endpoint (or anything in between) must not be able to fill our memory.

#include "aws/http_transport.h"

#include <curl/curl.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/support/fake_http_server.h"

namespace kinship::aws {
namespace {

using kinship::testing::FakeHttpServer;
using kinship::testing::HttpReply;

// Runs one POST to completion.
void runToCompletion(HttpTransport& transport, HttpRequest& request) {
  transport.start(request);
  std::vector<HttpRequest*> done;
  while (done.empty()) transport.poll(std::chrono::milliseconds(100), done);
}

TEST(HttpTransport, AnAnswerLongerThanTheLimitIsRefusedNotKept) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  FakeHttpServer server([](const auto& request) {
    return HttpReply{200, request.target == "/big" ? std::string(3 * 1024 * 1024, 'x') : std::string("small")};
  });
  HttpOptions options;
  options.maxResponseBytes = 1024 * 1024;
  HttpTransport transport(options);

  HttpRequest big;
  big.url = server.url() + "/big";
  big.body = "{}";
  runToCompletion(transport, big);
  EXPECT_TRUE(big.responseTooLarge);
  ASSERT_FALSE(big.transportStatus);
  EXPECT_NE(big.transportStatus.message().find("longer than 1048576 bytes"), std::string::npos)
      << big.transportStatus.message();
  EXPECT_LE(big.responseBody.size(), options.maxResponseBytes);

  // The same request object works again for a normal answer.
  big.url = server.url() + "/small";
  runToCompletion(transport, big);
  EXPECT_FALSE(big.responseTooLarge);
  ASSERT_TRUE(big.transportStatus) << big.transportStatus.message();
  EXPECT_EQ(big.httpStatus, 200);
  EXPECT_EQ(big.responseBody, "small");
}

}  // namespace
}  // namespace kinship::aws
