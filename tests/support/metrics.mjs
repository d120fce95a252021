// Reads a running kinship's admin endpoint from integration tests.
//
//   await adminUrl(daemon)                      -> "http://127.0.0.1:PORT", from its log
//   await scrape(admin)                         -> [{name, labels: {k: v}, value}]
//   metricSum(samples, name, labels)            -> sum of the series whose labels include `labels`
//   metricByLabel(samples, name, label)         -> {labelValue: value} over the series of `name`
//   await metric(admin, name, labels)           -> metricSum of a fresh scrape

import { waitFor } from './daemon.mjs';

/** The admin endpoint's URL, once the daemon has logged it. */
export function adminUrl(daemon, { timeoutMs = 15000 } = {}) {
  return waitFor(
    () => {
      const status = daemon.status();
      if (status) throw new Error(`kinship exited (${JSON.stringify(status)}):\n${daemon.stderr().slice(-3000)}`);
      return /admin endpoint listening on (http:\/\/[0-9.]+:\d+)/.exec(daemon.stderr())?.[1];
    },
    { what: 'the admin endpoint', timeoutMs },
  );
}

function parseLabels(text) {
  const labels = {};
  for (const m of (text ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[m[1]] = m[2];
  return labels;
}

/** Every sample of /metrics (Prometheus text format; comments skipped). */
export async function scrape(admin) {
  const text = await (await fetch(`${admin}/metrics`)).text();
  const samples = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    if (m) samples.push({ name: m[1], labels: parseLabels(m[2]), value: Number(m[3]) });
  }
  return samples;
}

export function metricSum(samples, name, labels = {}) {
  let total = 0;
  for (const s of samples) {
    if (s.name !== name) continue;
    if (Object.entries(labels).every(([k, v]) => s.labels[k] === v)) total += s.value;
  }
  return total;
}

export function metricByLabel(samples, name, label, labels = {}) {
  const out = {};
  for (const s of samples) {
    if (s.name !== name || !(label in s.labels)) continue;
    if (!Object.entries(labels).every(([k, v]) => s.labels[k] === v)) continue;
    out[s.labels[label]] = (out[s.labels[label]] ?? 0) + s.value;
  }
  return out;
}

export async function metric(admin, name, labels = {}) {
  return metricSum(await scrape(admin), name, labels);
}
