import { ChildProcess, spawn } from 'child_process';
import * as crypto from 'crypto';
import * as path from 'path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { decode, encode, ExtData } from '@msgpack/msgpack';
import { Duration } from '../../../lib';
import { alive } from '../../../testing/harness/processes';
import { providerEntry } from '../../../testing/harness/provider-install';
import { ReattachDaemon } from '../../../testing/harness/reattach-daemon';
import { waitFor } from '../../../testing/harness/wait';
import { createServerCertificate } from '../../../testing/provider/certificate';
import { MAGIC_COOKIE_VALUE } from '../../../testing/provider/main';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const definition = protoLoader.loadSync(
  [path.join(ROOT, 'testing/proto/tfplugin6.proto'), path.join(ROOT, 'testing/proto/grpc_controller.proto')],
  { keepCase: true, longs: Number, enums: String, bytes: Buffer, oneofs: true, defaults: false },
);
const pkg = grpc.loadPackageDefinition(definition) as any;

function call(client: any, method: string, request: object): Promise<any> {
  return new Promise((resolve, reject) => client[method](request, (err: Error | null, res: any) => (err ? reject(err) : resolve(res))));
}

function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('\n')) resolve(out.split('\n')[0]);
    });
    child.on('exit', (code) => reject(new Error(`plugin exited (${code}) before its handshake line`)));
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.on('exit', (code) => resolve(code))));
}

describe('the stand-in as Terraform launches it (go-plugin handshake, AutoMTLS)', () => {
  test('refuses to run without the magic cookie, with a message saying so', async () => {
    const child = spawn(process.execPath, [providerEntry()], { env: { ...process.env, TF_PLUGIN_MAGIC_COOKIE: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d) => { err += d; });
    expect(await exited(child)).toBe(1);
    expect(err).toMatch(/This binary is a plugin/);
  });

  test('prints the handshake line, serves the schema over mTLS and exits on GRPCController.Shutdown', async () => {
    const client = createServerCertificate(); // stands in for Terraform's client certificate
    const child = spawn(process.execPath, [providerEntry()], {
      env: { ...process.env, TF_PLUGIN_MAGIC_COOKIE: MAGIC_COOKIE_VALUE, PLUGIN_PROTOCOL_VERSIONS: '5,6', PLUGIN_CLIENT_CERT: client.certPem },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const line = await firstLine(child);
    const m = /^1\|6\|tcp\|127\.0\.0\.1:(\d+)\|grpc\|([A-Za-z0-9+/]+)$/.exec(line);
    expect(m).not.toBeNull(); // base64 without "=" padding, nothing before the line
    const der = Buffer.from(m![2], 'base64');
    const serverCert = new crypto.X509Certificate(der);
    expect(serverCert.ca).toBe(true);
    expect(serverCert.subjectAltName).toContain('DNS:localhost');
    expect(serverCert.checkHost('localhost')).toBe('localhost');
    expect(serverCert.verify(serverCert.publicKey)).toBe(true);

    const credentials = grpc.credentials.createSsl(Buffer.from(serverCert.toString()), Buffer.from(client.keyPem), Buffer.from(client.certPem));
    const options = { 'grpc.ssl_target_name_override': 'localhost' };
    const provider = new pkg.tfplugin6.Provider(`127.0.0.1:${m![1]}`, credentials, options);
    const schema = await call(provider, 'GetProviderSchema', {});
    expect(schema.diagnostics ?? []).toEqual([]);
    expect(Object.keys(schema.resource_schemas)).toHaveLength(29);
    expect(Object.keys(schema.data_source_schemas)).toHaveLength(42);
    const server = schema.resource_schemas.hcloud_server.block;
    expect(server.attributes.find((a: any) => a.name === 'server_type')).toMatchObject({ required: true, type: Buffer.from('"string"') });
    expect(server.block_types.find((b: any) => b.type_name === 'network')).toMatchObject({ nesting: 'SET' });
    expect(schema.server_capabilities).toMatchObject({ plan_destroy: true });

    // A client without a certificate the plugin trusts is turned away.
    const stranger = createServerCertificate();
    const rogue = new pkg.tfplugin6.Provider(`127.0.0.1:${m![1]}`, grpc.credentials.createSsl(Buffer.from(serverCert.toString()), Buffer.from(stranger.keyPem), Buffer.from(stranger.certPem)), options);
    await expect(call(rogue, 'GetMetadata', {})).rejects.toThrow();
    rogue.close();

    const controller = new pkg.plugin.GRPCController(`127.0.0.1:${m![1]}`, credentials, options);
    await call(controller, 'Shutdown', {});
    // It exits by itself, cleanly: nothing here kills it. How soon is the code's, not this machine's clock's:
    // it stops serving at once and exits at the latest 500 ms on (go-plugin kills a plugin after 2 s).
    expect(await exited(child)).toBe(0);
    expect(child.signalCode).toBeNull();
    provider.close();
    controller.close();
  }, 30_000);

  test('exits when the Terraform that launched it is killed before its Shutdown, instead of serving nobody for ever', async () => {
    // Terraform here: a shell that launches the plugin, says its pid, and is killed once the plugin has shaken hands.
    const terraform = spawn('sh', ['-c', '"$0" "$1" & echo "$!"; wait', process.execPath, providerEntry()], {
      env: { ...process.env, TF_PLUGIN_MAGIC_COOKIE: MAGIC_COOKIE_VALUE, PLUGIN_PROTOCOL_VERSIONS: '6' }, stdio: ['ignore', 'pipe', 'ignore'],
    });
    const lines = await new Promise<string[]>((resolve) => {
      let out = '';
      terraform.stdout!.on('data', (d) => {
        out += d;
        if (out.split('\n').length > 2) resolve(out.split('\n'));
      });
    });
    const plugin = Number(lines.find((l) => /^\d+$/.test(l)));
    expect(lines.some((l) => l.startsWith('1|6|tcp|'))).toBe(true);
    try {
      terraform.kill('SIGKILL');
      // It checks twice a second; the bound is for a loaded machine.
      await waitFor(() => !alive(plugin), { timeout: Duration.seconds(5), what: `the plugin ${plugin} to exit after Terraform's SIGKILL` });
    } finally {
      if (alive(plugin)) process.kill(plugin, 'SIGKILL');
    }
  }, 30_000);
});

describe('the stand-in given bad input', () => {
  let daemon: ReattachDaemon;
  let provider: any;

  beforeAll(() => {
    daemon = ReattachDaemon.start();
    const addr = JSON.parse(daemon.reattachProviders)['registry.terraform.io/hetznercloud/hcloud'].Addr.String;
    provider = new pkg.tfplugin6.Provider(addr, grpc.credentials.createInsecure());
  });
  afterAll(() => {
    provider.close();
    daemon.stop();
  });

  const serverConfig = (overrides: Record<string, unknown> = {}) => {
    const nulls = Object.fromEntries(['allow_deprecated_images', 'backup_window', 'backups', 'datacenter', 'delete_protection', 'firewall_ids', 'id',
      'ignore_remote_firewall_ids', 'image', 'ipv4_address', 'ipv6_address', 'ipv6_network', 'iso', 'keep_disk', 'labels', 'location', 'name',
      'placement_group_id', 'primary_disk_size', 'rebuild_protection', 'rescue', 'server_type', 'shutdown_before_deletion', 'ssh_keys', 'status',
      'user_data', 'network', 'public_net', 'timeouts'].map((k) => [k, null]));
    return { ...nulls, name: 'web', server_type: 'cx23', image: 'debian-12', network: [], public_net: [], ...overrides };
  };
  const dv = (v: unknown) => ({ msgpack: Buffer.from(encode(v)) });

  test('undecodable msgpack gets a diagnostic naming the resource, not a crash', async () => {
    const res = await call(provider, 'PlanResourceChange', {
      type_name: 'hcloud_server', prior_state: dv(null), proposed_new_state: { msgpack: Buffer.from([0xc1, 0xff, 0x00]) }, config: dv(serverConfig()),
    });
    expect(res.diagnostics).toHaveLength(1);
    expect(res.diagnostics[0]).toMatchObject({ severity: 'ERROR' });
    expect(`${res.diagnostics[0].summary} ${res.diagnostics[0].detail}`).toMatch(/hcloud_server \(proposed_new_state\).*cannot be decoded/);
    expect(`${res.diagnostics[0].summary} ${res.diagnostics[0].detail}`).not.toMatch(/at .*\.js:\d+/); // no stack trace
  });

  test('a value of the wrong type gets a diagnostic naming the resource and the attribute', async () => {
    const res = await call(provider, 'ValidateResourceConfig', { type_name: 'hcloud_server', config: dv(serverConfig({ server_type: 23 })) });
    expect(res.diagnostics[0].summary).toBe('Malformed value for hcloud_server.server_type in ValidateResourceConfig');
    expect(res.diagnostics[0].detail).toMatch(/a string is required, got a number \(23\)/);
    expect(res.diagnostics[0].attribute.steps).toEqual([{ attribute_name: 'server_type', selector: 'attribute_name' }]);

    const nested = await call(provider, 'ValidateResourceConfig', { type_name: 'hcloud_server', config: dv(serverConfig({ network: [{ alias_ips: 'x', ip: null, mac_address: null, network_id: null, subnet_id: null }] })) });
    expect(nested.diagnostics[0].summary).toBe('Malformed value for hcloud_server.network[0].alias_ips in ValidateResourceConfig');

    const unknownType = await call(provider, 'PlanResourceChange', { type_name: 'hcloud_servr', prior_state: dv(null), proposed_new_state: dv({}), config: dv({}) });
    expect(unknownType.diagnostics[0].summary).toBe('Unknown resource type hcloud_servr');
  });

  test('keeps serving after bad input', async () => {
    await call(provider, 'PlanResourceChange', { type_name: 'hcloud_server', proposed_new_state: { msgpack: Buffer.from([0xc1]) } });
    const schema = await call(provider, 'GetProviderSchema', {});
    expect(Object.keys(schema.resource_schemas)).toContain('hcloud_server');
    expect(daemon.alive).toBe(true);
  });

  test('passes unknown (ext 0) and refined unknown (ext 12) values through untouched, and plans computed values as unknown', async () => {
    // What Terraform 1.11 sends for name = "web-${some.id}": not null, prefix "web-".
    const refined = new ExtData(12, new Uint8Array([0x82, 0x01, 0xc2, 0x02, 0xa4, 0x77, 0x65, 0x62, 0x2d]));
    const config = serverConfig({ name: refined, user_data: new ExtData(0, new Uint8Array([0])) });
    const res = await call(provider, 'PlanResourceChange', { type_name: 'hcloud_server', prior_state: dv(null), proposed_new_state: dv(config), config: dv(config) });
    expect(res.diagnostics ?? []).toEqual([]);
    const planned = decode(res.planned_state.msgpack) as Record<string, any>;
    expect(planned.name).toBeInstanceOf(ExtData);
    expect(planned.name.type).toBe(12);
    expect(Buffer.from(planned.name.data as Uint8Array)).toEqual(Buffer.from(refined.data as Uint8Array));
    expect(planned.user_data.type).toBe(0);
    for (const computed of ['id', 'ipv4_address', 'ipv6_address', 'status', 'location', 'primary_disk_size']) expect(planned[computed]).toBeInstanceOf(ExtData);
    expect(planned.server_type).toBe('cx23');
    // Optional, not computed, left out: planned as the provider's SDKv2 Default (internal/server/resource.go:115).
    expect(planned.keep_disk).toBe(false);
  });

  test('marks replacement for the arguments that force it, and only those', async () => {
    const prior = serverConfig({ id: '1', ipv4_address: '203.0.113.1', status: 'running', location: 'fsn1', user_data: 'a', labels: { a: 'b' } });
    const plan = async (changes: Record<string, unknown>) => {
      const proposed = { ...prior, ...changes };
      const res = await call(provider, 'PlanResourceChange', { type_name: 'hcloud_server', prior_state: dv(prior), proposed_new_state: dv(proposed), config: dv({ ...proposed, id: null, ipv4_address: null, status: null }) });
      return (res.requires_replace ?? []).map((p: any) => p.steps.map((s: any) => s.attribute_name ?? s.element_key_int).join('.'));
    };
    expect(await plan({ user_data: 'b' })).toEqual(['user_data']);
    expect(await plan({ labels: { a: 'c' }, server_type: 'cx33' })).toEqual([]);
    expect(await plan({ image: 'debian-13', location: 'nbg1', ssh_keys: ['1'] })).toEqual(['image', 'location', 'ssh_keys']);
  });
});
