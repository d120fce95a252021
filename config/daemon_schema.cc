// The daemon's own option tables: the top level, a pipeline, `admin` and
// `log`. Plugin tables live with their plugins and reach the loader through
// the SchemaCatalog.

#include "config/config.h"

namespace kinship::config {

namespace {

constexpr Option kGlobalOptions[] = {
    {
        .name = "data_dir",
        .type = ValueType::kString,
        .defaultValue = "/var/lib/kinship",
        .nonEmpty = true,
        .help = "Directory for the daemon's state: file inputs keep their checkpoints in its "
                "`checkpoints/` subdirectory (created when missing; the daemon refuses to start when "
                "it cannot be written). It must be writable by the daemon and persist across restarts.",
    },
    {
        .name = "shutdown_timeout",
        .type = ValueType::kDuration,
        .defaultValue = "5s",
        .minValue = 0,
        .maxValue = 10 * kMinute,
        .help = "On SIGTERM/SIGINT, how long to keep flushing buffered records to the sink before "
                "exiting. A reload (SIGHUP) gives each pipeline it stops or replaces as long to drain.",
    },
    {
        .name = "stall_timeout",
        .type = ValueType::kDuration,
        .defaultValue = "30s",
        .minValue = 1 * kSecond,
        .maxValue = 24 * 60 * kMinute,
        .help = "How long the event loop or a pipeline thread (sink, spool writer, spool reader) may go "
                "without turning before kinship counts it as stuck: /healthz then answers 503 naming it, "
                "and the systemd watchdog pings (when WatchdogSec= is set) stop, so systemd restarts the "
                "service. Each loop turns at least every second when idle; a longer pause means a blocked "
                "system call or a bug.",
    },
    {
        .name = "pipelines",
        .type = ValueType::kSection,
        .required = true,
        .help = "Map of pipeline name (letters, digits, `_`, `-`) to pipeline: each reads its "
                "`inputs` and ships to its `sink`.",
    },
    {
        .name = "admin",
        .type = ValueType::kSection,
        .help = "The HTTP admin endpoint (see the `admin` table).",
    },
    {
        .name = "log",
        .type = ValueType::kSection,
        .help = "The daemon's own log on stderr (see the `log` table).",
    },
};

constexpr Option kPipelineOptions[] = {
    {
        .name = "inputs",
        .type = ValueType::kSection,
        .required = true,
        .help = "Non-empty list of inputs, each a map with a `type` (such as `file`) and that "
                "type's options.",
    },
    {
        .name = "sink",
        .type = ValueType::kSection,
        .required = true,
        .help = "Where records go: a map with a `type` (such as `kinesis`) and that type's options.",
    },
    {
        .name = "partition_key",
        .type = ValueType::kString,
        .help = "Template of the Kinesis partition key over record fields, such as "
                "\"{service}-{host}\", \"{kubernetes.pod}\", \"{items[0].id}\" or "
                "\"{tenant|org|'unknown'}:{service}\" (alternatives tried left to right; the last may be a "
                "literal in single quotes). Quote it: YAML reads a bare `{` as a map. A record lacking a "
                "field with no alternative, a line that does not parse, or an empty key takes "
                "`partition_key_fallback`. Absent: every record takes the fallback (random by default, "
                "which spreads load evenly over shards).",
    },
    {
        .name = "partition_key_fallback",
        .type = ValueType::kString,
        .defaultValue = "random",
        .help = "The key of a record whose `partition_key` gives none (see above): `random` (32 random hex "
                "digits), `hash` (the MD5 of the line as read, whatever the `encoding`, in 32 hex "
                "digits: equal lines share a shard), or `constant:TEXT` (that text, 1 to 256 characters). Counted in "
                "kinship_pipeline_key_fallbacks_total.",
    },
    {
        .name = "partition_key_overflow",
        .type = ValueType::kEnum,
        .defaultValue = "cut",
        .choices = "cut|hash",
        .help = "A rendered key over Kinesis's 256 characters (UTF-16 code units): `cut` keeps its first "
                "256 without splitting a character (keys that differ only later then share a shard); "
                "`hash` replaces it with the MD5 of the whole key in 32 hex digits, so distinct keys stay "
                "distinct. Counted in kinship_pipeline_keys_over_limit_total.",
    },
    {
        .name = "explicit_hash_key",
        .type = ValueType::kString,
        .help = "Template (same syntax as partition_key, e.g. \"{hash}\") giving each record's "
                "ExplicitHashKey: a decimal number below 2^128 that picks the shard instead of "
                "MD5(partition key). A record whose template does not render, or renders something "
                "that is not such a number, takes `explicit_hash_key_fallback`.",
    },
    {
        .name = "explicit_hash_key_fallback",
        .type = ValueType::kString,
        .defaultValue = "none",
        .help = "The ExplicitHashKey of a record whose `explicit_hash_key` gives none: `none` (sent without "
                "one, so MD5(partition key) picks the shard; counted in "
                "kinship_pipeline_explicit_hash_key_invalid_total), `random` (a random number below "
                "2^128), `hash` (the MD5 of the record's data as a number) or `constant:N` (N, a decimal "
                "number below 2^128).",
    },
    {
        .name = "queue_size",
        .type = ValueType::kSize,
        // No single default: it depends on spool.mode (daemon/pipeline_buffers.h).
        .minValue = 64 * kKiB,
        .maxValue = kGiB,
        .help = "Bytes of records buffered in memory between the inputs and the spool (disk mode) or "
                "the sink (memory mode); in disk mode half as much again is read ahead from the spool for "
                "the sink. When full, file and stream inputs pause reading until there is room. Default: "
                "`1MiB` in disk mode, where the spool holds the backlog; `8MiB` in memory mode, where this "
                "buffer is the only one.",
    },
    {
        .name = "spool",
        .type = ValueType::kSection,
        .help = "Where records wait for the sink (see the `pipelines.<name>.spool` table): on disk, "
                "surviving crashes and outages (the default), or only in memory.",
    },
    {
        .name = "filters",
        .type = ValueType::kSection,
        .help = "A list of filters that keep or drop records before their keys are rendered (see the "
                "`pipelines.<name>.filters[]` table), in order; the first that drops a record is counted "
                "in kinship_pipeline_filtered_total{filter}. Absent: every record is shipped.",
    },
    {
        .name = "add_fields",
        .type = ValueType::kStringMap,
        .help = "Fields added to every record, name to text, such as `{cluster: prod, pod: \"${POD_NAME}\"}` "
                "(`${NAME}` and `${NAME:-default}` are read from the environment at startup, e.g. the "
                "Kubernetes downward API's POD_NAME, POD_NAMESPACE, NODE_NAME). Templates and filters read "
                "them as `{cluster}`, over a parsed field of the same name; `encoding: json` writes them. A "
                "name is one template step: no `.`, `[`, `]`, `|`, `{`, `}` or `'`.",
    },
    {
        .name = "add_metadata",
        .type = ValueType::kStringMap,
        .help = "Fields added to every record, name to what it holds: `hostname` (the host's name, read at "
                "startup; a pod's name in Kubernetes), `source` (the file's path, the UDP sender's ip:port, "
                "the unix socket's path), `ingest_time` (when the pipeline took the line, RFC 3339 UTC with "
                "milliseconds), `record_id` (32 hex digits, the same each time the record is delivered, so "
                "consumers can drop redeliveries; for files made from the file's identity and the record's "
                "offset, so a re-read after a crash gives it again), `line_hash` (32 hex digits of the "
                "line's 128-bit XXH3: equal lines, equal values). Written after `add_fields`, same names.",
    },
    {
        .name = "encoding",
        .type = ValueType::kEnum,
        .defaultValue = "raw",
        .choices = "raw|json",
        .help = "The bytes each record ships (and the spool stores): `raw`, the line as read; `json`, one "
                "JSON object of the parsed fields then the added ones (a line that did not parse, or parser "
                "raw: `{\"message\": LINE}` and the added fields), keys in a stable order, text that is not "
                "UTF-8 replaced with U+FFFD (counted in kinship_pipeline_invalid_utf8_total). A record over the "
                "stream's record size once encoded is a dead letter, as any.",
    },
    {
        .name = "trailing_newline",
        .type = ValueType::kBool,
        .defaultValue = "false",
        .help = "End each record's data with a newline (`\\n`), for consumers that split a stream of records "
                "on it (Firehose to S3, a file of dumped records).",
    },
};

constexpr Option kFilterOptions[] = {
    {
        .name = "name",
        .type = ValueType::kString,
        .required = true,
        .nonEmpty = true,
        .help = "The filter's name: the `filter` label of kinship_pipeline_filtered_total. Unique in its pipeline.",
    },
    {
        .name = "action",
        .type = ValueType::kEnum,
        .defaultValue = "drop",
        .choices = "drop|keep",
        .help = "`drop`: drop the records that meet the condition; `keep`: drop those that do not (a record "
                "lacking the field does not meet it).",
    },
    {
        .name = "field",
        .type = ValueType::kString,
        .nonEmpty = true,
        .help = "The field tested, as in templates (`level`, `http.status`, `sd.origin@1.tenant`); the input's "
                "`parser` must give fields. Absent: the whole line (with `equals` or `matches`) or `level` (with "
                "`level_at_least`).",
    },
    {
        .name = "equals",
        .type = ValueType::kString,
        .help = "Condition: the value is exactly this text. One of `equals`, `matches` and `level_at_least`.",
    },
    {
        .name = "matches",
        .type = ValueType::kString,
        .nonEmpty = true,
        .help = "Condition: the value holds a match of this RE2 expression (anchor it with `^` and `$` for a "
                "whole match; single-quote it in YAML).",
    },
    {
        .name = "level_at_least",
        .type = ValueType::kEnum,
        .choices = "trace|debug|info|notice|warn|warning|error|err|crit|critical|alert|emerg|fatal",
        .help = "Condition: the value is a log level at or above this one. Levels, case-insensitive: trace < "
                "debug < info < notice < warn, warning < error, err < crit, critical < alert < emerg, "
                "emergency, fatal, panic; also pino's and bunyan's numbers (10 trace ... 60 fatal). A value "
                "that is not a level does not meet it.",
    },
};

constexpr Option kSpoolOptions[] = {
    {
        .name = "mode",
        .type = ValueType::kEnum,
        .defaultValue = "disk",
        .choices = "disk|memory",
        .help = "`disk`: every record is appended to a write-ahead spool on disk before the sink reads "
                "it; file inputs checkpoint once their lines are durable there, and what the sink has not "
                "delivered survives kill -9, outages and restarts (sent after the next start). `memory`: "
                "records wait only in the `queue_size` buffer; checkpoints advance when Kinesis accepts "
                "them, and a stop past shutdown_timeout drops what is left (counted).",
    },
    {
        .name = "dir",
        .type = ValueType::kString,
        .nonEmpty = true,
        .help = "Directory of the spool's segment files. Default: `<data_dir>/spool/<pipeline>`. One "
                "pipeline per directory.",
    },
    {
        .name = "max_size",
        .type = ValueType::kSize,
        .defaultValue = "1GiB",
        .minValue = 2 * kMiB,
        .maxValue = 1024 * kGiB,
        .help = "Cap on the spool's files together. When it is reached, `when_full` decides. Must be at "
                "least twice `segment_size`.",
    },
    {
        .name = "segment_size",
        .type = ValueType::kSize,
        .defaultValue = "64MiB",
        .minValue = kMiB,
        .maxValue = 4 * kGiB,
        .help = "Size at which the spool starts a new segment file. A segment is deleted once every "
                "record in it is delivered, so disk space comes back in steps of this size.",
    },
    {
        .name = "fsync",
        .type = ValueType::kString,
        .defaultValue = "1s",
        .help = "When appended records are flushed to the disk with fsync: `always` (before a file "
                "input checkpoints past them; slowest), a duration such as `1s` (at most that often; "
                "checkpoints wait for the flush, so a power loss repeats lines but loses none), or "
                "`never` (the OS decides; a kill -9 loses nothing, a power loss may).",
    },
    {
        .name = "when_full",
        .type = ValueType::kEnum,
        .defaultValue = "block",
        .choices = "block|drop_newest|drop_oldest",
        .help = "At `max_size`: `block` pauses file and stream inputs (UDP and datagram inputs count "
                "drops) and reports not ready until the sink frees space; `drop_newest` drops the "
                "records that do not fit; `drop_oldest` deletes the oldest segment's undelivered "
                "records to make room. Drops are counted in kinship_spool_dropped_records_total and "
                "logged.",
    },
};

constexpr Option kAdminOptions[] = {
    {
        .name = "listen",
        .type = ValueType::kString,
        .defaultValue = "127.0.0.1:9464",
        .help = "host:port of the HTTP endpoints /metrics (Prometheus), /healthz and /readyz. "
                "An empty string (\"\") disables them.",
    },
};

constexpr Option kLogOptions[] = {
    {
        .name = "level",
        .type = ValueType::kEnum,
        .defaultValue = "info",
        .choices = "debug|info|warn|error",
        .help = "Least severe level written to stderr.",
    },
    {
        .name = "format",
        .type = ValueType::kEnum,
        .defaultValue = "text",
        .choices = "text|json",
        .help = "`text` for people, `json` (one object per line) for log collectors.",
    },
};

}  // namespace

Schema globalSchema() { return kGlobalOptions; }
Schema pipelineSchema() { return kPipelineOptions; }
Schema adminSchema() { return kAdminOptions; }
Schema logSchema() { return kLogOptions; }
Schema spoolSchema() { return kSpoolOptions; }
Schema filterSchema() { return kFilterOptions; }

}  // namespace kinship::config
