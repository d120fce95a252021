// Fake AWS services on 127.0.0.1 for the credentials integration test: one
// HTTP server that answers as
//   IMDSv2       PUT /latest/api/token, GET /latest/meta-data/...
//   containers   GET /creds (ECS / EKS Pod Identity; checks Authorization)
//   STS          POST / with Action=AssumeRole | AssumeRoleWithWebIdentity
//   Kinesis      POST / with X-Amz-Target: Kinesis_20131202.PutRecords (JSON);
//                DescribeStreamSummary answered without a record size,
//                other operations refused as unknown
// Every secret it hands out is distinct and listed in `secrets`, so a test
// can assert that none of them leaks. What it saw is kept per service.
//
//   const aws = await startFakeAws({ kinesisAnswer });   aws.url, aws.secrets, aws.seen, aws.close()
//   kinesisAnswer: 'accept' (default), 'access_denied' or 'expired_token'

import http from 'node:http';
import crypto from 'node:crypto';

function issued(prefix) {
  const id = crypto.randomBytes(6).toString('hex');
  return {
    AccessKeyId: `AKID${prefix.toUpperCase()}${id}`,
    SecretAccessKey: `SECRET-${prefix}-${id}`,
    Token: `TOKEN-${prefix}-${id}`,
    Expiration: new Date(Date.now() + 3600 * 1000).toISOString().replace(/\.\d+Z$/, 'Z'),
  };
}

function stsXml(action, c) {
  return `<${action}Response xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><${action}Result>` +
    `<Credentials><AccessKeyId>${c.AccessKeyId}</AccessKeyId><SecretAccessKey>${c.SecretAccessKey}</SecretAccessKey>` +
    `<SessionToken>${c.Token}</SessionToken><Expiration>${c.Expiration}</Expiration></Credentials>` +
    `</${action}Result></${action}Response>`;
}

export async function startFakeAws({ kinesisAnswer = 'accept', stsAnswer = 'accept', containerToken = '' } = {}) {
  const creds = {
    imds: issued('imds'),
    container: issued('container'),
    sts: issued('sts'),
  };
  const imdsToken = `IMDSTOKEN-${crypto.randomBytes(6).toString('hex')}`;
  const seen = { imds: 0, container: 0, sts: [], kinesisKeys: [], kinesisRecords: 0, kinesisOther: [] };
  const secrets = [imdsToken, ...Object.values(creds).flatMap((c) => [c.SecretAccessKey, c.Token])];
  if (containerToken) secrets.push(containerToken);

  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const send = (status, text, type = 'text/plain') => {
        res.writeHead(status, { 'Content-Type': type });
        res.end(text);
      };
      if (req.url.startsWith('/latest/')) {
        seen.imds++;
        if (req.method === 'PUT' && req.url === '/latest/api/token') return send(200, imdsToken);
        if (req.headers['x-aws-ec2-metadata-token'] !== imdsToken) return send(401, '');
        if (req.url === '/latest/meta-data/iam/security-credentials/') return send(200, 'kinship-node-role');
        if (req.url === '/latest/meta-data/iam/security-credentials/kinship-node-role') {
          return send(200, JSON.stringify({ Code: 'Success', Type: 'AWS-HMAC', ...creds.imds }), 'application/json');
        }
        if (req.url === '/latest/meta-data/placement/region') return send(200, 'us-east-1');
        return send(404, 'not found');
      }
      if (req.url === '/creds') {
        seen.container++;
        if (containerToken && req.headers.authorization !== containerToken) return send(403, 'bad token');
        return send(200, JSON.stringify(creds.container), 'application/json');
      }
      const target = req.headers['x-amz-target'] || '';
      if (req.method === 'POST' && target.endsWith('.PutRecords')) {
        const key = /Credential=([^/]+)\//.exec(req.headers.authorization || '')?.[1] ?? '';
        seen.kinesisKeys.push(key);
        if (kinesisAnswer === 'access_denied') {
          return send(400, JSON.stringify({ __type: 'AccessDeniedException', message: `User ${key} is not authorized` }),
            'application/x-amz-json-1.1');
        }
        if (kinesisAnswer === 'expired_token') {
          return send(400, JSON.stringify({ __type: 'ExpiredTokenException',
            message: 'The security token included in the request is expired' }), 'application/x-amz-json-1.1');
        }
        const records = JSON.parse(body).Records;
        seen.kinesisRecords += records.length;
        return send(200, JSON.stringify({ FailedRecordCount: 0,
          Records: records.map((_, i) => ({ SequenceNumber: String(i + 1), ShardId: 'shardId-000000000000' })) }),
          'application/x-amz-json-1.1');
      }
      if (req.method === 'POST' && target.startsWith('Kinesis_20131202.')) {
        // The sink's other calls (DescribeStreamSummary at start): answered
        // plainly, and not taken for STS.
        seen.kinesisOther.push(target.slice('Kinesis_20131202.'.length));
        if (target.endsWith('.DescribeStreamSummary')) {
          return send(200, JSON.stringify({ StreamDescriptionSummary: { StreamName: 'logs', StreamStatus: 'ACTIVE' } }),
            'application/x-amz-json-1.1');
        }
        return send(400, JSON.stringify({ __type: 'UnknownOperationException' }), 'application/x-amz-json-1.1');
      }
      if (req.method === 'POST' && req.url === '/') {
        const form = new URLSearchParams(body);
        const action = form.get('Action');
        seen.sts.push({ action, roleArn: form.get('RoleArn'), authorization: req.headers.authorization || '',
          webIdentityToken: form.get('WebIdentityToken'), externalId: form.get('ExternalId') });
        if (stsAnswer === 'access_denied') {
          return send(403, '<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>' +
            `<Message>Not authorized to perform sts:${action}</Message></Error></ErrorResponse>`, 'text/xml');
        }
        if (action === 'AssumeRole' || action === 'AssumeRoleWithWebIdentity') {
          return send(200, stsXml(action, creds.sts), 'text/xml');
        }
        return send(400, '<ErrorResponse><Error><Code>InvalidAction</Code></Error></ErrorResponse>', 'text/xml');
      }
      return send(404, 'not found');
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  return {
    url,
    creds,
    secrets,
    seen,
    close: () => new Promise((resolve) => { server.closeAllConnections?.(); server.close(resolve); }),
  };
}
