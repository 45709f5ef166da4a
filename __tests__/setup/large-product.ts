import { createHash } from 'crypto';
import { App } from 'cdktf';
import {
  AiActRole, AlertReceiver, BoundaryPolicy, DataClass, DataFlowProps, DeadMansSwitch, EgressForm, Environment, ErrorMonitoringEndpoint, Location,
  MonitoringPlan, Phase, Processor, Product, RestoreCheck, S3Provider, StagingMode, UptimeCheck,
} from '../../lib';
import { ProductStacks } from '../../stacks';
import { DEFAULT_STAGING_DAYS, expiryAfterDays } from '../../lib/environments/staging';

// A product near the top of what the operating model allows, for the scale suite (__tests__/stacks/large-product.test.ts)
// and the synth benchmark (scripts/bench-synth-large.js): Phase 3 with staging from production's snapshot and an
// offsite copy, a name of the longest length a product may have, many admins (each environment its own keys) and
// admin networks, many EU processors with two API hosts each and two flows to each, many alert receivers and uptime
// checks. Everything is derived from the counts, so the same counts always give the same product.

/** How large the product is. */
export interface LargeProductSize {
  /** Admin keys of test and of production (each environment its own). */
  readonly keysPerEnvironment: number;
  /** Admin networks (/24 blocks). */
  readonly adminNetworks: number;
  /** EU processors, each with two API hostnames and two data flows. */
  readonly processors: number;
  /** Alert receivers, e-mail and webhook in turn. */
  readonly receivers: number;
  /** Uptime checks, test and production in turn. */
  readonly uptimeChecks: number;
}

/** The size the scale suite and the benchmark build: more admin networks than one firewall rule takes (100). */
export const LARGE_PRODUCT: LargeProductSize = { keysPerEnvironment: 20, adminNetworks: 150, processors: 20, receivers: 15, uptimeChecks: 20 };

/** The longest product name the library takes: 32 characters. */
export const LARGE_PRODUCT_NAME = 'sovereign-analytics-platform-eu1';

const CITIES: ReadonlyArray<[string, string]> = [['Berlin', 'DE'], ['Paris', 'FR'], ['Amsterdam', 'NL'], ['Vienna', 'AT'], ['Madrid', 'ES'], ['Helsinki', 'FI']];

/** A well-formed ed25519 public key line whose key bytes are sha256(seed): as many distinct keys as asked, always the same. */
export function ed25519PublicKey(seed: string): string {
  const field = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
  const blob = Buffer.concat([field(Buffer.from('ssh-ed25519')), field(createHash('sha256').update(seed).digest())]);
  return `ssh-ed25519 ${blob.toString('base64')} ${seed}@sovereign-analytics.example.eu`;
}

/** A run of exactly 64 letters and digits: what the secret scan takes for an API token. */
export const TOKEN_LIKE_RUN = /(?<![A-Za-z0-9])[A-Za-z0-9]{64}(?![A-Za-z0-9])/;

/** The first key of `seed-1`, `seed-2`, … whose base64 holds a token-like run. */
export function tokenLikePublicKey(seed: string): string {
  for (let i = 1; ; i += 1) {
    const key = ed25519PublicKey(`${seed}-${i}`);
    if (TOKEN_LIKE_RUN.test(key.split(' ')[1])) return key;
  }
}

/** n distinct /24 blocks in 198.18.0.0/15 (benchmarking addresses, RFC 2544). */
export function adminBlocks(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `198.${18 + (i >> 8)}.${i % 256}.0/24`);
}

/** The processors of the large product, in the order the policy lists them. */
export function largeProductProcessors(size: LargeProductSize = LARGE_PRODUCT): Processor[] {
  return Array.from({ length: size.processors }, (_, i) => new Processor({
    name: `European Model Provider ${String(i + 1).padStart(2, '0')} GmbH & Co. KG`,
    legalSeat: { city: CITIES[i % CITIES.length][0], country: CITIES[i % CITIES.length][1] },
    hostnames: [`api.provider-${i + 1}.example.eu`, `eu-west.ingest.provider-${i + 1}.example.eu`],
    purpose: `model API ${i + 1}: summaries and classification of scrubbed tenant questions`,
    note: `DPA 2026-${String(i + 1).padStart(3, '0')}: EU data region only`,
  }));
}

/** The large product. */
export function largeProduct(size: LargeProductSize = LARGE_PRODUCT): Product {
  const processors = largeProductProcessors(size);
  const errors = new Processor({ name: 'GlitchTip (self-hosted)', legalSeat: { city: 'Berlin', country: 'DE' }, hostnames: ['errors.sovereign-analytics.example.eu'], purpose: 'error monitoring' });
  const dataFlows: DataFlowProps[] = processors.flatMap((processor, i) => [
    { processor, dataClass: DataClass.PSEUDONYMIZED, form: EgressForm.PSEUDONYMIZED, purpose: `flow ${i + 1}a: drafting answers from scrubbed questions` },
    { processor, dataClass: DataClass.PUBLIC, form: EgressForm.RAW, purpose: `flow ${i + 1}b: embedding the public documentation` },
  ]);
  // The last admin of each environment has a key whose base64 holds a run that reads like an API token, as about one
  // ed25519 key in a hundred does: among twenty admins, such a key is no rarity.
  const keys = (environment: string) => Object.fromEntries(Array.from({ length: size.keysPerEnvironment }, (_, i) => [
    `${environment}-admin-${String(i + 1).padStart(2, '0')}`,
    i + 1 < size.keysPerEnvironment ? ed25519PublicKey(`${environment}-admin-${i + 1}`) : tokenLikePublicKey(`${environment}-admin-${i + 1}`),
  ]));
  const receivers = Array.from({ length: size.receivers }, (_, i) => (i % 2 === 0
    ? AlertReceiver.email(`oncall_${i + 1}`, { to: [`oncall-${i + 1}@sovereign-analytics.example.eu`], from: 'alerts@sovereign-analytics.example.eu', smarthost: 'smtp.example.eu:587', username: `alerts-${i + 1}` })
    : AlertReceiver.webhook(`chat_${i + 1}`, { hostname: `hooks-${i + 1}.chat.example.eu` })));
  const uptimeChecks = Array.from({ length: size.uptimeChecks }, (_, i) => (i % 2 === 0
    ? UptimeCheck.http(Environment.PRODUCTION, `https://service-${i + 1}.sovereign-analytics.example.eu/health`)
    : UptimeCheck.http(Environment.TEST, `https://service-${i + 1}.test.sovereign-analytics.example.eu/health`)));
  return new Product({
    name: LARGE_PRODUCT_NAME,
    phase: Phase.THREE,
    admin: {
      sshPublicKeys: keys('test'),
      environmentSshPublicKeys: { production: keys('production') },
      cidrs: adminBlocks(size.adminNetworks),
    },
    boundary: new BoundaryPolicy({
      aiActRoles: [AiActRole.DEPLOYER],
      egress: [
        { dataClass: DataClass.PUBLIC, to: [...processors, errors], form: EgressForm.RAW },
        { dataClass: DataClass.PSEUDONYMIZED, to: [...processors, errors], form: EgressForm.PSEUDONYMIZED },
      ],
    }),
    dataFlows,
    stateBucket: 'sovereign-analytics-platform-tfstate',
    stateBuckets: { production: 'sovereign-analytics-platform-prod-tfstate' },
    locations: { test: Location.FSN1, production: Location.NBG1 },
    staging: StagingMode.fromProductionSnapshot(),
    backup: {
      restoreChecks: [RestoreCheck.sql('tenants-present', { database: 'app', query: 'SELECT count(*) > 0 FROM tenants' })],
      offsite: S3Provider.SCALEWAY,
    },
    monitoring: new MonitoringPlan({ uptimeChecks, receivers, deadMansSwitch: DeadMansSwitch.healthchecksIo(), errorMonitoring: ErrorMonitoringEndpoint.selfHosted(errors) }),
  });
}

/** The large product's stacks (test, staging, production) in `app`, staging rehearsing a release as the release path gives it. */
export function largeProductStacks(app: App, size: LargeProductSize = LARGE_PRODUCT): ProductStacks {
  return new ProductStacks(app, largeProduct(size), { stagingExpiresAt: expiryAfterDays(DEFAULT_STAGING_DAYS, new Date()) });
}
