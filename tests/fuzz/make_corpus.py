#!/usr/bin/env python3
"""Writes the seed corpus of the fuzz targets (tests/fuzz/corpus/<target>/).

The files are committed; run this again after changing a seed here:
    python3 tests/fuzz/make_corpus.py
CBOR is written by hand (RFC 8949), like the unit tests do, so that seeds
can declare lengths an encoder never would.
"""

import json
import os
import shutil
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def head(major, value, width=None):
    """A CBOR head; `width` (0, 1, 2, 4, 8) forces how the argument is written."""
    if width is None:
        width = 0 if value < 24 else 1 if value < 256 else 2 if value < 65536 else 4 if value < 2**32 else 8
    info = {0: value, 1: 24, 2: 25, 4: 26, 8: 27}[width]
    out = bytes([(major << 5) | info])
    if width:
        out += value.to_bytes(width, "big")
    return out


def text(s):
    b = s.encode()
    return head(3, len(b)) + b


def cmap(pairs, indefinite=False):
    body = b"".join(text(k) + v for k, v in pairs)
    return (b"\xbf" + body + b"\xff") if indefinite else head(5, len(pairs)) + body


def carray(items, indefinite=False):
    body = b"".join(items)
    return (b"\x9f" + body + b"\xff") if indefinite else head(4, len(items)) + body


OK_RECORD = [("SequenceNumber", text("49590338271490256608559692538361571095921575989136588898")),
             ("ShardId", text("shardId-000000000001"))]
THROTTLED = [("ErrorCode", text("ProvisionedThroughputExceededException")),
             ("ErrorMessage", text("Rate exceeded for shard shardId-000000000001 in stream s under account 1."))]
INTERNAL = [("ErrorCode", text("InternalFailure")), ("ErrorMessage", text("Internal service failure."))]


def cbor_answer(failed, records, indefinite=False, encryption=False):
    pairs = [("FailedRecordCount", head(0, failed)), ("Records", carray([cmap(r) for r in records], indefinite))]
    if encryption:
        pairs.append(("EncryptionType", text("KMS")))
    return cmap(pairs)


def json_value(cbor_text):
    # The records above hold CBOR texts; JSON seeds want the same strings.
    n = cbor_text[0] & 0x1f
    return cbor_text[1 if n < 24 else 2:].decode()


def json_answer(failed, records):
    answer = {"FailedRecordCount": failed, "Records": [{k: json_value(v) for k, v in r} for r in records]}
    return json.dumps(answer, separators=(",", ":")).encode()


def put_records_seeds():
    # First byte: records sent; the rest: the body (see put_records_response_fuzz.cc).
    seeds = {
        "cbor_all_ok": (3, cbor_answer(0, [OK_RECORD] * 3)),
        "cbor_some_failed": (4, cbor_answer(2, [OK_RECORD, THROTTLED, INTERNAL, OK_RECORD], encryption=True)),
        "cbor_indefinite": (2, cmap([("Records", carray([cmap(OK_RECORD, True), cmap(INTERNAL)], True)),
                                     ("FailedRecordCount", head(0, 1))], True)),
        "cbor_chunked_text": (1, cmap([("FailedRecordCount", head(0, 1)),
                                       ("Records", carray([b"\xa1" + text("ErrorCode") + b"\x7f" + text("Internal") +
                                                           text("Failure") + b"\xff"]))])),
        "cbor_failed_count_last": (2, cmap([("Records", carray([cmap(OK_RECORD), cmap(THROTTLED)])),
                                            ("FailedRecordCount", head(0, 1))])),
        # Issue 12: Records declared 2^64-1 long (std::length_error, exit 134).
        "cbor_issue12_records_2pow64": (1, b"\xa2\x71FailedRecordCount\x00\x67Records\x9b" + b"\xff" * 8 + b"\xa0"),
        "cbor_records_2pow29": (1, cmap([("FailedRecordCount", head(0, 0)), ("Records", head(4, 2**29, 4) + cmap(OK_RECORD))])),
        "cbor_one_more_than_sent": (1, cbor_answer(0, [OK_RECORD] * 2)),
        "json_all_ok": (3, json_answer(0, [OK_RECORD] * 3)),
        "json_some_failed": (4, json_answer(2, [OK_RECORD, THROTTLED, INTERNAL, OK_RECORD])),
        "json_empty": (0, b'{"FailedRecordCount":0,"Records":[]}'),
        "json_one_more_than_sent": (1, json_answer(0, [OK_RECORD] * 2)),
        "not_an_answer": (1, b"<html>502 Bad Gateway</html>"),
    }
    return {name: bytes([n]) + body for name, (n, body) in seeds.items()}


def error_type_seeds():
    return {
        "json_namespaced": b'{"__type":"com.amazonaws.kinesis.v20131202#ResourceNotFoundException","message":"Stream s not found"}',
        "json_code_colon": b'{"code":"ValidationException:http://internal.amazon.com/","message":"x"}',
        "json_not_json": b"<html>Service Unavailable</html>",
        "cbor_type": cmap([("__type", text("com.amazonaws.kinesis#AccessDeniedException")), ("message", text("no"))]),
        "cbor_code_and_type": cmap([("code", text("second")), ("__type", text("first"))], True),
        "cbor_nested_skipped": cmap([("message", carray([head(0, 1), cmap([("a", b"\xf6")])], True)),
                                     ("__type", b"\x7f" + text("Throttling") + text("Exception") + b"\xff")]),
        # Issue 12: arrays declaring 2^26 and 2.9 * 10^9 items (539 MB, 21.5 GB from cbor_load).
        "cbor_issue12_array_2pow26": b"\xa1\x9a\x04\x00\x00\x00",
        "cbor_issue12_array_huge": b"\xa1\x9a\xad\x9a\x8c\x90",
        "cbor_map_2pow29": b"\xa1" + text("x") + head(5, 2**29, 4),
    }


def key_template_seeds():
    # First line: the template; the rest: a JSON record.
    return {
        "fields": b'{service}-{host}\n{"service":"api","host":"web-1","level":"info"}',
        "dotted": b'{kubernetes.pod}/{kubernetes.namespace}\n{"kubernetes":{"pod":"p-1","namespace":"default"}}',
        "numbers_and_bools": b'{n}:{f}:{b}:{u}\n{"n":-42,"f":1.5e300,"b":true,"u":18446744073709551615}',
        "braces_and_escapes": b'{{literal}}-{a~b}-{c/d}\n{"a~b":"x","c/d":"y"}',
        "literal": b"static-key\n",
        "missing_field": b'{absent}\n{"present":1}',
        "emoji_long": b"{k}\n" + json.dumps({"k": "\U0001F600" * 200}).encode(),
        "unclosed": b"{service\n{}",
        "fallbacks": b"{tenant|org|'unknown'}:{service|''}\n" + b'{"org":"acme","service":"api"}',
        "fallback_empty_value": b"{e|n|o|'x'}-{e}\n" + b'{"e":"","n":null,"o":{"a":1}}',
        "array_indexes": b"{items[1].tags[0]}/{m[0][1]}\n" + b'{"items":[{},{"tags":["t"]}],"m":[[1,2]]}',
        "quoted_literal_bars": b"{a|'x|}y'}{{}}\n{}",
        "long_key_257": b"{k}\n" + json.dumps({"k": "a" * 257}).encode(),
        "emoji_straddle": b"{k}\n" + json.dumps({"k": "a" * 255 + "\U0001F600"}, ensure_ascii=False).encode(),
        "decimal_hash_key": b"{h}\n" + b'{"h":"340282366920938463463374607431768211455"}',
        "not_json": b"{a|'lit'}\nnot json at all",
    }


def logfmt_seeds():
    return {
        "heroku_router": b'at=info method=GET path="/" host=myapp.herokuapp.com fwd="204.204.204.204" dyno=web.1 connect=1ms service=18ms status=200 bytes=13',
        "slog_text": b'time=2024-03-05T10:11:12.345+01:00 level=WARN msg="disk almost full" path=/var/lib used_pct=93.5',
        "escapes": b'msg="say \\"hi\\" C:\\\\dir\\n" e="" flag q=a=b',
        "unterminated": b'level=error msg="no end',
        "free_text": b"just some free text",
        "malformed": b'a="x"y =2 ke"y=1',
        "utf8": "k=\u00e9t\u00e9 \u65e5=\U0001F600".encode(),
    }


def regex_seeds():
    # First line: the pattern; the rest: the line.
    return {
        "combined_log": b'^(?P<client>\\S+) \\S+ (?P<user>\\S+) \\[(?P<time>[^\\]]+)\\] "(?P<method>[A-Z]+) (?P<path>\\S+)[^"]*" (?P<status>\\d{3})\n'
                        b'203.0.113.9 - frank [10/Oct/2023:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326',
        "log4j": b"^(?P<date>\\S+ \\S+) (?P<level>[A-Z]+)\\s+\\[(?P<thread>[^\\]]+)\\] (?P<msg>.*)$\n"
                 b"2024-03-05 10:11:12,345 ERROR [main] Order 42 failed",
        "optional_group": b"^(?P<a>x)?(?P<b>y*)z$\nz",
        "shared_name": b"took (?:(?P<v>\\d+)s|(?P<v>\\d+)ms)\ntook 250ms",
        "unicode": "(?P<word>\\p{L}+)\n-- \u043f\u0440\u0438\u0432\u0435\u0442 --".encode(),
        "no_match": b"^(?P<n>\\d+)$\n12a",
        "invalid": b"(?P<a>x\nx",
    }


def syslog_seeds():
    return {
        "rfc3164": b"<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8",
        "journald_local": b"<30>Dec  7 06:00:00 systemd[1]: Started Daily apt download activities.",
        "var_log_syslog": b"Dec  7 06:25:01 web-1 CRON[9921]: (root) CMD (debian-sa1 1 1)",
        "rfc3339_file": b"2026-12-07T06:25:01.123456+00:00 web-1 nginx[77]: GET /health 200",
        "rfc5424_bom": b"<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - \xef\xbb\xbf'su root' failed",
        "rfc5424_sd": b'<165>1 2003-10-11T22:14:15.003Z host evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="App"][p@1 class="high"] event',
        "rfc5424_escapes": b'<14>1 - - - - - [meta@1 path="C:\\\\logs\\]x" q="say \\"hi\\""] msg',
        "bad_priority": b"<192>Oct 11 22:14:15 host app: x",
        "bad_sd": b'<34>1 - - - - - [id x="unterminated',
        "free_text": b"just some free text",
    }


def record_filter_seeds():
    return {
        "health": b"path=/health level=error",
        "quiet": b"path=/x level=info msg=ok",
        "loud_bot": b'path=/x level=WARN ua="Googlebot/2.1"',
        "pino": b"level=50 msg=failed",
        "no_level": b"path=/x",
        "free_text": b"GET / by a crawler",
    }


def record_encoder_seeds():
    # First byte: the parser (0 json, 1 logfmt, 2 syslog, 3 none), plus 4
    # when the source is the line too; the rest: the line.
    return {
        "json_splice": b"\x00" + b'{"a":1,"n":{"k":[1,2.5,null]},"s":"caf\u00e9"}',
        "json_hidden": b"\x00" + b'{"host":"h","level":"info","b":1.0,"big":18446744073709551615}',
        "json_empty": b"\x04" + b"{ }",
        "json_invalid": b"\x00" + b'{"a":',
        "logfmt_repeats": b"\x01" + b'level=info msg="say \\"hi\\"" level=warn host=x flag',
        "logfmt_bad_utf8": b"\x05" + b"k\xff=v\xc3 x=\xe2\x82",
        "syslog_sd": b"\x02" + b'<165>1 2003-10-11T22:14:15.003Z host app - ID47 [z@1 b="2" a="x\\"y"][a@1 k="v"][z@1 b="d"] msg',
        "syslog_3164": b"\x06" + b"<13>Oct 11 22:14:15 host su[12]: hello",
        "raw_controls": b"\x03" + b"tab\there \x01 \x7f \xc2\x9b quote\" back\\",
        "raw_invalid": b"\x07" + b"\xed\xa0\x80 \xf4\x90\x80\x80 \xc0\xaf",
    }


def substitute_env_seeds():
    return {
        "plain": b"no variables here",
        "set": b"host=${HOST}",
        "default": b"${UNSET:-fallback}",
        "empty_default": b"${EMPTY:-was empty}",
        "nested_defaults": b"${UNSET:-${OTHER:-${HOST}}}-${A:-x}",
        "braces_in_default": b"${KEY:-{service}-{host}}",
        "dollars": b"$$ $${HOST} $x ${DOLLAR}",
        "unset": b"${NOPE}",
        "invalid": b"${1BAD} ${A:x} ${",
        "deep": b"${A:-" * 20 + b"x" + b"}" * 20,
    }


def container_log_seeds():
    # First byte: bit 0 docker (else CRI), bits 1-6 the largest joined line
    # less one, bit 7 long_lines drop (else split), bits 3-4 also the seconds
    # between lines; the rest: the file's lines.
    def control(docker, max_size, drop=False):
        return bytes([(1 if docker else 0) | ((max_size - 1) << 1) | (128 if drop else 0)])

    t = "2023-10-06T00:17:09.669794202Z"
    cri = "\n".join([
        t + ' stdout F {"level":"info","msg":"started"}',
        t + " stdout P Exception in thread main ",
        t + " stderr F E1006 12:00:00 panic: runtime error",
        t + " stdout P java.lang.RuntimeException: ",
        t + " stdout F boom",
        "2023-10-06T02:17:10.113242941+02:00 stdout F crio offset",
        t + " stdout F ",
        t + " stdout P:x more tags",
        "a line that is not CRI",
        t + " stdin F bad stream",
    ]).encode()
    docker = b"\n".join([
        b'{"log":"2023/10/06 00:17:09 [notice] 1#1: using the \\"epoll\\" event method\\n","stream":"stderr","time":"2023-10-06T00:17:09.669794202Z"}',
        b'{"log":"{\\"msg\\":\\"caf\\u00e9 \\u003cb\\u003e ","stream":"stdout","time":"2023-10-06T00:17:10.1Z"}',
        b'{"log":"\\ud83d\\ude00\\"}\\r\\n","stream":"stdout","time":"2023-10-06T00:17:10.2Z"}',
        "{\"log\":\"\u65e5\u672c\u8a9e\\n\",\"stream\":\"stdout\",\"time\":\"t\"}".encode(),
        b'{"time":"t","attrs":{"tag":"web"},"stream":"stdout","log":"x\\n"}',
        b'{"log":5}',
        b'["log"]',
        b"not json",
    ])
    return {
        "cri_split_64": control(False, 64) + cri,
        "cri_drop_16": control(False, 16, drop=True) + cri,
        "cri_split_8": control(False, 8) + cri,
        "docker_split_64": control(True, 64) + docker,
        "docker_drop_12": control(True, 12, drop=True) + docker,
    }


def octet_frame_seeds():
    # First byte: low nibble the largest frame (1 + 17n bytes), high nibble
    # the read size (1 + 5n bytes); the rest: the stream.
    def frame(message):
        return str(len(message)).encode() + b" " + message

    rfc5424 = b'<165>1 2003-10-11T22:14:15.003Z host evntslog - ID47 [exampleSDID@32473 iut="3"] event'
    return {
        "rsyslog": b"\xff" + frame(b"<34>1 2003-10-11T22:14:15.003Z mymachine su - ID47 - 'su root' failed") + frame(rfc5424),
        "newlines": b"\x3f" + frame(b"trace\n\tat a.B(B.java:1)\n") + b"\n" + frame(b"crlf\r\n") + b"\r\n0 ",
        "too_long": b"\x01" + frame(b"x" * 40) + frame(b"ok"),
        "not_framed": b"\xf5" + b"<34>Oct 11 22:14:15 host su: newline framing\n",
        "bad_lengths": b"\x55" + b"007 abcdefg",
        "many_digits": b"\x55" + b"12345678901 x",
        "cut_short": b"\x2f" + frame(b"whole") + b"20 only ten",
    }


def main():
    targets = {
        "put_records_response_fuzz": put_records_seeds(),
        "error_type_fuzz": error_type_seeds(),
        "key_template_fuzz": key_template_seeds(),
        "logfmt_fuzz": logfmt_seeds(),
        "regex_fuzz": regex_seeds(),
        "syslog_fuzz": syslog_seeds(),
        "record_filter_fuzz": record_filter_seeds(),
        "substitute_env_fuzz": substitute_env_seeds(),
        "record_encoder_fuzz": record_encoder_seeds(),
        "container_log_fuzz": container_log_seeds(),
        "octet_frame_fuzz": octet_frame_seeds(),
    }
    for target, seeds in targets.items():
        directory = os.path.join(HERE, "corpus", target)
        shutil.rmtree(directory, ignore_errors=True)
        os.makedirs(directory)
        for name, data in seeds.items():
            with open(os.path.join(directory, name), "wb") as f:
                f.write(data)


if __name__ == "__main__":
    main()
