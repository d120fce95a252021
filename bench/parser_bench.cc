// parser_bench: lines per second of the pipeline's per-line work for each
// parser, on 200-byte lines, on one core: parse the line and render its
// partition key into a batch (Pipeline::addLine), as an input hands lines
// over. `cri` and `docker` also unwrap each line first, as the file input
// does (ContainerLogAssembler), then read the application's line as JSON.
// No I/O, no queue: the batch is cleared every 2,000 lines (as the file
// input submits them), so the figures are the CPU cost per line at best;
// bench/run.sh shows the whole daemon.
//
//   parser_bench [lines per run, default 2000000] [parser ...]
//
// Each parser runs three times over 1,024 distinct lines (services, hosts
// and message lengths vary); the best run is printed with ns per line and
// MB/s of input lines.

#include <prometheus/registry.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "inputs/file/container_log_assembler.h"
#include "pipeline/key_template.h"
#include "pipeline/pipeline.h"
#include "pipeline/regex_parser.h"

namespace {

using namespace kinship;
using namespace kinship::pipeline;
using Clock = std::chrono::steady_clock;

constexpr size_t kLineBytes = 200;
constexpr size_t kDistinctLines = 1024;
constexpr size_t kBatchLines = 2000;

struct Scenario {
  const char* name;
  const char* what;
  std::string key;  // empty: no template (random keys)
  Parser parser;
  // The i-th line, before padding to 200 bytes with `msg` characters.
  std::string (*line)(size_t i, size_t msgBytes);
};

std::string service(size_t i) { return "svc" + std::to_string(i % 7); }
std::string host(size_t i) { return "web-" + std::to_string(i % 13); }
std::string ts(size_t i) { return "2024-05-01T12:00:" + std::to_string(10 + i % 50) + ".123456789Z"; }

std::string jsonLine(size_t i, size_t msg) {
  return "{\"ts\":\"" + ts(i) + "\",\"service\":\"" + service(i) + "\",\"host\":\"" + host(i) +
         "\",\"level\":\"info\",\"seq\":" + std::to_string(i) + ",\"msg\":\"" + std::string(msg, 'x') + "\"}";
}

// Fills `make`'s message so the whole line is 200 bytes.
std::string sized(std::string (*make)(size_t, size_t), size_t i) {
  const size_t bare = make(i, 0).size();
  return make(i, bare < kLineBytes ? kLineBytes - bare : 0);
}

std::vector<std::string> linesOf(const Scenario& s) {
  std::vector<std::string> lines;
  for (size_t i = 0; i < kDistinctLines; ++i) {
    // Message lengths vary by a few bytes around the 200-byte mean.
    std::string line = sized(s.line, i);
    const size_t jitter = i % 9;
    if (line.size() > jitter + 4) line.erase(line.size() / 2, jitter);
    line.insert(line.size() / 2, std::string(jitter / 2, 'y'));
    lines.push_back(std::move(line));
  }
  return lines;
}

std::vector<Scenario> scenarios() {
  auto regex = RegexPattern::compile(
      R"(^(?P<ts>\S+) (?P<service>\S+) (?P<host>\S+) (?P<level>[a-z]+) (?P<msg>.*)$)");
  if (!regex) {
    std::fprintf(stderr, "parser_bench: %s\n", regex.error().message().c_str());
    std::exit(1);
  }
  return {
      {"raw", "no fields, random keys", "", Parser::kRaw,
       [](size_t i, size_t msg) { return ts(i) + " " + service(i) + " " + host(i) + " info " + std::string(msg, 'x'); }},
      {"json", "{service}-{host} from a JSON object", "{service}-{host}", Parser::kJson, jsonLine},
      {"logfmt", "{service}-{host} from logfmt pairs", "{service}-{host}", Parser::kLogfmt,
       [](size_t i, size_t msg) {
         return "ts=" + ts(i) + " service=" + service(i) + " host=" + host(i) + " level=info seq=" +
                std::to_string(i) + " msg=\"" + std::string(msg, 'x') + "\"";
       }},
      {"regex", "{service}-{host} from 5 named groups", "{service}-{host}", Parser::regex(*regex),
       [](size_t i, size_t msg) { return ts(i) + " " + service(i) + " " + host(i) + " info " + std::string(msg, 'x'); }},
      {"syslog", "{appname}-{hostname} from RFC 5424 with structured data", "{appname}-{hostname}", Parser::kSyslog,
       [](size_t i, size_t msg) {
         return "<165>1 " + ts(i) + " " + host(i) + " " + service(i) + " " + std::to_string(1000 + i) +
                " ID47 [origin@1 tenant=\"acme\"] " + std::string(msg, 'x');
       }},
      {"cri", "CRI line unwrapped, JSON inside: {service}-{host}", "{service}-{host}",
       Parser::container(ParserKind::kCri, Parser::kJson),
       [](size_t i, size_t msg) { return ts(i) + " stdout F " + jsonLine(i, msg); }},
      {"cri-raw", "CRI line unwrapped, raw inside: {stream}", "{stream}",
       Parser::container(ParserKind::kCri, Parser::kRaw),
       [](size_t i, size_t msg) { return ts(i) + " stdout F " + jsonLine(i, msg); }},
      {"docker", "json-file line unwrapped and unescaped, JSON inside: {service}-{host}", "{service}-{host}",
       Parser::container(ParserKind::kDocker, Parser::kJson),
       [](size_t i, size_t msg) {
         std::string inner = jsonLine(i, msg);
         std::string escaped;
         for (char c : inner) {
           if (c == '"') escaped += '\\';
           escaped += c;
         }
         return "{\"log\":\"" + escaped + "\\n\",\"stream\":\"stdout\",\"time\":\"" + ts(i) + "\"}";
       }},
  };
}

// Hands the application's lines of a container log to the pipeline, as the
// file input does.
struct ToPipeline final : inputs::ContainerRecordReceiver {
  Pipeline* pipeline = nullptr;
  const Parser* parser = nullptr;
  RecordBatch* batch = nullptr;
  void onContainerRecord(std::string_view log, uint64_t, const ContainerLine& container) override {
    pipeline->addLine(log, *parser, *batch, &container);
  }
  void onContainerLineSplit() override {}
  void onContainerLineTooLong(uint64_t) override {}
};

struct Timing {
  double seconds;
  size_t bytes;
};

Timing run(const Scenario& s, const std::vector<std::string>& padded, const std::vector<size_t>& sizes, size_t lines) {
  prometheus::Registry registry;
  KeyRules rules;
  if (!s.key.empty()) rules.partitionKey.keyTemplate = *KeyTemplate::compile(s.key);
  Pipeline pipeline("bench", std::move(rules), 64 << 20, registry);
  BatchPtr batch = pipeline.queue().acquire();
  ContainerLogReader reader(s.parser.isContainer() ? s.parser.kind() : ParserKind::kCri);
  inputs::ContainerLogAssembler assembler(reader, 1 << 20, inputs::LongLines::kDrop, std::chrono::seconds(5), 0);
  ToPipeline out;
  out.pipeline = &pipeline;
  out.parser = &s.parser;
  out.batch = batch.get();
  size_t bytes = 0;
  uint64_t offset = 0;
  const auto start = Clock::now();
  for (size_t i = 0; i < lines; ++i) {
    const size_t k = i % kDistinctLines;
    const std::string_view line(padded[k].data(), sizes[k]);
    bytes += line.size();
    if (s.parser.isContainer()) {
      offset += line.size() + 1;
      assembler.addLine(line, offset, {}, out);
    } else {
      pipeline.addLine(line, s.parser, *batch);
    }
    if (batch->size() == kBatchLines) batch->clear();
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (batch->size() > kBatchLines) std::abort();  // keeps the work observable
  return {seconds, bytes};
}

}  // namespace

int main(int argc, char** argv) {
  size_t lines = 2'000'000;
  if (argc > 1) lines = std::strtoull(argv[1], nullptr, 10);
  if (lines == 0) {
    std::fprintf(stderr, "usage: parser_bench [lines per run] [parser ...]\n");
    return 2;
  }
  std::vector<std::string> wanted(argv + std::min(argc, 2), argv + argc);
  std::printf("%-8s %12s %10s %9s  %s\n", "parser", "lines/s", "ns/line", "MB/s", "what (best of 3 runs)");
  for (const Scenario& s : scenarios()) {
    if (!wanted.empty() && std::find(wanted.begin(), wanted.end(), s.name) == wanted.end()) continue;
    std::vector<std::string> padded;
    std::vector<size_t> sizes;
    for (auto& line : linesOf(s)) {
      sizes.push_back(line.size());
      padded.push_back(line + std::string(kParsePadding, '\0'));
    }
    Timing best{1e30, 0};
    for (int r = 0; r < 3; ++r) {
      Timing result = run(s, padded, sizes, lines);
      if (result.seconds < best.seconds) best = result;
    }
    std::printf("%-8s %12.0f %10.1f %9.1f  %s\n", s.name, lines / best.seconds, best.seconds * 1e9 / lines,
                best.bytes / best.seconds / 1e6, s.what);
  }
  return 0;
}
