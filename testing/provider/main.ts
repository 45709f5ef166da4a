import * as path from 'path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { createServerCertificate } from './certificate';
import { packageFile } from './package-root';
import { setListeningAddress } from './peer-environment';
import { ProviderService } from './provider-service';

/**
 * Entry point of the Hetzner stand-in: a Terraform provider plugin (`hetznercloud/hcloud` 1.68.0,
 * protocol 6 over gRPC) that simulates Hetzner Cloud in a local file.
 *
 * Two ways to run:
 * - launched by Terraform (the default): go-plugin handshake with AutoMTLS, one process per
 *   provider instance, exits when Terraform calls GRPCController.Shutdown, or when Terraform is gone;
 * - `--reattach`: a long-lived plaintext daemon that prints `TF_REATTACH_PROVIDERS=...`; Terraform
 *   processes given that variable use it instead of starting their own plugin. It ends when its
 *   standard input closes (so it never outlives the test worker that started it) or on SIGTERM.
 */

/** go-plugin's handshake cookie for Terraform providers. */
export const MAGIC_COOKIE_KEY = 'TF_PLUGIN_MAGIC_COOKIE';
/** The value of go-plugin's handshake cookie that Terraform sets for provider plugins. */
export const MAGIC_COOKIE_VALUE = 'd602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2';
const PROTOCOL_VERSION = 6;
const ADDRESS = 'registry.terraform.io/hetznercloud/hcloud';

function loadServices(): { provider: grpc.ServiceDefinition; controller: grpc.ServiceDefinition } {
  const protoDir = packageFile('testing', 'proto');
  const definition = protoLoader.loadSync([path.join(protoDir, 'tfplugin6.proto'), path.join(protoDir, 'grpc_controller.proto')], {
    keepCase: true, longs: Number, enums: String, bytes: Buffer, oneofs: true, defaults: false,
  });
  const pkg = grpc.loadPackageDefinition(definition) as any;
  return { provider: pkg.tfplugin6.Provider.service, controller: pkg.plugin.GRPCController.service };
}

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

/** Runs the stand-in: as a plugin Terraform launched, or with `--reattach` as a long-lived daemon. */
export function main(argv: string[] = process.argv.slice(2)): void {
  // Read first: once the plugin has printed its handshake line, Terraform may be killed and the parent changed.
  const launchedBy = process.ppid;
  const daemon = argv.includes('--reattach');
  if (!daemon) {
    if (process.env[MAGIC_COOKIE_KEY] !== MAGIC_COOKIE_VALUE) {
      fail('This binary is a plugin (the Hetzner Cloud stand-in for Terraform). It is not meant to be run directly: '
        + 'Terraform starts it. To keep one running for TF_REATTACH_PROVIDERS, pass --reattach.');
    }
    const offered = (process.env.PLUGIN_PROTOCOL_VERSIONS ?? String(PROTOCOL_VERSION)).split(',').map((v) => v.trim());
    if (!offered.includes(String(PROTOCOL_VERSION))) fail(`Terraform offers plugin protocol versions ${offered.join(', ')}; the stand-in speaks only ${PROTOCOL_VERSION}.`);
  }

  const service = new ProviderService({
    schemaFile: process.env.HCLOUD_STANDIN_SCHEMA ?? packageFile('schema', 'hcloud-provider-schema.json'),
    replacementFile: process.env.HCLOUD_STANDIN_REPLACEMENT ?? packageFile('schema', 'hcloud-replacement.json'),
    defaultCloudFile: path.resolve('hcloud-standin.cloud.json'),
    traceFile: process.env.HCLOUD_STANDIN_TRACE,
  });
  const { provider, controller } = loadServices();
  const server = new grpc.Server();
  server.addService(provider, service.handlers() as unknown as grpc.UntypedServiceImplementation);
  server.addService(controller, {
    Shutdown: (_call: unknown, callback: (err: null, res: object) => void) => {
      callback(null, {});
      // A reattached daemon serves the next Terraform process; a launched plugin is done.
      if (!daemon) {
        setTimeout(() => process.exit(0), 500).unref();
        server.tryShutdown(() => process.exit(0));
      }
    },
  });

  const clientCert = process.env.PLUGIN_CLIENT_CERT;
  const certificate = !daemon && clientCert ? createServerCertificate() : undefined;
  const credentials = certificate
    ? grpc.ServerCredentials.createSsl(Buffer.from(clientCert!), [{ private_key: Buffer.from(certificate.keyPem), cert_chain: Buffer.from(certificate.certPem) }], true)
    : grpc.ServerCredentials.createInsecure();

  server.bindAsync('127.0.0.1:0', credentials, (err, port) => {
    if (err) fail(`The Hetzner stand-in could not listen on 127.0.0.1: ${err.message}`);
    const addr = `127.0.0.1:${port}`;
    setListeningAddress('127.0.0.1', port);
    if (daemon) {
      const reattach = { [ADDRESS]: { Protocol: 'grpc', ProtocolVersion: PROTOCOL_VERSION, Pid: process.pid, Test: true, Addr: { Network: 'tcp', String: addr } } };
      process.stdout.write(`TF_REATTACH_PROVIDERS=${JSON.stringify(reattach)}\n`);
      const stop = () => server.tryShutdown(() => process.exit(0));
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
      process.stdin.on('end', stop);
      process.stdin.on('close', stop);
      process.stdin.resume();
    } else {
      // go-plugin reads this line first; nothing may reach stdout before it. The certificate is
      // base64 DER without padding (Go decodes it with RawStdEncoding).
      const cert = certificate ? `|${certificate.der.toString('base64').replace(/=+$/, '')}` : '';
      process.stdout.write(`1|${PROTOCOL_VERSION}|tcp|${addr}|grpc${cert}\n`);
      // Like go-plugin: Ctrl-C is Terraform's to handle; it calls StopProvider instead.
      process.on('SIGINT', () => undefined);
      exitWhenOrphaned(launchedBy);
    }
  });
}

/**
 * A launched plugin exits on Terraform's Shutdown alone: one whose Terraform was killed (a test's timeout, a worker
 * ended) served nobody and ran for ever. Its parent gone, the process is handed to another (init, or a subreaper),
 * and it exits.
 */
function exitWhenOrphaned(launchedBy: number): void {
  setInterval(() => { if (process.ppid !== launchedBy) process.exit(0); }, 500).unref();
}

if (require.main === module) main();
