// A small Kinesis Data Streams client for tests: JSON 1.1 protocol over
// fetch, signed with AWS Signature Version 4 (dummy credentials by default;
// kinesalite checks the shape of the Authorization header, not the secret).
//
//   const kc = new KinesisClient('http://127.0.0.1:4567');
//   await kc.createStream('s', 4);
//   await kc.call('PutRecords', {StreamName: 's', Records: [...]});
//   const records = await kc.readAll('s');

import crypto from 'node:crypto';

const TARGET_PREFIX = 'Kinesis_20131202';

export class KinesisError extends Error {
  constructor(op, status, type, message) {
    super(`${op}: HTTP ${status} ${type}: ${message}`);
    this.name = 'KinesisError';
    this.op = op;
    this.status = status;
    this.type = type;
    this.awsMessage = message;
  }
}

function sha256Hex(data) {
  return crypto.createHash('sha256').update(data).digest('hex');
}

function hmac(key, data) {
  return crypto.createHmac('sha256', key).update(data).digest();
}

// "20240102T030405Z"
function amzDate(date) {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

/**
 * Signs a request with SigV4 and returns the headers to send.
 * @param {{method: string, url: URL, headers: Record<string,string>, body: string|Buffer,
 *          region: string, service: string, accessKeyId: string, secretAccessKey: string,
 *          sessionToken?: string, date?: Date}} r
 */
export function signV4(r) {
  const date = r.date ?? new Date();
  const stamp = amzDate(date);
  const day = stamp.slice(0, 8);
  const headers = { ...r.headers, host: r.url.host, 'x-amz-date': stamp };
  if (r.sessionToken) headers['x-amz-security-token'] = r.sessionToken;
  const lower = Object.fromEntries(
    Object.entries(headers).map(([k, v]) => [k.toLowerCase(), String(v).trim().replace(/\s+/g, ' ')]));
  const names = Object.keys(lower).sort();
  const canonicalHeaders = names.map((n) => `${n}:${lower[n]}\n`).join('');
  const signedHeaders = names.join(';');
  const canonicalRequest = [
    r.method,
    r.url.pathname || '/',
    r.url.search.replace(/^\?/, ''),
    canonicalHeaders,
    signedHeaders,
    sha256Hex(r.body ?? ''),
  ].join('\n');
  const scope = `${day}/${r.region}/${r.service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', stamp, scope, sha256Hex(canonicalRequest)].join('\n');
  const kDate = hmac(`AWS4${r.secretAccessKey}`, day);
  const kRegion = hmac(kDate, r.region);
  const kService = hmac(kRegion, r.service);
  const kSigning = hmac(kService, 'aws4_request');
  const signature = crypto.createHmac('sha256', kSigning).update(stringToSign).digest('hex');
  const out = { ...headers };
  delete out.host; // fetch sets Host itself (to the same value)
  out.authorization =
    `AWS4-HMAC-SHA256 Credential=${r.accessKeyId}/${scope}, ` +
    `SignedHeaders=${signedHeaders}, Signature=${signature}`;
  return out;
}

/** MD5 of the UTF-8 partition key as a 128-bit unsigned big-endian BigInt. */
export function md5Hash128(key) {
  return BigInt('0x' + crypto.createHash('md5').update(String(key), 'utf8').digest('hex'));
}

/**
 * The shard whose hash key range holds md5(key). `shards` may be ListShards
 * output (HashKeyRange strings) or readAll-style objects with
 * startingHashKey/endingHashKey BigInts.
 */
export function shardForKey(shards, key) {
  const h = md5Hash128(key);
  for (const s of shards) {
    const start = s.startingHashKey ?? BigInt(s.HashKeyRange.StartingHashKey);
    const end = s.endingHashKey ?? BigInt(s.HashKeyRange.EndingHashKey);
    const closed = s.SequenceNumberRange?.EndingSequenceNumber !== undefined;
    if (!closed && h >= start && h <= end) return s;
  }
  return undefined;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export class KinesisClient {
  /**
   * @param {string} endpoint e.g. 'http://127.0.0.1:4567'
   * @param {{region?: string, accessKeyId?: string, secretAccessKey?: string, timeoutMs?: number}} options
   */
  constructor(endpoint, options = {}) {
    this.endpoint = endpoint;
    this.url = new URL(endpoint);
    if (this.url.pathname === '') this.url.pathname = '/';
    this.region = options.region ?? 'us-east-1';
    this.accessKeyId = options.accessKeyId ?? 'AKIDEXAMPLE';
    this.secretAccessKey = options.secretAccessKey ?? 'test-secret';
    this.timeoutMs = options.timeoutMs ?? 30000;
  }

  /** Calls one Kinesis operation; returns the parsed JSON answer; throws KinesisError. */
  async call(op, body = {}) {
    const payload = JSON.stringify(body);
    const headers = signV4({
      method: 'POST',
      url: this.url,
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': `${TARGET_PREFIX}.${op}`,
      },
      body: payload,
      region: this.region,
      service: 'kinesis',
      accessKeyId: this.accessKeyId,
      secretAccessKey: this.secretAccessKey,
    });
    const res = await fetch(this.url, {
      method: 'POST',
      headers,
      body: payload,
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const text = await res.text();
    let json;
    try {
      json = text ? JSON.parse(text) : {};
    } catch {
      json = undefined;
    }
    if (!res.ok) {
      const type = json?.__type ?? res.headers.get('x-amzn-errortype') ?? 'UnknownError';
      const message = json?.message ?? json?.Message ?? text.slice(0, 500);
      throw new KinesisError(op, res.status, type, message);
    }
    if (json === undefined) throw new KinesisError(op, res.status, 'BadResponse', text.slice(0, 500));
    return json;
  }

  /** Creates a stream and waits (up to timeoutMs) until it is ACTIVE. */
  async createStream(name, shardCount, { timeoutMs = 10000 } = {}) {
    await this.call('CreateStream', { StreamName: name, ShardCount: shardCount });
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const d = await this.call('DescribeStreamSummary', { StreamName: name });
      if (d.StreamDescriptionSummary.StreamStatus === 'ACTIVE') return d.StreamDescriptionSummary;
      if (Date.now() > deadline) throw new Error(`stream ${name} not ACTIVE after ${timeoutMs} ms`);
      await sleep(20);
    }
  }

  async deleteStream(name) {
    await this.call('DeleteStream', { StreamName: name });
  }

  /** All shards of a stream (ListShards, following NextToken). */
  async listShards(name) {
    const shards = [];
    let req = { StreamName: name };
    for (;;) {
      const r = await this.call('ListShards', req);
      shards.push(...(r.Shards ?? []));
      if (!r.NextToken) break;
      req = { NextToken: r.NextToken };
    }
    return shards;
  }

  /**
   * Puts records (array of {data: Buffer|string, partitionKey, explicitHashKey?}).
   * Returns the PutRecords answer.
   */
  async putRecords(name, records) {
    return this.call('PutRecords', {
      StreamName: name,
      Records: records.map((r) => ({
        Data: Buffer.from(r.data).toString('base64'),
        PartitionKey: r.partitionKey,
        ...(r.explicitHashKey !== undefined ? { ExplicitHashKey: String(r.explicitHashKey) } : {}),
      })),
    });
  }

  /** A shard iterator (TRIM_HORIZON by default). */
  async shardIterator(name, shardId, type = 'TRIM_HORIZON', extra = {}) {
    const r = await this.call('GetShardIterator', {
      StreamName: name,
      ShardId: shardId,
      ShardIteratorType: type,
      ...extra,
    });
    return r.ShardIterator;
  }

  /**
   * Reads every record of every shard from TRIM_HORIZON to the current end.
   * @returns {Promise<Array<{shardId: string, startingHashKey: bigint, endingHashKey: bigint,
   *   partitionKey: string, data: Buffer, sequenceNumber: string}>>}
   */
  async readAll(name, { limit = 10000 } = {}) {
    const shards = await this.listShards(name);
    const perShard = await Promise.all(shards.map(async (shard) => {
      const out = [];
      const startingHashKey = BigInt(shard.HashKeyRange.StartingHashKey);
      const endingHashKey = BigInt(shard.HashKeyRange.EndingHashKey);
      let iterator = await this.shardIterator(name, shard.ShardId, 'TRIM_HORIZON');
      let emptyReads = 0;
      while (iterator) {
        const r = await this.call('GetRecords', { ShardIterator: iterator, Limit: limit });
        for (const rec of r.Records ?? []) {
          out.push({
            shardId: shard.ShardId,
            startingHashKey,
            endingHashKey,
            partitionKey: rec.PartitionKey,
            data: Buffer.from(rec.Data, 'base64'),
            sequenceNumber: rec.SequenceNumber,
          });
        }
        iterator = r.NextShardIterator;
        if ((r.Records ?? []).length === 0) {
          emptyReads++;
          if ((r.MillisBehindLatest ?? 0) === 0 || emptyReads >= 2) break;
        } else {
          emptyReads = 0;
        }
      }
      return out;
    }));
    return perShard.flat();
  }
}
