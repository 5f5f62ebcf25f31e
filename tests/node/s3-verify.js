#!/usr/bin/env node
// s3rver 3.7.1 behind a front that verifies AWS Signature Version 4 on every
// request with AWS's own signer (@smithy/signature-v4), for stove's
// integration tests. s3rver itself checks only that the access key id
// exists, never a V4 signature; this front makes it a peer that refuses a
// request stove signed wrongly.
//
//   node s3-verify.js --directory DIR --access-key-id ID --secret-access-key KEY
//
// Starts s3rver on 127.0.0.1 (an ephemeral port, its buckets in DIR, silent)
// and, on another ephemeral port, the front. For every request the front
// receives it recomputes the signature from the method, the path, the query,
// the headers the Authorization header's SignedHeaders names, x-amz-date and
// x-amz-content-sha256 (which must be the SHA-256 of the body, or
// UNSIGNED-PAYLOAD), for the region and date of the credential scope, and
// compares it with the one sent:
//   - match: the request goes to s3rver unchanged and its reply comes back;
//   - a missing, malformed or mismatched Authorization header: 403
//     SignatureDoesNotMatch (an S3 XML error document; no body for HEAD);
//   - another access key id: 403 InvalidAccessKeyId;
//   - a body whose SHA-256 is not x-amz-content-sha256: 400
//     XAmzContentSHA256Mismatch.
// Nothing refused reaches s3rver. GET /__verify/counters (unsigned, not
// counted) answers {"requests": N, "verified": N, "rejected": N} as JSON.
//
// When both listen it prints one line on standard output:
//   s3-verify: listening on http://127.0.0.1:PORT
// and each refusal, with the reason, on standard error. SIGTERM or SIGINT
// stops it (exit 0).

'use strict';

const crypto = require('crypto');
const http = require('http');

function usage(message) {
  process.stderr.write(
    `s3-verify: ${message}\n` +
      'usage: node s3-verify.js --directory DIR --access-key-id ID --secret-access-key KEY\n',
  );
  process.exit(2);
}

function parseArguments(argv) {
  const options = {};
  const names = {
    '--directory': 'directory',
    '--access-key-id': 'accessKeyId',
    '--secret-access-key': 'secretAccessKey',
  };
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

function requireTool(name) {
  try {
    return require(name);
  } catch (e) {
    process.stderr.write(
      `s3-verify: cannot load ${name} (${e.message}); run: npm ci --prefix tests/node\n`,
    );
    process.exit(3);
  }
}

const options = parseArguments(process.argv.slice(2));
const S3rver = requireTool('s3rver');
const { SignatureV4 } = requireTool('@smithy/signature-v4');
const { Hash } = requireTool('@smithy/hash-node');
// s3rver answers InvalidAccessKeyId for any key id it does not know; give it
// ours (it never checks a V4 signature, so the secret is only recorded).
requireTool('s3rver/lib/models/account').DUMMY_ACCOUNT.createKeyPair(
  options.accessKeyId,
  options.secretAccessKey,
);

const counters = { requests: 0, verified: 0, rejected: 0 };
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const Sha256 = Hash.bind(null, 'sha256');

// RFC 3986 percent-encoding, as Signature V4 wants it.
function escapeUri(text) {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    c => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

class Refusal extends Error {
  constructor(status, code, message, reason) {
    super(message);
    this.status = status;
    this.code = code;
    this.reason = reason;
  }
}

function mismatch(reason) {
  return new Refusal(
    403,
    'SignatureDoesNotMatch',
    'The request signature we calculated does not match the signature you provided. ' +
      'Check your key and signing method.',
    reason,
  );
}

function decode(text, what) {
  try {
    return decodeURIComponent(text);
  } catch (e) {
    throw mismatch(`${what} has a bad percent escape: ${text}`);
  }
}

// {name: value | [values]} from a raw query string, decoded ('+' stays '+',
// as S3 reads it).
function parseQuery(raw) {
  const query = {};
  for (const part of raw.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = decode(eq < 0 ? part : part.slice(0, eq), 'the query');
    const value = decode(eq < 0 ? '' : part.slice(eq + 1), 'the query');
    if (!(name in query)) {
      query[name] = value;
    } else if (Array.isArray(query[name])) {
      query[name].push(value);
    } else {
      query[name] = [query[name], value];
    }
  }
  return query;
}

// "20150830T123600Z" -> Date.
function parseAmzDate(text) {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text || '');
  if (!m) return null;
  return new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]));
}

const AUTHORIZATION =
  /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/([^/,\s]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;._-]+),\s*Signature=([0-9a-f]{64})$/;

// Throws a Refusal unless the request carries a valid signature.
async function verify(req, body) {
  const authorization = req.headers.authorization;
  if (authorization === undefined) {
    throw mismatch('no Authorization header');
  }
  const m = AUTHORIZATION.exec(authorization);
  if (!m) {
    throw mismatch(`a malformed Authorization header: ${authorization}`);
  }
  const [, accessKeyId, scopeDate, region, service, signedList, signature] = m;
  if (accessKeyId !== options.accessKeyId) {
    throw new Refusal(
      403,
      'InvalidAccessKeyId',
      'The AWS Access Key Id you provided does not exist in our records.',
      `access key id ${accessKeyId}`,
    );
  }
  if (service !== 's3') {
    throw mismatch(`the credential scope's service is ${service}, not s3`);
  }
  const amzDate = req.headers['x-amz-date'];
  const signingDate = parseAmzDate(amzDate);
  if (!signingDate) {
    throw mismatch(`x-amz-date is missing or malformed: ${amzDate}`);
  }
  if (amzDate.slice(0, 8) !== scopeDate) {
    throw mismatch(`the scope's date ${scopeDate} is not x-amz-date's day (${amzDate})`);
  }
  const signedHeaders = signedList.split(';');
  for (const required of ['host', 'x-amz-date', 'x-amz-content-sha256']) {
    if (!signedHeaders.includes(required)) {
      throw mismatch(`SignedHeaders lacks ${required}`);
    }
  }
  // Every x-amz-* header sent must be signed.
  for (const name of Object.keys(req.headers)) {
    if (name.startsWith('x-amz-') && !signedHeaders.includes(name)) {
      throw mismatch(`the header ${name} is not signed`);
    }
  }

  const claimed = req.headers['x-amz-content-sha256'];
  if (claimed !== 'UNSIGNED-PAYLOAD') {
    const actual = crypto.createHash('sha256').update(body).digest('hex');
    if (claimed !== actual) {
      throw new Refusal(
        400,
        'XAmzContentSHA256Mismatch',
        "The provided 'x-amz-content-sha256' header does not match what was computed.",
        `x-amz-content-sha256 ${claimed}, the body's SHA-256 ${actual}`,
      );
    }
  }

  // The signed headers as sent; a repeated header's values joined by commas.
  const headers = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i].toLowerCase();
    if (!signedHeaders.includes(name)) continue;
    const value = req.rawHeaders[i + 1];
    headers[name] = name in headers ? `${headers[name]},${value}` : value;
  }
  for (const name of signedHeaders) {
    if (!(name in headers)) {
      throw mismatch(`the signed header ${name} is not in the request`);
    }
  }

  // S3 canonicalises the path by encoding each decoded segment once.
  const target = req.url;
  const q = target.indexOf('?');
  const rawPath = q < 0 ? target : target.slice(0, q);
  const path = rawPath
    .split('/')
    .map(segment => escapeUri(decode(segment, 'the path')))
    .join('/');
  const query = parseQuery(q < 0 ? '' : target.slice(q + 1));

  const signer = new SignatureV4({
    credentials: {
      accessKeyId: options.accessKeyId,
      secretAccessKey: options.secretAccessKey,
    },
    region,
    service: 's3',
    sha256: Sha256,
    uriEscapePath: false, // S3: the path above is already the canonical one
    applyChecksum: false,
  });
  const signed = await signer.sign(
    {
      method: req.method,
      protocol: 'http:',
      hostname: '127.0.0.1',
      path,
      query,
      headers,
      body: body.length ? body : undefined,
    },
    { signingDate, signableHeaders: new Set(signedHeaders) },
  );
  const expected = /Signature=([0-9a-f]{64})$/.exec(signed.headers.authorization);
  const ok =
    expected !== null &&
    crypto.timingSafeEqual(Buffer.from(expected[1]), Buffer.from(signature));
  if (!ok) {
    throw mismatch(
      `${req.method} ${target}: the signature sent is ${signature}, AWS's signer computes ` +
        `${expected ? expected[1] : '(none)'} for SignedHeaders=${signedList}`,
    );
  }
}

function xmlEscape(text) {
  return String(text).replace(
    /[<>&"']/g,
    c => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c],
  );
}

function refuse(req, res, refusal) {
  const requestId = crypto.randomBytes(8).toString('hex').toUpperCase();
  const document =
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<Error><Code>${xmlEscape(refusal.code)}</Code>` +
    `<Message>${xmlEscape(refusal.message)}</Message>` +
    `<RequestId>${requestId}</RequestId></Error>`;
  res.writeHead(refusal.status, {
    'Content-Type': 'application/xml',
    'Content-Length': Buffer.byteLength(document),
    'x-amz-request-id': requestId,
  });
  res.end(req.method === 'HEAD' ? undefined : document);
}

function forward(req, res, body, s3rverPort) {
  const upstream = http.request(
    {
      host: '127.0.0.1',
      port: s3rverPort,
      method: req.method,
      path: req.url,
      headers: req.headers,
    },
    reply => {
      res.writeHead(reply.statusCode, reply.statusMessage, reply.headers);
      reply.pipe(res);
    },
  );
  upstream.on('error', e => {
    process.stderr.write(`s3-verify: s3rver: ${e.message}\n`);
    if (!res.headersSent) {
      res.writeHead(502, { 'Content-Type': 'text/plain' });
    }
    res.end();
  });
  upstream.end(body);
}

async function main() {
  // s3rver lists buckets by reading its directory, and answers ListBuckets
  // 500 while the directory does not exist.
  require('fs').mkdirSync(options.directory, { recursive: true });
  const s3rver = new S3rver({
    address: '127.0.0.1',
    port: 0,
    directory: options.directory,
    silent: true,
    vhostBuckets: false,
  });
  const { port: s3rverPort } = await s3rver.run();

  const front = http.createServer((req, res) => {
    if (req.url === '/__verify/counters' && req.method === 'GET') {
      const document = JSON.stringify(counters);
      res.writeHead(200, {
        'Content-Type': 'application/json',
        'Content-Length': Buffer.byteLength(document),
      });
      res.end(document);
      return;
    }
    counters.requests += 1;
    const chunks = [];
    req.on('data', chunk => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      verify(req, body).then(
        () => {
          counters.verified += 1;
          forward(req, res, body, s3rverPort);
        },
        error => {
          counters.rejected += 1;
          const refusal =
            error instanceof Refusal ? error : mismatch(`the verifier failed: ${error.stack}`);
          process.stderr.write(
            `s3-verify: refused ${req.method} ${req.url}: ${refusal.code}: ${refusal.reason}\n`,
          );
          refuse(req, res, refusal);
        },
      );
    });
  });
  await new Promise((resolve, reject) => {
    front.once('error', reject);
    front.listen(0, '127.0.0.1', resolve);
  });
  const stop = () => {
    front.close();
    s3rver.close().then(
      () => process.exit(0),
      () => process.exit(0),
    );
    // Kept-alive connections would hold close() open.
    if (front.closeAllConnections) front.closeAllConnections();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdout.write(`s3-verify: listening on http://127.0.0.1:${front.address().port}\n`);
}

main().catch(e => {
  process.stderr.write(`s3-verify: ${e.stack || e}\n`);
  process.exit(1);
});
