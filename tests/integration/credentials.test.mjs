// Credentials where users run (issue 13): the daemon, at log.level debug,
// ships lines through each source of the chain in turn (environment, web
// identity, a profile assuming a role, container, instance metadata, and the
// sink's role_arn), all served by fake AWS services on 127.0.0.1; then
// against STS refusing IRSA (an error, never the node's role) and against a
// Kinesis endpoint answering AccessDenied and ExpiredTokenException. Each
// time, no secret value (secret keys, session tokens, web-identity and
// authorization tokens) may appear in anything the daemon printed or served:
// stdout, stderr, /metrics, /readyz.
//
// Run by ctest as `node credentials.test.mjs` with KINSHIP_BIN set; by hand:
// KINSHIP_BIN=build/kinship node tests/integration/credentials.test.mjs

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

import { startFakeAws } from '../support/fake_aws.mjs';
import { makeTempDir, startDaemon, tailOf, waitFor } from '../support/daemon.mjs';
import { adminUrl, scrape, metricByLabel } from '../support/metrics.mjs';

const tmp = makeTempDir('kinship-credentials-');
const running = [];
const fakes = [];
after(async () => {
  for (const d of running) await d.kill();
  for (const f of fakes) await f.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const LINES = 5;
const ROLE = 'arn:aws:iam::123456789012:role/kinship-writer';

function secretValue(kind) {
  return `${kind}-${crypto.randomBytes(8).toString('hex')}`;
}

// Writes a config shipping <dir>/in/*.log to the fake's Kinesis endpoint.
function writeConfig(name, endpoint, sinkExtra = []) {
  const dir = path.join(tmp, name);
  fs.mkdirSync(path.join(dir, 'in'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'in', 'app.log'),
    Array.from({ length: LINES }, (_, i) => JSON.stringify({ n: i, msg: `line ${i} of ${name}` })).join('\n') + '\n');
  const config = path.join(dir, 'kinship.yaml');
  fs.writeFileSync(config, [
    `data_dir: ${JSON.stringify(path.join(dir, 'state'))}`,
    'log:',
    '  level: debug',
    'pipelines:',
    '  app:',
    '    inputs:',
    '      - type: file',
    `        paths: [${JSON.stringify(path.join(dir, 'in', '*.log'))}]`,
    '        start_at: beginning',
    '    sink:',
    '      type: kinesis',
    '      stream: creds-test',
    '      region: us-east-1',
    `      endpoint: ${JSON.stringify(endpoint)}`,
    '      protocol: json',
    '      pacing: false',
    '      retry_backoff_max: 200ms',
    ...sinkExtra.map((l) => `      ${l}`),
    'admin:',
    '  listen: "127.0.0.1:0"',
    '',
  ].join('\n'));
  return { dir, config };
}

// No credentials from the test's own environment, no real ~/.aws, and the
// metadata service pointed at the fake (never 169.254.169.254).
function isolatedEnv(aws, dir, extra) {
  return {
    AWS_ACCESS_KEY_ID: '',
    AWS_SECRET_ACCESS_KEY: '',
    AWS_SESSION_TOKEN: '',
    AWS_PROFILE: '',
    AWS_WEB_IDENTITY_TOKEN_FILE: '',
    AWS_ROLE_ARN: '',
    AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: '',
    AWS_CONTAINER_CREDENTIALS_FULL_URI: '',
    AWS_CONTAINER_AUTHORIZATION_TOKEN: '',
    AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: '',
    HOME: dir,
    AWS_CONFIG_FILE: path.join(dir, 'no-config'),
    AWS_SHARED_CREDENTIALS_FILE: path.join(dir, 'no-credentials'),
    AWS_EC2_METADATA_DISABLED: 'false',
    AWS_EC2_METADATA_SERVICE_ENDPOINT: aws.url,
    AWS_ENDPOINT_URL_STS: aws.url,
    ...extra,
  };
}

// Everything the daemon printed or served, for the secret check.
async function everythingShown(daemon, admin) {
  const metrics = await (await fetch(`${admin}/metrics`)).text();
  const readyz = await (await fetch(`${admin}/readyz`)).text();
  return { stdout: daemon.stdout(), stderr: daemon.stderr(), metrics, readyz };
}

function assertNoSecret(shown, secrets, what) {
  for (const [where, text] of Object.entries(shown)) {
    for (const secret of secrets) {
      assert.ok(!text.includes(secret), `${what}: a secret (${secret.slice(0, 12)}…) appears in ${where}`);
    }
  }
}

async function stopCleanly(daemon) {
  const r = await daemon.stop('SIGTERM', 10000);
  assert.deepEqual({ code: r.code, signal: r.signal, timedOut: r.timedOut }, { code: 0, signal: null, timedOut: false },
    tailOf(daemon.stderr()));
}

// Runs one daemon that must deliver every line signed with `expectedKeyId`
// and report `provider`.
async function shipThrough({ name, provider, env = {}, sinkExtra = [], secrets = [], setup, expectedKeyId,
  containerToken = '' }) {
  const aws = await startFakeAws({ containerToken });
  fakes.push(aws);
  const { dir, config } = writeConfig(name, aws.url, sinkExtra);
  const extra = setup ? setup({ aws, dir }) : {};
  const daemon = startDaemon(['--config', config], { env: isolatedEnv(aws, dir, { ...env, ...extra }) });
  running.push(daemon);
  const admin = await adminUrl(daemon);
  await waitFor(() => aws.seen.kinesisRecords >= LINES, {
    what: `${LINES} records through ${provider}`, timeoutMs: 15000,
  }).catch((e) => { throw new Error(`${e.message}\n${tailOf(daemon.stderr())}`); });

  const keyId = expectedKeyId(aws);
  assert.deepEqual([...new Set(aws.seen.kinesisKeys)], [keyId], `${name}: requests signed with ${keyId}`);
  assert.match(daemon.stderr(), new RegExp(`AWS credentials from ${provider}`), `${name}: the provider is logged`);
  const refreshes = metricByLabel(await scrape(admin), 'kinship_credentials_refreshes_total', 'provider',
    { result: 'success' });
  assert.ok(refreshes[provider] >= 1, `${name}: refreshes by provider ${JSON.stringify(refreshes)}`);
  assert.equal((await fetch(`${admin}/readyz`)).status, 200, `${name}: ready`);
  assertNoSecret(await everythingShown(daemon, admin), [...aws.secrets, ...secrets], name);
  await stopCleanly(daemon);
  assertNoSecret({ stderr: daemon.stderr(), stdout: daemon.stdout() }, [...aws.secrets, ...secrets], `${name} (after stop)`);
  return aws;
}

test('environment', async () => {
  const secret = secretValue('SECRET-env');
  const token = secretValue('TOKEN-env');
  await shipThrough({
    name: 'environment', provider: 'environment',
    env: { AWS_ACCESS_KEY_ID: 'AKIDENVIRONMENT1', AWS_SECRET_ACCESS_KEY: secret, AWS_SESSION_TOKEN: token },
    secrets: [secret, token],
    expectedKeyId: () => 'AKIDENVIRONMENT1',
  });
});

test('web identity (IRSA): the token file, STS AssumeRoleWithWebIdentity', async () => {
  const webToken = secretValue('WEBTOKEN');
  const aws = await shipThrough({
    name: 'web_identity', provider: 'web_identity', secrets: [webToken],
    setup: ({ dir }) => {
      const tokenFile = path.join(dir, 'token');
      fs.writeFileSync(tokenFile, webToken);
      return { AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile, AWS_ROLE_ARN: ROLE, AWS_ROLE_SESSION_NAME: 'it' };
    },
    expectedKeyId: (a) => a.creds.sts.AccessKeyId,
  });
  assert.deepEqual(aws.seen.sts.map((c) => [c.action, c.roleArn, c.webIdentityToken]),
    [['AssumeRoleWithWebIdentity', ROLE, webToken]]);
  assert.equal(aws.seen.imds, 0, 'the metadata service was not asked');
});

test('profile: role_arn + source_profile assumed with STS AssumeRole', async () => {
  const baseSecret = secretValue('SECRET-profile');
  const aws = await shipThrough({
    name: 'profile', provider: 'profile', secrets: [baseSecret],
    setup: ({ dir }) => {
      fs.writeFileSync(path.join(dir, 'aws-config'),
        `[profile writer]\nrole_arn = ${ROLE}\nsource_profile = base\nregion = us-east-1\n`);
      fs.writeFileSync(path.join(dir, 'aws-credentials'),
        `[base]\naws_access_key_id = AKIDPROFILEBASE1\naws_secret_access_key = ${baseSecret}\n`);
      return {
        AWS_PROFILE: 'writer',
        AWS_CONFIG_FILE: path.join(dir, 'aws-config'),
        AWS_SHARED_CREDENTIALS_FILE: path.join(dir, 'aws-credentials'),
      };
    },
    expectedKeyId: (a) => a.creds.sts.AccessKeyId,
  });
  assert.equal(aws.seen.sts.length, 1);
  assert.equal(aws.seen.sts[0].action, 'AssumeRole');
  assert.match(aws.seen.sts[0].authorization, /Credential=AKIDPROFILEBASE1\//, 'signed with the source profile');
});

test('container (EKS Pod Identity): full URI and a token file', async () => {
  const authToken = secretValue('AUTHTOKEN');
  await shipThrough({
    name: 'container', provider: 'container', secrets: [authToken],
    containerToken: authToken,
    setup: ({ aws, dir }) => {
      const tokenFile = path.join(dir, 'eks-pod-identity-token');
      fs.writeFileSync(tokenFile, authToken + '\n');
      return { AWS_CONTAINER_CREDENTIALS_FULL_URI: `${aws.url}/creds`, AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: tokenFile };
    },
    expectedKeyId: (a) => a.creds.container.AccessKeyId,
  });
});

test('instance metadata (IMDSv2)', async () => {
  await shipThrough({
    name: 'imds', provider: 'imds',
    expectedKeyId: (a) => a.creds.imds.AccessKeyId,
  });
});

test("the sink's role_arn is assumed with the chain's credentials", async () => {
  const secret = secretValue('SECRET-env');
  const aws = await shipThrough({
    name: 'role_arn', provider: 'assume_role', secrets: [secret],
    env: { AWS_ACCESS_KEY_ID: 'AKIDCHAINENV0001', AWS_SECRET_ACCESS_KEY: secret },
    sinkExtra: [`role_arn: ${JSON.stringify(ROLE)}`, 'external_id: "ext-42"', 'role_session_name: it'],
    expectedKeyId: (a) => a.creds.sts.AccessKeyId,
  });
  assert.equal(aws.seen.sts.length, 1);
  assert.equal(aws.seen.sts[0].action, 'AssumeRole');
  assert.equal(aws.seen.sts[0].externalId, 'ext-42');
  assert.match(aws.seen.sts[0].authorization, /Credential=AKIDCHAINENV0001\//);
});

test('IRSA set up and STS refusing: a clear error, never the node\'s role', async () => {
  const webToken = secretValue('WEBTOKEN');
  const aws = await startFakeAws({ stsAnswer: 'access_denied' });
  fakes.push(aws);
  const { dir, config } = writeConfig('irsa_refused', aws.url);
  const tokenFile = path.join(dir, 'token');
  fs.writeFileSync(tokenFile, webToken);
  const daemon = startDaemon(['--config', config], {
    env: isolatedEnv(aws, dir, { AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile, AWS_ROLE_ARN: ROLE }),
  });
  running.push(daemon);
  const admin = await adminUrl(daemon);
  const reason = await waitFor(async () => {
    const r = await fetch(`${admin}/readyz`);
    const text = await r.text();
    return r.status === 503 && /credentials/.test(text) ? text : null;
  }, { what: '/readyz naming the credentials error', timeoutMs: 15000 });
  assert.match(reason, /web_identity/);
  assert.match(reason, /AccessDenied/);
  assert.match(daemon.stderr(), /AccessDenied/);
  assert.equal(aws.seen.imds, 0, 'fell through to the instance metadata service');
  assert.equal(aws.seen.kinesisKeys.length, 0, 'nothing was sent unsigned or with another identity');
  assertNoSecret(await everythingShown(daemon, admin), [...aws.secrets, webToken], 'irsa_refused');
  await stopCleanly(daemon);
});

for (const answer of ['access_denied', 'expired_token']) {
  test(`Kinesis answering ${answer}: records kept, no secret shown`, async () => {
    const secret = secretValue('SECRET-env');
    const token = secretValue('TOKEN-env');
    const aws = await startFakeAws({ kinesisAnswer: answer });
    fakes.push(aws);
    const { dir, config } = writeConfig(`kinesis_${answer}`, aws.url);
    const daemon = startDaemon(['--config', config], {
      env: isolatedEnv(aws, dir, { AWS_ACCESS_KEY_ID: 'AKIDKINESISERR01', AWS_SECRET_ACCESS_KEY: secret,
        AWS_SESSION_TOKEN: token }),
    });
    running.push(daemon);
    const admin = await adminUrl(daemon);
    await waitFor(() => aws.seen.kinesisKeys.length >= 3, { what: 'three refused requests', timeoutMs: 15000 });
    const type = answer === 'access_denied' ? 'AccessDeniedException' : 'ExpiredTokenException';
    assert.match(daemon.stderr(), new RegExp(type));
    if (answer === 'access_denied') {
      const r = await fetch(`${admin}/readyz`);
      assert.equal(r.status, 503);
      assert.match(await r.text(), /AccessDeniedException/);
    } else {
      // An expired token asks for new credentials (the environment's again
      // here) and retries: a retry, not a pause.
      assert.ok(aws.seen.kinesisKeys.length >= 3);
    }
    assertNoSecret(await everythingShown(daemon, admin), [...aws.secrets, secret, token], `kinesis_${answer}`);
    await stopCleanly(daemon);
  });
}
