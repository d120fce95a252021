#include "pipeline/added_fields.h"

#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <string>

#include "pipeline/logfmt_parser.h"
#include "tests/support/manual_clock.h"

namespace kinship::pipeline {
namespace {

FieldPath path(std::string_view text) { return *FieldPath::parse(text); }

AddedField text(std::string name, std::string value) {
  return {.name = std::move(name), .kind = AddedField::Kind::kText, .text = std::move(value)};
}
AddedField of(std::string name, AddedField::Kind kind) { return {.name = std::move(name), .kind = kind, .text = {}}; }

// Field `i`'s value for the current record; "<none>" when it has none.
std::string valueOf(Enrichment& e, size_t i) {
  std::string out;
  return e.appendValue(i, out) ? out : "<none>";
}

TEST(AddedFieldKind, NamesTheMetadata) {
  EXPECT_EQ(addedFieldKind("source"), AddedField::Kind::kSource);
  EXPECT_EQ(addedFieldKind("ingest_time"), AddedField::Kind::kIngestTime);
  EXPECT_EQ(addedFieldKind("record_id"), AddedField::Kind::kRecordId);
  EXPECT_EQ(addedFieldKind("line_hash"), AddedField::Kind::kLineHash);
  EXPECT_FALSE(addedFieldKind("hostname"));  // resolved to text by the caller
  EXPECT_FALSE(addedFieldKind("Source"));
}

TEST(IsAddedFieldName, OneTemplateStep) {
  EXPECT_TRUE(isAddedFieldName("pod"));
  EXPECT_TRUE(isAddedFieldName("k8s-node_name@1"));
  for (std::string_view bad : {"", "a.b", "a[0]", "a|b", "{a}", "a}", "it's"}) {
    EXPECT_FALSE(isAddedFieldName(bad)) << bad;
  }
}

struct EnrichmentTest : ::testing::Test {
  testing::ManualClock clock;
};

TEST_F(EnrichmentTest, TextAndSource) {
  Enrichment e({text("cluster", "prod"), of("source", AddedField::Kind::kSource)}, clock, 1);
  EXPECT_TRUE(e.wantsSource());
  RecordOrigin origin{.source = "/var/log/app.log"};
  e.begin("line", origin);
  EXPECT_EQ(valueOf(e, 0), "prod");
  EXPECT_EQ(valueOf(e, 1), "/var/log/app.log");
  EXPECT_TRUE(e.hides("source"));
  EXPECT_TRUE(e.hides("cluster"));
  EXPECT_FALSE(e.hides("other"));

  // An input that gives no source: the field has no value and hides nothing.
  RecordOrigin none;
  e.begin("line", none);
  EXPECT_EQ(valueOf(e, 1), "<none>");
  EXPECT_FALSE(e.hasValue(1));
  EXPECT_FALSE(e.hides("source"));
  EXPECT_TRUE(e.hasValue(0));
}

TEST_F(EnrichmentTest, NoSourceFieldWantsNoSource) {
  Enrichment e({text("a", "b")}, clock, 1);
  EXPECT_FALSE(e.wantsSource());
  EXPECT_FALSE(Enrichment({}, clock, 1).wantsSource());
  EXPECT_TRUE(Enrichment({}, clock, 1).empty());
}

TEST_F(EnrichmentTest, IngestTimeIsRfc3339UtcWithMillisecondsOnePerRecord) {
  Enrichment e({of("t", AddedField::Kind::kIngestTime)}, clock, 1);
  RecordOrigin origin;
  // ManualClock's wall clock starts at 1,700,000,000 s: 2023-11-14T22:13:20Z.
  e.begin("a", origin);
  EXPECT_EQ(valueOf(e, 0), "2023-11-14T22:13:20.000Z");
  clock.advance(std::chrono::milliseconds(1234));
  // Read once per record: the same value however often it is asked for.
  EXPECT_EQ(valueOf(e, 0), "2023-11-14T22:13:20.000Z");
  e.begin("b", origin);
  EXPECT_EQ(valueOf(e, 0), "2023-11-14T22:13:21.234Z");
  clock.advance(std::chrono::milliseconds(5));
  e.begin("c", origin);
  EXPECT_EQ(valueOf(e, 0), "2023-11-14T22:13:21.239Z");
  // Across a day and a year.
  clock.advance(std::chrono::hours(24 * 47) + std::chrono::hours(1) + std::chrono::minutes(46) +
                std::chrono::seconds(38) + std::chrono::milliseconds(761));
  e.begin("d", origin);
  EXPECT_EQ(valueOf(e, 0), "2024-01-01T00:00:00.000Z");
}

TEST_F(EnrichmentTest, RecordIdOfAFileRecordIsItsPositionAndBytes) {
  const RecordOrigin at100{.source = "/a.log", .hasPosition = true, .device = 8, .inode = 42, .endOffset = 100};
  Enrichment first({of("id", AddedField::Kind::kRecordId)}, clock, 1);
  first.begin("hello", at100);
  const std::string id = valueOf(first, 0);
  ASSERT_EQ(id.size(), kRecordIdSize);
  EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos);

  // Another process (a restart) reading the same record again: the same id,
  // whatever the path, the time or how many records came before.
  Enrichment restarted({of("id", AddedField::Kind::kRecordId)}, clock, 2);
  RecordOrigin other{.source = "/a.log.1", .hasPosition = true, .device = 8, .inode = 42, .endOffset = 7};
  restarted.begin("earlier", other);
  clock.advance(std::chrono::hours(5));
  const RecordOrigin renamed{.source = "/a.log.1", .hasPosition = true, .device = 8, .inode = 42, .endOffset = 100};
  restarted.begin("hello", renamed);
  EXPECT_EQ(valueOf(restarted, 0), id);

  // Another offset, inode, device or text: another id.
  std::set<std::string> ids{id};
  for (RecordOrigin o : {RecordOrigin{.hasPosition = true, .device = 8, .inode = 42, .endOffset = 101},
                         RecordOrigin{.hasPosition = true, .device = 8, .inode = 43, .endOffset = 100},
                         RecordOrigin{.hasPosition = true, .device = 9, .inode = 42, .endOffset = 100}}) {
    restarted.begin("hello", o);
    ids.insert(valueOf(restarted, 0));
  }
  restarted.begin("hellp", at100);  // a file truncated and written again
  ids.insert(valueOf(restarted, 0));
  EXPECT_EQ(ids.size(), 5u);
}

TEST_F(EnrichmentTest, RecordIdWithoutPositionIsUniquePerRecordAndProcess) {
  Enrichment e({of("id", AddedField::Kind::kRecordId)}, clock, 1);
  Enrichment other({of("id", AddedField::Kind::kRecordId)}, clock, 2);
  RecordOrigin peer{.source = "127.0.0.1:5514"};
  std::set<std::string> ids;
  for (int i = 0; i < 100; ++i) {
    e.begin("same line", peer);
    const std::string id = valueOf(e, 0);
    EXPECT_EQ(valueOf(e, 0), id);  // stable within the record
    ids.insert(id);
    other.begin("same line", peer);
    ids.insert(valueOf(other, 0));
  }
  EXPECT_EQ(ids.size(), 200u);
}

TEST_F(EnrichmentTest, LineHashDependsOnTheLineOnly) {
  Enrichment e({of("h", AddedField::Kind::kLineHash)}, clock, 1);
  Enrichment other({of("h", AddedField::Kind::kLineHash)}, clock, 99);
  RecordOrigin a{.source = "a", .hasPosition = true, .endOffset = 5};
  RecordOrigin b{.source = "b"};
  e.begin("GET /", a);
  const std::string hash = valueOf(e, 0);
  other.begin("GET /", b);
  EXPECT_EQ(valueOf(other, 0), hash);
  e.begin("GET /x", a);
  EXPECT_NE(valueOf(e, 0), hash);
  // XXH3-128 of the empty input, high word first.
  e.begin("", b);
  EXPECT_EQ(valueOf(e, 0), "99aa06d3014798d86001c324468d497f");
}

TEST_F(EnrichmentTest, EnrichedFieldsLieOverTheParsedOnes) {
  LogfmtParser parsed;
  ASSERT_FALSE(parsed.parse("cluster=dev level=info source=app http.status=200"));
  Enrichment e({text("cluster", "prod"), of("source", AddedField::Kind::kSource), text("team", "core")}, clock, 1);
  EnrichedFields fields(e, parsed);
  auto value = [&](std::string_view p) {
    std::string out;
    return fields.appendValue(path(p), out) ? out : "<none>";
  };
  RecordOrigin origin{.source = "/x.log"};
  e.begin("line", origin);
  EXPECT_EQ(value("cluster"), "prod");  // the added field wins
  EXPECT_EQ(value("team"), "core");
  EXPECT_EQ(value("level"), "info");  // the parsed fields show through
  EXPECT_EQ(value("http.status"), "200");
  EXPECT_EQ(value("source"), "/x.log");
  EXPECT_EQ(value("missing"), "<none>");
  // A source the input did not give hides nothing.
  RecordOrigin none;
  e.begin("line", none);
  EXPECT_EQ(value("source"), "app");
}

}  // namespace
}  // namespace kinship::pipeline
