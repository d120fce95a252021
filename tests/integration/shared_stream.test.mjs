// Four independent daemons share one stream with no coordinator, as sidecars
// of four pods do (issue 17): the project's fake endpoint enforces Kinesis's
// per-shard limits (1,000 records/s over a sliding second) on a 4-shard
// stream, and each daemon has its own backlog of lines with keys spread over
// every shard. They start a second apart (KINSHIP_TEST_STAGGER_MS sets
// another gap; 0 starts them together). Over the common window (from the
// last one's first accepted record until the first one is down to its last
// 5% of lines) it measures
// each daemon's records/s against a fair share (the four's mean), the
// share of the stream's capacity the four use together, and the share of
// records sent that came back throttled. Each daemon's accepted records are
// read from its own metrics every 250 ms. Figures are printed (ctest -V).
//
// It asserts issue 17's targets: every line exactly once, each daemon
// within 10% of a fair share, >= 95% of the capacity used, <= 3% of the
// records sent throttled. With 80,000 lines each (about 70 s in common) the
// pacing reaches 2.8-3.1% off, 97.1-97.6% and 2.4-2.6% (bench/RESULTS.md).
// Most of the unfairness is in the seconds after each start, as a newcomer
// takes the room the last one's arrival left; KINSHIP_TEST_LINES=40000
// halves the test and shows more of it (5.5-8.9% off).

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { makeTempDir, sleep, startDaemon, waitFor } from '../support/daemon.mjs';
import { startFake } from '../support/fake_kinesis.mjs';
import { writeFileToKinesisConfig } from '../support/kinship_config.mjs';
import { adminUrl, scrape, metricSum } from '../support/metrics.mjs';

const cleanups = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

const daemons = 4;
const shards = 4;
const perShard = 1000;
const capacity = shards * perShard;
// About 80 s of the whole stream's capacity.
const linesPerDaemon = Number(process.env.KINSHIP_TEST_LINES ?? 80000);
const staggerMs = Number(process.env.KINSHIP_TEST_STAGGER_MS ?? 1000);
const delayMs = Number(process.env.KINSHIP_TEST_DELAY_MS ?? 25);

function writeConfig(dir, endpoint) {
  return writeFileToKinesisConfig(dir, {
    endpoint, stream: 'shared',
    input: ['parser: json'],
    // Four daemons and the endpoint share two cores: no disk spool competing.
    pipeline: ['partition_key: "{d}-{seq}"', 'spool: { mode: memory }'],
  });
}

function lines(daemon, count) {
  const parts = [];
  for (let i = 0; i < count; i++) parts.push(`{"d":${daemon},"seq":${i},"pad":"${'x'.repeat(60)}"}\n`);
  return parts.join('');
}

// The accepted records of `series` ([ms, count] samples) at time t, linearly
// interpolated between samples.
function countAt(series, t) {
  if (t <= series[0][0]) return series[0][1];
  for (let i = 1; i < series.length; i++) {
    const [t1, c1] = series[i];
    if (t <= t1) {
      const [t0, c0] = series[i - 1];
      return c0 + ((c1 - c0) * (t - t0)) / Math.max(1, t1 - t0);
    }
  }
  return series[series.length - 1][1];
}

test('four daemons on one 4-shard stream: every line once, each near a fair share, most of the capacity used', async () => {
  // Kinesis answers tens of milliseconds late; a feedback loop tuned on
  // instant answers is not the one users run.
  const fake = await startFake(['--stream', 'shared', '--shards', String(shards), '--records-per-second',
    String(perShard), '--delay-ms', String(delayMs)]);
  cleanups.push(() => fake.stop());

  const dirs = [];
  for (let d = 0; d < daemons; d++) {
    const dir = makeTempDir();
    const config = writeConfig(dir, fake.url);
    fs.writeFileSync(path.join(dir, 'in', 'app.log'), lines(d, linesPerDaemon));
    dirs.push({ dir, config });
  }

  const started = Date.now();
  const running = [];
  const series = [];  // per daemon: [ms since start, records accepted]
  let sampling = true;
  for (let d = 0; d < daemons; d++) {
    if (d > 0) await sleep(staggerMs);
    const daemon = startDaemon(['--config', dirs[d].config]);
    cleanups.push(() => daemon.kill());
    running.push({ daemon, admin: await adminUrl(daemon) });
    series.push([]);
  }
  const sampleAll = () => Promise.all(running.map(async ({ admin }, d) => {
    const samples = await scrape(admin);
    series[d].push([Date.now() - started, metricSum(samples, 'kinship_sink_records_sent_total')]);
  }));
  const sampler = (async () => {
    while (sampling) {
      await sampleAll();
      await sleep(250);
    }
  })();

  const total = daemons * linesPerDaemon;
  await waitFor(async () => (await fake.stats()).recordsAccepted >= total, {
    timeoutMs: 400000, intervalMs: 500, what: `all ${total} records accepted`,
  });
  // Each daemon counts its last answer a moment after the endpoint has it.
  await waitFor(async () => {
    const counts = await Promise.all(running.map(async ({ admin }) =>
      metricSum(await scrape(admin), 'kinship_sink_records_sent_total')));
    return counts.every((c) => c >= linesPerDaemon);
  }, { what: 'every daemon to count its records sent' });
  sampling = false;
  await sampler;
  await sampleAll();
  const stats = await fake.stats();
  for (const { daemon } of running) {
    const stopped = await daemon.stop('SIGTERM', 15000);
    assert.equal(stopped.code, 0, `kinship exit code after SIGTERM\n${daemon.stderr().slice(-3000)}`);
  }

  // The common window: all four sending, each with a backlog. It ends when
  // the first daemon is down to its last 5% of lines (about two seconds of
  // its share): from there its backlog thins out over the four shards and
  // it can no longer use a share of each, which says nothing of fairness.
  const firstAccepted = series.map((s) => s.find(([, c]) => c > 0)[0]);
  const lastNeeded = series.map((s) => s.find(([, c]) => c >= 0.95 * linesPerDaemon)[0]);
  const from = Math.max(...firstAccepted);
  const to = Math.min(...lastNeeded);
  const seconds = (to - from) / 1000;
  const rates = series.map((s) => (countAt(s, to) - countAt(s, from)) / seconds);
  const sum = rates.reduce((a, b) => a + b, 0);
  const fair = sum / daemons;
  const worst = Math.max(...rates.map((r) => Math.abs(r - fair) / fair));
  const attempts = stats.recordsAccepted + stats.recordsThrottled;
  const throttledShare = stats.recordsThrottled / attempts;
  console.log(`common window ${(from / 1000).toFixed(1)}–${(to / 1000).toFixed(1)} s: records/s ` +
    `${rates.map((r) => r.toFixed(0)).join(', ')} (fair ${fair.toFixed(0)}, worst ${(100 * worst).toFixed(1)}% off, target 10%); ` +
    `together ${sum.toFixed(0)} = ${((100 * sum) / capacity).toFixed(1)}% of ${capacity} (target 95%); throttled ` +
    `${stats.recordsThrottled} of ${attempts} = ${(100 * throttledShare).toFixed(2)}% (target 3%); duplicates ${stats.duplicates}`);

  // How the shares moved: each daemon's records/s in quarters of the window.
  for (let q = 0; q < 4; q++) {
    const a = from + ((to - from) * q) / 4;
    const b = from + ((to - from) * (q + 1)) / 4;
    console.log(`  quarter ${q + 1} (${(a / 1000).toFixed(1)}–${(b / 1000).toFixed(1)} s): ` +
      series.map((s) => ((countAt(s, b) - countAt(s, a)) / ((b - a) / 1000)).toFixed(0)).join(', '));
  }

  assert.ok(seconds >= 10, `the common window lasted ${seconds} s, too short to judge`);
  assert.equal(stats.recordsAccepted, total, 'every line accepted exactly once');
  assert.equal(stats.duplicates, 0, 'no record accepted twice');
  assert.ok(sum >= 0.95 * capacity, `together ${sum.toFixed(0)} records/s < 95% of ${capacity}`);
  assert.ok(throttledShare <= 0.03, `throttled ${(100 * throttledShare).toFixed(2)}% > 3%`);
  assert.ok(worst <= 0.1, `a daemon is ${(100 * worst).toFixed(1)}% off its fair share`);
});
