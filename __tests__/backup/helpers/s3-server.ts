import { createHash, createHmac, randomBytes, timingSafeEqual } from 'crypto';
import * as fs from 'fs';
import * as http from 'http';
import * as path from 'path';

// @20minutes/s3rver ships no type declarations: its two entry points, as this helper uses them.
const S3rver: new (options: Record<string, unknown>) => { configureBuckets(): Promise<void>; callback(): http.RequestListener } = require('@20minutes/s3rver');
const AWSAccount: new (id: string, name: string) => { createKeyPair(id: string, secret: string): void; revokeAccessKey(id: string): void } = require('@20minutes/s3rver/lib/models/account');

/** An access key pair of the S3 server. */
export interface S3Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** One request the server answered: what restic asked for, and what it got. */
export interface S3Request {
  readonly method: string;
  readonly url: string;
  /** The Range header of a GET, if any. */
  readonly range?: string;
  readonly status: number;
}

/**
 * A real S3-compatible object store on 127.0.0.1 standing in for the offsite bucket: s3rver (the
 * maintained @20minutes fork) serving a bucket from a directory, behind a strict AWS Signature V4
 * check of every request.
 *
 * Why the check is ours: s3rver builds the canonical URI of a bucket-level request without its
 * trailing slash (`/bucket` for `GET /bucket/?list-type=2`), while the AWS SDKs that restic uses
 * (minio-go) sign the path as sent, so s3rver rejects every ListObjectsV2 and GetBucketLocation of a
 * correctly signed client. This server therefore runs s3rver with `allowMismatchedSignatures` (it
 * still refuses an unknown access key ID) and verifies each signature itself over the request as
 * sent: a wrong secret key fails with `SignatureDoesNotMatch`, as at a real provider.
 */
export class S3Server {
  /**
   * Starts the server with one bucket and a fresh key pair, listening on a port the system picks.
   * `dir` holds the objects (one file per object, under `<dir>/<bucket>/<key>._S3rver_object`).
   */
  public static async start(dir: string, bucket = 'sovereign-offsite'): Promise<S3Server> {
    fs.mkdirSync(dir, { recursive: true });
    const credentials: S3Credentials = {
      accessKeyId: `SOVTEST${randomBytes(6).toString('hex').toUpperCase()}`,
      secretAccessKey: randomBytes(24).toString('base64url'),
    };
    const account = new AWSAccount(String(100_000_000_000 + Math.floor(Math.random() * 1e9)), 'sovereign-test');
    account.createKeyPair(credentials.accessKeyId, credentials.secretAccessKey);
    const store = new S3rver({
      directory: dir, silent: true, configureBuckets: [{ name: bucket }], vhostBuckets: false, allowMismatchedSignatures: true,
    });
    await store.configureBuckets();
    const server = new S3Server(dir, bucket, credentials, store.callback(), () => account.revokeAccessKey(credentials.accessKeyId));
    await new Promise<void>((resolve, reject) => {
      server.http.once('error', reject);
      server.http.listen(0, '127.0.0.1', resolve);
    });
    return server;
  }

  /** Every request answered so far, in order. */
  public readonly requests: S3Request[] = [];
  private readonly http: http.Server;

  private constructor(
    /** Where the objects are stored. */
    public readonly dir: string,
    public readonly bucket: string,
    /** The key pair the server accepts. */
    public readonly credentials: S3Credentials,
    store: http.RequestListener,
    private readonly revoke: () => void,
  ) {
    this.http = http.createServer((req, res) => {
      res.on('finish', () => this.requests.push({ method: req.method ?? '', url: req.url ?? '', range: req.headers.range, status: res.statusCode }));
      const refused = verifySignatureV4(req, (id) => (id === credentials.accessKeyId ? credentials.secretAccessKey : undefined));
      if (refused) {
        req.resume();
        res.writeHead(403, { 'content-type': 'application/xml' });
        res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${refused.code}</Code><Message>${refused.message}</Message></Error>`);
        return;
      }
      store(req, res);
    });
  }

  /** The port the server listens on, on 127.0.0.1. */
  public get port(): number {
    return (this.http.address() as { port: number }).port;
  }

  /** The endpoint URL, as a team writes it in the endpoint variable (`https://s3.fr-par.scw.cloud`). */
  public get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The directory holding the objects under a prefix of the bucket (a restic repository's files). */
  public objects(prefix: string): string {
    return path.join(this.dir, this.bucket, prefix);
  }

  /** Requests answered from index `from` on. */
  public since(from: number): S3Request[] {
    return this.requests.slice(from);
  }

  /** Stops the server and revokes its key pair. */
  public async stop(): Promise<void> {
    this.revoke();
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }
}

/** RFC 3986 encoding, as Signature V4 canonicalizes query names and values. */
const uriEncode = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();

/**
 * Checks a request's `Authorization: AWS4-HMAC-SHA256 …` header against the secret of its access
 * key, over the canonical request as sent (path as sent, query sorted and RFC 3986 encoded, the
 * signed headers, the declared payload hash). Returns why it is refused, or undefined.
 */
export function verifySignatureV4(req: http.IncomingMessage, secretOf: (accessKeyId: string) => string | undefined): { code: string; message: string } | undefined {
  const auth = req.headers.authorization ?? '';
  const m = /^AWS4-HMAC-SHA256 Credential=([^/,]+)\/(\d{8})\/([^/,]+)\/([^/,]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) return { code: 'AccessDenied', message: 'Access Denied: the request is not signed with AWS Signature Version 4' };
  const [, accessKeyId, date, region, service, signedHeaders, signature] = m;
  const secret = secretOf(accessKeyId);
  if (secret === undefined) return { code: 'InvalidAccessKeyId', message: 'The AWS Access Key Id you provided does not exist in our records.' };
  const amzDate = String(req.headers['x-amz-date'] ?? '');
  const payloadHash = req.headers['x-amz-content-sha256'];
  if (!amzDate.startsWith(date) || typeof payloadHash !== 'string') {
    return { code: 'AuthorizationHeaderMalformed', message: 'x-amz-date or x-amz-content-sha256 is missing or does not match the credential' };
  }
  const [rawPath, rawQuery = ''] = (req.url ?? '/').split(/\?(.*)/s);
  const query = rawQuery.split('&').filter(Boolean).map((pair) => {
    const [name, value = ''] = pair.split(/=(.*)/s);
    return [uriEncode(decodeURIComponent(name)), uriEncode(decodeURIComponent(value))];
  }).sort(([a, x], [b, y]) => (a === b ? (x < y ? -1 : x > y ? 1 : 0) : a < b ? -1 : 1)).map(([n, v]) => `${n}=${v}`).join('&');
  const headers = signedHeaders.split(';').map((h) => {
    const value = req.headers[h];
    return `${h}:${(Array.isArray(value) ? value.join(',') : value ?? '').trim().replace(/\s+/g, ' ')}\n`;
  }).join('');
  const canonical = [req.method, rawPath, query, headers, signedHeaders, payloadHash].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, createHash('sha256').update(canonical, 'utf8').digest('hex')].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request');
  const expected = createHmac('sha256', key).update(toSign, 'utf8').digest();
  if (!timingSafeEqual(expected, Buffer.from(signature, 'hex'))) {
    return { code: 'SignatureDoesNotMatch', message: 'The request signature we calculated does not match the signature you provided. Check your key and signing method.' };
  }
  return undefined;
}
