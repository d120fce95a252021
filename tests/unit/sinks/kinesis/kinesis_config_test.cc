#include "sinks/kinesis/kinesis_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "tests/support/fake_env.h"

using namespace kinship::kinesis;
using kinship::config::ConfigError;
using kinship::config::EnvLookup;
using kinship::config::Section;
using ::testing::HasSubstr;
using namespace std::chrono_literals;
using kinship::testing::fakeEnv;

namespace {

const EnvLookup kNoEnv = fakeEnv({});

KinesisConfig configOf(const std::string& yaml, const EnvLookup& env = kNoEnv) {
  Section s = Section::validate(YAML::Load(yaml), kinesisSinkSchema(), "kinship.yaml", "pipelines.app.sink", env);
  return kinesisConfigFrom(s, env);
}

std::string errorOf(const std::string& yaml, const EnvLookup& env = kNoEnv) {
  try {
    configOf(yaml, env);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "<no error>";
}

}  // namespace

TEST(KinesisConfig, Defaults) {
  KinesisConfig c = configOf("stream: logs\nregion: eu-west-1\n");
  EXPECT_EQ(c.stream, "logs");
  EXPECT_EQ(c.streamArn, "");
  EXPECT_EQ(c.region, "eu-west-1");
  EXPECT_EQ(c.endpoint, "https://kinesis.eu-west-1.amazonaws.com");
  EXPECT_EQ(c.linger, 200ms);
  EXPECT_EQ(c.maxBatchRecords, 500u);
  EXPECT_EQ(c.maxBatchBytes, 5u * 1024 * 1024);
  EXPECT_EQ(c.maxRecordSize, 1024u * 1024);
  EXPECT_EQ(c.connectTimeout, 5000ms);
  EXPECT_EQ(c.requestTimeout, 30000ms);
  EXPECT_EQ(c.retryBackoffMin, 100ms);
  EXPECT_EQ(c.retryBackoffMax, 10000ms);
  EXPECT_EQ(c.caFile, "");
}

TEST(KinesisConfig, SchemaDefaultsMatchStructDefaults) {
  KinesisConfig fromSchema = configOf("stream: logs\nregion: eu-west-1\n");
  KinesisConfig plain;
  EXPECT_EQ(fromSchema.linger, plain.linger);
  EXPECT_EQ(fromSchema.maxBatchRecords, plain.maxBatchRecords);
  EXPECT_EQ(fromSchema.maxBatchBytes, plain.maxBatchBytes);
  EXPECT_EQ(fromSchema.maxRecordSize, plain.maxRecordSize);
  EXPECT_EQ(fromSchema.connectTimeout, plain.connectTimeout);
  EXPECT_EQ(fromSchema.requestTimeout, plain.requestTimeout);
  EXPECT_EQ(fromSchema.retryBackoffMin, plain.retryBackoffMin);
  EXPECT_EQ(fromSchema.retryBackoffMax, plain.retryBackoffMax);
}

TEST(KinesisConfig, AllOptionsSet) {
  KinesisConfig c = configOf(
      "stream: logs\nregion: us-west-2\nendpoint: http://127.0.0.1:4567\nlinger: 50ms\nmax_batch_records: 100\n"
      "max_batch_bytes: 1MiB\nmax_record_size: 2MiB\nconnect_timeout: 2s\nrequest_timeout: 1m\n"
      "retry_backoff_min: 20ms\nretry_backoff_max: 5s\nca_file: /etc/ca.pem\n");
  EXPECT_EQ(c.endpoint, "http://127.0.0.1:4567");
  EXPECT_EQ(c.linger, 50ms);
  EXPECT_EQ(c.maxBatchRecords, 100u);
  EXPECT_EQ(c.maxBatchBytes, 1024u * 1024);
  EXPECT_EQ(c.maxRecordSize, 2u * 1024 * 1024);
  EXPECT_EQ(c.connectTimeout, 2000ms);
  EXPECT_EQ(c.requestTimeout, 60000ms);
  EXPECT_EQ(c.retryBackoffMin, 20ms);
  EXPECT_EQ(c.retryBackoffMax, 5000ms);
  EXPECT_EQ(c.caFile, "/etc/ca.pem");
}

TEST(KinesisConfig, StreamArnInsteadOfStream) {
  KinesisConfig c = configOf("stream_arn: arn:aws:kinesis:us-east-1:123456789012:stream/logs\nregion: us-east-1\n");
  EXPECT_EQ(c.stream, "");
  EXPECT_EQ(c.streamArn, "arn:aws:kinesis:us-east-1:123456789012:stream/logs");
}

TEST(KinesisConfig, NeitherStreamNorArn) {
  std::string e = errorOf("region: us-east-1\n");
  EXPECT_THAT(e, HasSubstr("pipelines.app.sink.stream"));
  EXPECT_THAT(e, HasSubstr("set either 'stream' or 'stream_arn'"));
}

TEST(KinesisConfig, BothStreamAndArn) {
  std::string e = errorOf("stream: logs\nstream_arn: arn:aws:kinesis:us-east-1:1:stream/logs\nregion: us-east-1\n");
  EXPECT_THAT(e, HasSubstr("pipelines.app.sink.stream"));
  EXPECT_THAT(e, HasSubstr("set only one of 'stream' and 'stream_arn'"));
}

TEST(KinesisConfig, ArnMustStartWithArn) {
  std::string e = errorOf("stream_arn: logs\nregion: us-east-1\n");
  EXPECT_THAT(e, HasSubstr("pipelines.app.sink.stream_arn"));
  EXPECT_THAT(e, HasSubstr("'logs' is not an ARN"));
}

TEST(KinesisConfig, RegionFromEnvironment) {
  EXPECT_EQ(configOf("stream: s\n", fakeEnv({{"AWS_REGION", "ap-south-1"}})).region, "ap-south-1");
  EXPECT_EQ(configOf("stream: s\n", fakeEnv({{"AWS_DEFAULT_REGION", "sa-east-1"}})).region, "sa-east-1");
  // AWS_REGION wins over AWS_DEFAULT_REGION.
  KinesisConfig c = configOf("stream: s\n", fakeEnv({{"AWS_REGION", "eu-north-1"}, {"AWS_DEFAULT_REGION", "sa-east-1"}}));
  EXPECT_EQ(c.region, "eu-north-1");
  EXPECT_EQ(c.endpoint, "https://kinesis.eu-north-1.amazonaws.com");
  // An empty AWS_REGION falls through to AWS_DEFAULT_REGION.
  EXPECT_EQ(configOf("stream: s\n", fakeEnv({{"AWS_REGION", ""}, {"AWS_DEFAULT_REGION", "sa-east-1"}})).region,
            "sa-east-1");
  // The option wins over the environment.
  EXPECT_EQ(configOf("stream: s\nregion: us-east-2\n", fakeEnv({{"AWS_REGION", "eu-north-1"}})).region, "us-east-2");
}

TEST(KinesisConfig, MissingRegionWithoutInstanceMetadata) {
  std::string e = errorOf("stream: s\n", fakeEnv({{"AWS_EC2_METADATA_DISABLED", "true"}}));
  EXPECT_THAT(e, HasSubstr("pipelines.app.sink.region"));
  EXPECT_THAT(e, HasSubstr("no region"));
}

TEST(KinesisConfig, MissingRegionIsAskedOfTheInstanceMetadataServiceAtStart) {
  KinesisConfig c = configOf("stream: s\n");
  EXPECT_TRUE(c.regionFromInstanceMetadata);
  EXPECT_EQ(c.endpoint, "");
  ASSERT_TRUE(applyRegion(c, "ap-southeast-2"));
  EXPECT_FALSE(c.regionFromInstanceMetadata);
  EXPECT_EQ(c.region, "ap-southeast-2");
  EXPECT_EQ(c.credentials.region, "ap-southeast-2");
  EXPECT_EQ(c.endpoint, "https://kinesis.ap-southeast-2.amazonaws.com");
  EXPECT_FALSE(applyRegion(c, "bad region"));

  // A configured endpoint stays.
  KinesisConfig local = configOf("stream: s\nendpoint: http://127.0.0.1:4567\n");
  ASSERT_TRUE(applyRegion(local, "eu-west-3"));
  EXPECT_EQ(local.endpoint, "http://127.0.0.1:4567");
}

TEST(KinesisConfig, RegionFromTheProfile) {
  auto dir = std::filesystem::temp_directory_path() / ("kinship-region-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string file = (dir / "config").string();
  {
    std::ofstream out(file);
    out << "[default]\nregion = eu-central-1\n\n[profile other]\nregion = ca-central-1\n";
  }
  auto env = fakeEnv({{"AWS_CONFIG_FILE", file}, {"AWS_SHARED_CREDENTIALS_FILE", (dir / "none").string()}});
  EXPECT_EQ(configOf("stream: s\n", env).region, "eu-central-1");
  EXPECT_EQ(configOf("stream: s\n", env).endpoint, "https://kinesis.eu-central-1.amazonaws.com");
  EXPECT_EQ(configOf("stream: s\nprofile: other\n", env).region, "ca-central-1");
  // The environment wins over the profile.
  auto withRegion = fakeEnv({{"AWS_CONFIG_FILE", file}, {"AWS_REGION", "us-west-1"}});
  EXPECT_EQ(configOf("stream: s\n", withRegion).region, "us-west-1");
  std::filesystem::remove_all(dir);
}

TEST(KinesisConfig, CredentialOptions) {
  KinesisConfig c = configOf(
      "stream: s\nregion: eu-west-1\nprofile: prod\nrole_arn: arn:aws:iam::123456789012:role/writer\n"
      "external_id: ext-1\nrole_session_name: shipper\nsts_endpoint: http://127.0.0.1:9000\n");
  EXPECT_EQ(c.credentials.profile, "prod");
  EXPECT_EQ(c.credentials.roleArn, "arn:aws:iam::123456789012:role/writer");
  EXPECT_EQ(c.credentials.externalId, "ext-1");
  EXPECT_EQ(c.credentials.roleSessionName, "shipper");
  EXPECT_EQ(c.credentials.stsEndpoint, "http://127.0.0.1:9000");
  EXPECT_EQ(c.credentials.region, "eu-west-1");
  EXPECT_THAT(errorOf("stream: s\nregion: eu-west-1\nrole_arn: writer\n"), HasSubstr("is not an ARN"));
  EXPECT_THAT(errorOf("stream: s\nregion: eu-west-1\nexternal_id: x\n"), HasSubstr("only used with role_arn"));
  EXPECT_THAT(errorOf("stream: s\nregion: eu-west-1\nsts_endpoint: \"http://a b\"\n"),
              HasSubstr("pipelines.app.sink.sts_endpoint"));
}

TEST(KinesisConfig, InvalidRegion) {
  EXPECT_THAT(errorOf("stream: s\nregion: \"eu west 1\"\n"), HasSubstr("invalid region 'eu west 1'"));
  EXPECT_THAT(errorOf("stream: s\nregion: evil.com/x\n"), HasSubstr("pipelines.app.sink.region"));
  EXPECT_THAT(errorOf("stream: s\n", fakeEnv({{"AWS_REGION", "a/b"}})), HasSubstr("invalid region 'a/b'"));
}

TEST(KinesisConfig, DefaultEndpoint) {
  EXPECT_EQ(defaultEndpoint("us-east-1"), "https://kinesis.us-east-1.amazonaws.com");
  EXPECT_EQ(defaultEndpoint("cn-north-1"), "https://kinesis.cn-north-1.amazonaws.com.cn");
  EXPECT_EQ(defaultEndpoint("cn-northwest-1"), "https://kinesis.cn-northwest-1.amazonaws.com.cn");
  EXPECT_EQ(configOf("stream: s\nregion: cn-north-1\n").endpoint, "https://kinesis.cn-north-1.amazonaws.com.cn");
}

TEST(KinesisConfig, EndpointTrailingSlashStripped) {
  EXPECT_EQ(configOf("stream: s\nregion: us-east-1\nendpoint: http://localhost:4567/\n").endpoint,
            "http://localhost:4567");
  EXPECT_EQ(configOf("stream: s\nregion: us-east-1\nendpoint: https://kinesis.example.com//\n").endpoint,
            "https://kinesis.example.com");
}

TEST(KinesisConfig, EndpointWithPathRejected) {
  std::string e = errorOf("stream: s\nregion: us-east-1\nendpoint: http://localhost:4567/kinesis\n");
  EXPECT_THAT(e, HasSubstr("pipelines.app.sink.endpoint"));
  EXPECT_THAT(e, HasSubstr("has a path"));
}

TEST(KinesisConfig, EndpointSchemeRequired) {
  std::string e = errorOf("stream: s\nregion: us-east-1\nendpoint: localhost:4567\n");
  EXPECT_THAT(e, HasSubstr("pipelines.app.sink.endpoint"));
  EXPECT_THAT(e, HasSubstr("is not an http:// or https:// URL"));
  EXPECT_THAT(errorOf("stream: s\nregion: us-east-1\nendpoint: ftp://host\n"), HasSubstr("pipelines.app.sink.endpoint"));
}

TEST(KinesisConfig, EndpointWithoutHostRejected) {
  // "http://" (or "https:///") names no host.
  EXPECT_THAT(errorOf("stream: s\nregion: us-east-1\nendpoint: http://\n"), HasSubstr("pipelines.app.sink.endpoint"));
  EXPECT_THAT(errorOf("stream: s\nregion: us-east-1\nendpoint: https:///\n"), HasSubstr("pipelines.app.sink.endpoint"));
}

// These passed --check-config and failed only when the sink sent its first
// request. libcurl's parser decides, as it is what connects.
TEST(KinesisConfig, EndpointsLibcurlCannotUseRejected) {
  auto endpointError = [](const std::string& endpoint) {
    return errorOf("stream: s\nregion: us-east-1\nendpoint: \"" + endpoint + "\"\n");
  };
  EXPECT_THAT(endpointError("http://x:abc"), HasSubstr("kinship.yaml:3:11: pipelines.app.sink.endpoint: 'http://x:abc'"));
  for (const char* bad : {"http://x:abc", "http://x:99999", "http://x:65536", "http://a b", "http://x:0",
                          "http://x:-1", "http://user@x", "http://user:pw@x:80", "http://x?a=b", "http://x#f",
                          "https://[::1", "http://x:80:81", "http://x y:80"}) {
    EXPECT_THAT(endpointError(bad), HasSubstr("pipelines.app.sink.endpoint: '" + std::string(bad) + "'")) << bad;
  }
  EXPECT_THAT(endpointError("http://x:99999"), HasSubstr("65535"));
  for (const char* good : {"http://127.0.0.1:4567", "https://kinesis.eu-west-1.amazonaws.com", "http://[::1]:4567",
                           "http://localhost:65535", "http://localhost:1", "https://vpce-1.kinesis.example.com:443"}) {
    EXPECT_EQ(configOf(std::string("stream: s\nregion: us-east-1\nendpoint: \"") + good + "\"\n").endpoint, good)
        << good;
  }
}

TEST(KinesisConfig, DeadLetterPathMustBeAFileInAnExistingDirectory) {
  char pattern[] = "/tmp/kinship-kinesis-config-XXXXXX";
  ASSERT_NE(::mkdtemp(pattern), nullptr);
  std::string dir = pattern;
  auto withPath = [](const std::string& path) { return "stream: s\nregion: us-east-1\ndead_letter_path: \"" + path + "\"\n"; };

  // The run failed to open it when the sink started; --check-config said OK.
  EXPECT_THAT(errorOf(withPath(dir + "/missing/dead.jsonl")),
              HasSubstr("kinship.yaml:3:19: pipelines.app.sink.dead_letter_path: the directory '" + dir +
                        "/missing' does not exist"));
  EXPECT_THAT(errorOf(withPath(dir)), HasSubstr("is a directory"));
  EXPECT_THAT(errorOf(withPath(dir + "/")), HasSubstr("is a directory"));
  EXPECT_THAT(errorOf(withPath("")), HasSubstr("pipelines.app.sink.dead_letter_path: must not be empty"));
  EXPECT_EQ(configOf(withPath(dir + "/dead.jsonl")).deadLetterPath, dir + "/dead.jsonl");
  // Not created at config time: only the sink writes it.
  EXPECT_FALSE(std::filesystem::exists(dir + "/dead.jsonl"));
  std::filesystem::remove_all(dir);
}

TEST(KinesisConfig, EmptyCaFileRejected) {
  EXPECT_THAT(errorOf("stream: s\nregion: us-east-1\nca_file: \"\"\n"),
              HasSubstr("pipelines.app.sink.ca_file: must not be empty"));
}

TEST(KinesisConfig, BackoffMaxBelowMinRejected) {
  std::string e = errorOf("stream: s\nregion: us-east-1\nretry_backoff_min: 2s\nretry_backoff_max: 1s\n");
  EXPECT_THAT(e, HasSubstr("pipelines.app.sink.retry_backoff_max"));
  EXPECT_THAT(e, HasSubstr("is smaller than retry_backoff_min"));
  // Equal is fine.
  KinesisConfig c = configOf("stream: s\nregion: us-east-1\nretry_backoff_min: 1s\nretry_backoff_max: 1s\n");
  EXPECT_EQ(c.retryBackoffMin, 1000ms);
  EXPECT_EQ(c.retryBackoffMax, 1000ms);
}

TEST(KinesisConfig, ErrorNamesFileLineAndPath) {
  std::string e = errorOf("stream: s\nregion: us-east-1\nendpoint: http://h/p\n");
  EXPECT_THAT(e, HasSubstr("kinship.yaml:3:"));
  EXPECT_THAT(e, HasSubstr("pipelines.app.sink.endpoint"));
}

TEST(KinesisConfig, SchemaBounds) {
  EXPECT_THAT(errorOf("stream: s\nregion: us-east-1\nmax_batch_records: 501\n"),
              HasSubstr("pipelines.app.sink.max_batch_records"));
  EXPECT_THAT(errorOf("stream: s\nregion: us-east-1\nmax_batch_bytes: 11MiB\n"),
              HasSubstr("pipelines.app.sink.max_batch_bytes"));
  EXPECT_EQ(errorOf("stream: s\nregion: us-east-1\nmax_batch_bytes: 10MiB\nmax_record_size: 10MiB\n"),
            "<no error>");
  EXPECT_THAT(errorOf("stream: s\nregion: us-east-1\nmax_record_size: 11MiB\n"),
              HasSubstr("pipelines.app.sink.max_record_size"));
  EXPECT_THAT(errorOf("stream: s\nregion: us-east-1\nlinger: 0\n"), HasSubstr("pipelines.app.sink.linger"));
  EXPECT_EQ(errorOf("stream: s\nregion: us-east-1\n"), "<no error>");
}

TEST(KinesisConfig, TheRecordSizeIsAskedOfTheStreamUnlessSet) {
  EXPECT_FALSE(configOf("stream: s\nregion: us-east-1\n").maxRecordSizeSet);
  KinesisConfig set = configOf("stream: s\nregion: us-east-1\nmax_record_size: 1MiB\n");
  EXPECT_TRUE(set.maxRecordSizeSet);
  EXPECT_EQ(set.maxRecordSize, 1024u * 1024);
}

TEST(KinesisConfig, AggregationIsOffByDefaultAndItsSizeFollowsTheRecordLimit) {
  KinesisConfig plain = configOf("stream: s\nregion: us-east-1\n");
  EXPECT_FALSE(plain.aggregate);
  EXPECT_EQ(plain.aggregationMaxSize, 0u);  // the record size limit
  EXPECT_EQ(plain.aggregate, KinesisConfig{}.aggregate);
  KinesisConfig kpl = configOf("stream: s\nregion: us-east-1\naggregation: kpl\n");
  EXPECT_TRUE(kpl.aggregate);
  EXPECT_EQ(kpl.aggregationMaxSize, 0u);
  KinesisConfig sized = configOf("stream: s\nregion: us-east-1\naggregation: kpl\naggregation_max_size: 256KiB\n");
  EXPECT_EQ(sized.aggregationMaxSize, 256u * 1024);
}

TEST(KinesisConfig, AggregationOptionsAreChecked) {
  EXPECT_THAT(errorOf("stream: s\nregion: us-east-1\naggregation: zip\n"),
              HasSubstr("pipelines.app.sink.aggregation"));
  EXPECT_THAT(errorOf("stream: s\nregion: us-east-1\naggregation: kpl\naggregation_max_size: 512\n"),
              HasSubstr("pipelines.app.sink.aggregation_max_size"));
  EXPECT_THAT(errorOf("stream: s\nregion: us-east-1\naggregation: kpl\naggregation_max_size: 11MiB\n"),
              HasSubstr("pipelines.app.sink.aggregation_max_size"));
  // A size without aggregation would silently do nothing.
  EXPECT_THAT(errorOf("stream: s\nregion: us-east-1\naggregation_max_size: 64KiB\n"),
              HasSubstr("is only used with aggregation: kpl"));
}
