#!/usr/bin/env node
// AWS's own JavaScript SDK (@aws-sdk/client-s3, pinned in package.json)
// against the sandbox's S3, for stove's integration tests: what the sandbox
// answers must be what AWS's client takes from AWS, down to the statuses,
// error codes, headers and documents it parses.
//
//   node s3-sdk-check.js --endpoint URL --access-key-id ID --secret-access-key KEY
//
// URL is the sandbox's S3 (http://127.0.0.1:PORT/s3), addressed path-style
// (forcePathStyle); ID and KEY its credentials ("sandbox" and the sandbox
// token). The sandbox must hold no bucket named sdk-*. It runs, in order:
// CreateBucket in us-east-1 (the client's default region), in eu-west-1 (a
// client there) and in ap-south-1 (from us-east-1, with a
// LocationConstraint); HeadBucket; GetBucketLocation; Put/GetBucketVersioning;
// Put/Get/DeleteBucketTagging; ListBuckets (plain, by region, paginated);
// PutObject (a string, and a stream, which the SDK sends aws-chunked with a
// trailing CRC32) and DeleteObject; DeleteBucket; and the errors AWS gives:
// HeadBucket of a missing bucket (404 NotFound), CreateBucket of an existing
// one (BucketAlreadyOwnedByYou; 200 in us-east-1, for legacy
// compatibility), DeleteBucket of a missing one (NoSuchBucket), a wrong
// secret (SignatureDoesNotMatch), a request signed for another region than
// the bucket's (301 PermanentRedirect with x-amz-bucket-region, which the
// SDK's followRegionRedirects then follows), a region that is no region
// code (AuthorizationHeaderMalformed naming the <Region>), a
// LocationConstraint another region's endpoint cannot make
// (IllegalLocationConstraintException).
//
// Each check compares exact values. Every mismatch is printed on standard
// error as `s3-sdk-check: FAIL name: expected X, got Y`; the exit status is
// 1 if there was any, 0 otherwise, after `s3-sdk-check: N checks passed`.
// 2: bad arguments; 3: the SDK is not installed.

'use strict';

const { Readable } = require('stream');

function usage(message) {
  process.stderr.write(
    `s3-sdk-check: ${message}\n` +
      'usage: node s3-sdk-check.js --endpoint URL --access-key-id ID --secret-access-key KEY\n',
  );
  process.exit(2);
}

function parseArguments(argv) {
  const names = {
    '--endpoint': 'endpoint',
    '--access-key-id': 'accessKeyId',
    '--secret-access-key': 'secretAccessKey',
  };
  const options = {};
  for (let i = 0; i < argv.length; i += 2) {
    const name = names[argv[i]];
    if (!name) usage(`unknown argument ${argv[i]}`);
    if (i + 1 >= argv.length) usage(`${argv[i]} needs a value`);
    options[name] = argv[i + 1];
  }
  for (const [flag, name] of Object.entries(names)) {
    if (!options[name]) usage(`${flag} is required`);
  }
  return options;
}

let s3;
try {
  s3 = require('@aws-sdk/client-s3');
} catch (e) {
  process.stderr.write(
    `s3-sdk-check: cannot load @aws-sdk/client-s3 (${e.message}); run: npm ci --prefix tests/node\n`,
  );
  process.exit(3);
}

const options = parseArguments(process.argv.slice(2));
let checks = 0;
const failures = [];

// JSON with object keys sorted, so that comparisons ignore their order.
function show(value) {
  return JSON.stringify(value, (key, v) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(Object.keys(v).sort().map((k) => [k, v[k]]));
    }
    return v;
  });
}

function check(name, actual, expected) {
  checks += 1;
  if (show(actual) !== show(expected)) {
    failures.push(name);
    process.stderr.write(`s3-sdk-check: FAIL ${name}: expected ${show(expected)}, got ${show(actual)}\n`);
  }
}

function client(region, extra = {}) {
  return new s3.S3Client({
    region,
    endpoint: options.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey },
    maxAttempts: 1,
    ...extra,
  });
}

// What a call came to: the output less $metadata, and its status; or the
// error's name, status, the x-amz-bucket-region it carried and its members.
async function call(c, command) {
  try {
    const output = await c.send(command);
    const { $metadata, ...rest } = output;
    return { status: $metadata.httpStatusCode, output: rest };
  } catch (e) {
    if (!e.$metadata) throw e;
    return {
      error: e.name,
      status: e.$metadata.httpStatusCode,
      region: e.$response?.headers?.['x-amz-bucket-region'],
      message: e.message,
      fields: { Region: e.Region, BucketName: e.BucketName, Bucket: e.Bucket, Code: e.Code },
    };
  }
}

// The error part of a call's outcome, for exact comparison.
function failure(outcome) {
  return { error: outcome.error, status: outcome.status };
}

async function creates(home, eu) {
  let r = await call(home, new s3.CreateBucketCommand({ Bucket: 'sdk-home' }));
  check('CreateBucket in us-east-1', r, { status: 200, output: { Location: '/sdk-home' } });
  r = await call(eu, new s3.CreateBucketCommand({ Bucket: 'sdk-eu' }));
  check('CreateBucket from a client in eu-west-1', r, {
    status: 200,
    output: { Location: 'http://sdk-eu.s3.amazonaws.com/' },
  });
  r = await call(
    home,
    new s3.CreateBucketCommand({
      Bucket: 'sdk-far',
      CreateBucketConfiguration: { LocationConstraint: 'ap-south-1' },
    }),
  );
  check('CreateBucket in ap-south-1 from us-east-1', r, {
    status: 200,
    output: { Location: 'http://sdk-far.s3.amazonaws.com/' },
  });
}

async function heads(home, eu) {
  let r = await call(home, new s3.HeadBucketCommand({ Bucket: 'sdk-home' }));
  check('HeadBucket', r, { status: 200, output: { BucketRegion: 'us-east-1', AccessPointAlias: false } });
  r = await call(eu, new s3.HeadBucketCommand({ Bucket: 'sdk-eu' }));
  check('HeadBucket in eu-west-1', r, {
    status: 200,
    output: { BucketRegion: 'eu-west-1', AccessPointAlias: false },
  });
  r = await call(home, new s3.GetBucketLocationCommand({ Bucket: 'sdk-home' }));
  check('GetBucketLocation of a us-east-1 bucket', r, { status: 200, output: {} });
  r = await call(eu, new s3.GetBucketLocationCommand({ Bucket: 'sdk-eu' }));
  check('GetBucketLocation', r, { status: 200, output: { LocationConstraint: 'eu-west-1' } });
}

async function versioning(eu) {
  const bucket = { Bucket: 'sdk-eu' };
  let r = await call(eu, new s3.GetBucketVersioningCommand(bucket));
  check('GetBucketVersioning, never set', r, { status: 200, output: {} });
  for (const status of ['Enabled', 'Suspended']) {
    r = await call(
      eu,
      new s3.PutBucketVersioningCommand({ ...bucket, VersioningConfiguration: { Status: status } }),
    );
    check(`PutBucketVersioning ${status}`, r, { status: 200, output: {} });
    r = await call(eu, new s3.GetBucketVersioningCommand(bucket));
    check(`GetBucketVersioning ${status}`, r, { status: 200, output: { Status: status } });
  }
}

async function tagging(eu) {
  const bucket = { Bucket: 'sdk-eu' };
  const none = { error: 'NoSuchTagSet', status: 404 };
  check('GetBucketTagging, none', failure(await call(eu, new s3.GetBucketTaggingCommand(bucket))), none);
  const TagSet = [
    { Key: 'env', Value: 'prod' },
    { Key: 'team', Value: 'a&b <ops>' },
  ];
  let r = await call(eu, new s3.PutBucketTaggingCommand({ ...bucket, Tagging: { TagSet } }));
  check('PutBucketTagging', r, { status: 204, output: {} });
  r = await call(eu, new s3.GetBucketTaggingCommand(bucket));
  check('GetBucketTagging', r, { status: 200, output: { TagSet } });
  r = await call(eu, new s3.DeleteBucketTaggingCommand(bucket));
  check('DeleteBucketTagging', r, { status: 204, output: {} });
  check('GetBucketTagging, deleted', failure(await call(eu, new s3.GetBucketTaggingCommand(bucket))), none);
}

function names(output) {
  return (output.Buckets || []).map((b) => (b.BucketRegion ? `${b.Name}@${b.BucketRegion}` : b.Name));
}

async function listings(home, eu) {
  let r = await call(home, new s3.ListBucketsCommand({}));
  check('ListBuckets', { status: r.status, names: names(r.output), owner: r.output.Owner }, {
    status: 200,
    names: ['sdk-eu', 'sdk-far', 'sdk-home'],
    owner: { DisplayName: 'sandbox', ID: 'sandbox' },
  });
  check('ListBuckets shows creation dates', r.output.Buckets.every((b) => b.CreationDate instanceof Date), true);
  r = await call(eu, new s3.ListBucketsCommand({ BucketRegion: 'eu-west-1' }));
  check('ListBuckets of a region', names(r.output), ['sdk-eu@eu-west-1']);
  const pages = [];
  let token;
  do {
    r = await call(home, new s3.ListBucketsCommand({ MaxBuckets: 2, ContinuationToken: token }));
    pages.push(names(r.output));
    token = r.output.ContinuationToken;
  } while (token && pages.length < 5);
  check('ListBuckets in pages', pages, [
    ['sdk-eu@eu-west-1', 'sdk-far@ap-south-1'],
    ['sdk-home@us-east-1'],
  ]);
  r = await call(home, new s3.ListBucketsCommand({ Prefix: 'sdk-h' }));
  check('ListBuckets by prefix', { names: names(r.output), prefix: r.output.Prefix }, {
    names: ['sdk-home@us-east-1'],
    prefix: 'sdk-h',
  });
}

async function objects(eu) {
  let r = await call(eu, new s3.PutObjectCommand({ Bucket: 'sdk-eu', Key: 'a.txt', Body: 'hello' }));
  check('PutObject of a string', r.status, 200);
  check('PutObject ETag', r.output.ETag, '"5d41402abc4b2a76b9719d911017c592"');
  r = await call(
    eu,
    new s3.PutObjectCommand({
      Bucket: 'sdk-eu',
      Key: 'dir/b c.txt',
      Body: Readable.from([Buffer.from('hello '), Buffer.from('world')]),
      ContentLength: 11,
    }),
  );
  check('PutObject of a stream (aws-chunked, trailing CRC32)', r.status, 200);
  check('PutObject of a stream: the ETag of the decoded data', r.output.ETag,
    '"5eb63bbbe01eeed093cb22bb8f5acdc3"');
  r = await call(eu, new s3.DeleteBucketCommand({ Bucket: 'sdk-eu' }));
  check('DeleteBucket of a bucket holding objects', failure(r), { error: 'BucketNotEmpty', status: 409 });
  check('BucketNotEmpty names the bucket', r.fields.BucketName, 'sdk-eu');
  for (const Key of ['a.txt', 'dir/b c.txt']) {
    r = await call(eu, new s3.DeleteObjectCommand({ Bucket: 'sdk-eu', Key }));
    check(`DeleteObject ${Key}`, r, { status: 204, output: {} });
  }
}

async function errors(home, eu) {
  let r = await call(home, new s3.HeadBucketCommand({ Bucket: 'sdk-missing' }));
  check('HeadBucket of a missing bucket', failure(r), { error: 'NotFound', status: 404 });
  r = await call(home, new s3.DeleteBucketCommand({ Bucket: 'sdk-missing' }));
  check('DeleteBucket of a missing bucket', failure(r), { error: 'NoSuchBucket', status: 404 });
  check('NoSuchBucket names the bucket', r.fields.BucketName, 'sdk-missing');
  r = await call(eu, new s3.CreateBucketCommand({ Bucket: 'sdk-eu' }));
  check('CreateBucket of an existing bucket', failure(r), { error: 'BucketAlreadyOwnedByYou', status: 409 });
  r = await call(home, new s3.CreateBucketCommand({ Bucket: 'sdk-home' }));
  check('CreateBucket of an existing us-east-1 bucket (legacy 200)', r.status, 200);
  r = await call(
    eu,
    new s3.CreateBucketCommand({ Bucket: 'sdk-other', CreateBucketConfiguration: { LocationConstraint: 'ap-south-1' } }),
  );
  check('CreateBucket another region cannot make', { ...failure(r), message: r.message }, {
    error: 'IllegalLocationConstraintException',
    status: 400,
    message:
      'The ap-south-1 location constraint is incompatible for the region specific endpoint this request was sent to.',
  });

  const wrong = new s3.S3Client({
    region: 'us-east-1',
    endpoint: options.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: options.accessKeyId, secretAccessKey: `${options.secretAccessKey}-wrong` },
    maxAttempts: 1,
  });
  r = await call(wrong, new s3.GetBucketVersioningCommand({ Bucket: 'sdk-home' }));
  check('a wrong secret', failure(r), { error: 'SignatureDoesNotMatch', status: 403 });

  // A bucket in us-east-1, asked from a client in eu-west-1.
  r = await call(eu, new s3.GetBucketVersioningCommand({ Bucket: 'sdk-home' }));
  check('a request signed for another region', { ...failure(r), region: r.region, bucket: r.fields.Bucket }, {
    error: 'PermanentRedirect',
    status: 301,
    region: 'us-east-1',
    bucket: 'sdk-home',
  });
  r = await call(eu, new s3.HeadBucketCommand({ Bucket: 'sdk-home' }));
  check('a HEAD signed for another region', { status: r.status, region: r.region }, {
    status: 301,
    region: 'us-east-1',
  });
  // A credential scope whose region is no region code (S3's old name EU).
  r = await call(client('EU'), new s3.GetBucketVersioningCommand({ Bucket: 'sdk-home' }));
  check('a region that is no region code', { ...failure(r), region: r.fields.Region, message: r.message }, {
    error: 'AuthorizationHeaderMalformed',
    status: 400,
    region: 'us-east-1',
    message: "The authorization header is malformed; the region 'EU' is wrong; expecting 'us-east-1'",
  });
  const follows = client('eu-west-1', { followRegionRedirects: true });
  r = await call(follows, new s3.GetBucketVersioningCommand({ Bucket: 'sdk-home' }));
  check('the SDK follows the redirect (followRegionRedirects)', r, { status: 200, output: {} });
  r = await call(follows, new s3.HeadBucketCommand({ Bucket: 'sdk-home' }));
  check('the SDK follows a HEAD redirect', r, {
    status: 200,
    output: { BucketRegion: 'us-east-1', AccessPointAlias: false },
  });
}

async function deletes(home, eu) {
  const far = client('ap-south-1');
  for (const [c, Bucket] of [
    [eu, 'sdk-eu'],
    [far, 'sdk-far'],
    [home, 'sdk-home'],
  ]) {
    const r = await call(c, new s3.DeleteBucketCommand({ Bucket }));
    check(`DeleteBucket ${Bucket}`, r, { status: 204, output: {} });
  }
  const r = await call(home, new s3.ListBucketsCommand({ Prefix: 'sdk-' }));
  check('ListBuckets after the deletes', names(r.output), []);
}

async function main() {
  const home = client('us-east-1');
  const eu = client('eu-west-1');
  await creates(home, eu);
  await heads(home, eu);
  await versioning(eu);
  await tagging(eu);
  await listings(home, eu);
  await objects(eu);
  await errors(home, eu);
  await deletes(home, eu);
  if (failures.length > 0) {
    process.stderr.write(`s3-sdk-check: ${failures.length} of ${checks} checks failed\n`);
    process.exit(1);
  }
  process.stdout.write(`s3-sdk-check: ${checks} checks passed\n`);
}

main().catch((e) => {
  process.stderr.write(`s3-sdk-check: FAIL: ${e.stack || e}\n`);
  process.exit(1);
});
