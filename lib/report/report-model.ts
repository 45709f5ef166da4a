import { IConstruct } from 'constructs';
import { TerraformStack, Token } from 'cdktf';
import { ChecklistItem } from '../boundary/boundary-document';
import { DataFlow } from '../boundary/data-flow';
import { heldData, resourcesOf } from '../boundary/rules/rule';
import { DataClass } from '../core/data-class';
import { Duration } from '../core/duration';
import { Environment } from '../core/environment';
import { CostEstimate, CostKind, ProductCost } from '../cost/cost-estimate';
import { CostEstimateOptions, estimateSynthesizedCost } from '../cost/estimator';
import { PriceList } from '../cost/price-list';
import { synthesizedStackOf } from '../cost/synthesized-stacks';
import { ninetyDayChecklist } from '../environments/ninety-day-checklist';
import { Product } from '../environments/product';
import { DEFAULT_PRE_RELEASE_SNAPSHOTS_KEPT } from '../environments/pre-release-snapshots';
import { preReleaseSnapshotServer } from '../environments/release-plan';
import { StagingMode } from '../environments/staging';
import { postponedRegisterOf } from '../environments/product-documents';
import { Machine } from '../hetzner/machine';
import { resolveTemplate } from '../hetzner/private/terraform-template';
import { EnvironmentMonitoring } from '../monitoring/environment-monitoring';
import { Component } from '../roadmap/component';
import { PostponedEntry, RequiredEntry } from '../roadmap/postponed';

/** A machine as the report shows it. */
export interface MachineView {
  /** A stable id for the diagram, such as `machine-acme-production-app`. */
  readonly id: string;
  readonly name: string;
  readonly path: string;
  readonly stack: string;
  readonly environment: string;
  readonly role: string;
  readonly serverType: string;
  /** Such as `4 vCPU, 8 GiB, 80 GiB disk`. */
  readonly size: string;
  readonly location: string;
  /** Whether the location is in the EU (Hetzner also has Ashburn, Hillsboro and Singapore). */
  readonly locationInEu: boolean;
  readonly dataClasses: readonly string[];
  /** Whether Hetzner's daily server backups are on. */
  readonly hetznerBackups: boolean;
  /** The version of the bundle the deploy rolls out (`sha256:…`), if the machine has one. */
  readonly bundleVersion?: string;
}

/** Storage outside the machines (Storage Boxes, volumes), read from the synthesized resources. */
export interface StoreView {
  readonly id: string;
  readonly name: string;
  readonly stack: string;
  readonly kind: 'Storage Box' | 'volume' | 'server';
  /** Such as `bx11`, `50 GB` or, for a server not built with `Machine`, its type. */
  readonly detail: string;
  readonly location?: string;
  readonly dataClasses: readonly string[];
}

export interface EnvironmentView {
  readonly stack: string;
  readonly environment: string;
  readonly onDemand: boolean;
  readonly expiresAt?: string;
  readonly machines: readonly MachineView[];
  readonly stores: readonly StoreView[];
}

export interface ProcessorView {
  readonly id: string;
  readonly name: string;
  readonly seat: string;
  /** Whether the legal seat is in the EU (a US-seated Sentry passes with a reason the team gives). */
  readonly seatInEu: boolean;
  readonly hostnames: readonly string[];
  readonly purpose?: string;
}

/** Data leaving the control plane: from a machine, to a processor, in a form. */
export interface FlowView {
  readonly from: string;
  readonly fromPath: string;
  readonly processor: string;
  readonly dataClass: string;
  readonly form: string;
  readonly purpose?: string;
  readonly allowed: boolean;
}

export interface DataClassView {
  readonly name: string;
  readonly description: string;
  /** Machines and stores that hold it. */
  readonly livesIn: readonly string[];
  /** `never leaves`, or the processors and form it may leave to. */
  readonly mayLeave: string;
}

/** A copy of data for recovery, from a machine to where it is kept. */
export interface BackupFlowView {
  /** Machine id (diagram) and name. */
  readonly fromId: string;
  readonly from: string;
  /** Where the copy goes, such as `Storage Box in hel1` or `Hetzner server backups`. */
  readonly to: string;
  readonly kind: 'hetzner-backups' | 'backup-plan' | 'pre-release-snapshots';
  /** Whether the copy is kept outside Hetzner (an offsite bucket at another EU provider). */
  readonly offsite: boolean;
  readonly schedule: string;
  /** The most data a loss can cost. */
  readonly rpo: string;
  /** How long a restore may take, where the plan declares it. */
  readonly rto: string;
  readonly retention: string;
  readonly verification: string;
  readonly declaredBy: string;
}

export interface MonitoringView {
  readonly component: string;
  readonly title: string;
  readonly required: boolean;
  readonly providedBy: readonly string[];
}

/** An uptime check, and the machine that probes it. */
export interface UptimeCheckView {
  readonly name: string;
  /** The URL (without its query, which may hold a key) or host and port. */
  readonly target: string;
  /** The environment it watches. */
  readonly environment: string;
  /** The machine whose prober runs it. */
  readonly probedFrom: string;
  readonly alertAfter: string;
  /** Who its alerts go to. */
  readonly notify: readonly string[];
}

/** Where the alerts go, and what tells that a prober died. */
export interface AlertingView {
  readonly receivers: readonly string[];
  readonly deadMansSwitch: string;
}

/** Everything the report shows about one product. */
export interface ProductView {
  /** `undefined` for stacks that belong to no product. */
  readonly name?: string;
  readonly phase?: number;
  readonly phaseTitle?: string;
  readonly stagingMode?: string;
  readonly environments: readonly EnvironmentView[];
  readonly processors: readonly ProcessorView[];
  readonly flows: readonly FlowView[];
  readonly dataClasses: readonly DataClassView[];
  readonly aiActRoles: readonly string[];
  readonly backupFlows: readonly BackupFlowView[];
  readonly monitoring: readonly MonitoringView[];
  /** The uptime checks the stacks run, by the prober that runs them. */
  readonly uptimeChecks: readonly UptimeCheckView[];
  readonly alerting?: AlertingView;
  /** The restore drills: where each runs, when, and how long a gap between runs means it was missed. */
  readonly restoreDrills: ReadonlyArray<{ readonly machine: string; readonly schedule: string; readonly missedAfter?: string }>;
  readonly required: readonly RequiredEntry[];
  readonly postponed: readonly PostponedEntry[];
  readonly decisionPoints: readonly string[];
  readonly checklist: readonly ChecklistItem[];
  /** What the phase requires but the stacks do not have yet, with what it would cost where known. */
  readonly notInStacks: readonly string[];
}

export interface ReportModel {
  readonly title: string;
  readonly products: readonly ProductView[];
  readonly estimate: CostEstimate;
  /** The prices the estimate used: the bundled ones, or the caller's `estimate.prices`. */
  readonly prices: PriceList;
}

/** The report's title, and how its costs are estimated. */
export interface ReportModelOptions {
  /**
   * The report's title.
   * @default - the product names
   */
  readonly title?: string;
  /**
   * How costs are estimated.
   * @default - the shipped prices, today, new orders, 4 rehearsals of 2 hours a month
   */
  readonly estimate?: CostEstimateOptions;
}

const MONITORING = [Component.EXTERNAL_UPTIME_CHECKS, Component.ERROR_MONITORING, Component.HOST_OBSERVABILITY, Component.MONITORING_MACHINE];
const HETZNER_BACKUP_SLOTS = 7;

/**
 * Reads what the operator's report shows from the construct tree under `scope` (an App or a
 * stack): environments and machines, the boundary and what leaves it, backup flows, monitoring,
 * the postponed list, the 90-day checklist, and the cost estimate of the same stacks.
 *
 * Backup plans and monitoring are read by what they declare (components, RPO, targets), so the
 * report works whether or not the app has them.
 */
export function reportModelOf(scope: IConstruct, options: ReportModelOptions = {}): ReportModel {
  const stacks = TerraformStack.isStack(scope)
    ? [scope as TerraformStack]
    : scope.node.findAll().filter((c): c is TerraformStack => TerraformStack.isStack(c));
  const synthesized = new Map(stacks.map((s) => [s, { terraform: s.toTerraform() }]));
  const groups = new Map<Product | undefined, TerraformStack[]>();
  for (const stack of stacks) {
    const product = productOfStack(stack);
    groups.set(product, [...(groups.get(product) ?? []), stack]);
  }
  const estimate = estimateSynthesizedCost(stacks.map((s) => synthesizedStackOf(s, synthesized.get(s)!.terraform)), options.estimate);
  // Checked by the estimate above: a PriceList, or none.
  const prices = options.estimate?.prices ?? PriceList.hetzner();
  const products = [...groups.entries()].map(([product, group]) => productView(product, group, (s) => synthesized.get(s)!.terraform, estimate, prices,
    options.estimate?.preReleaseSnapshotsKept ?? DEFAULT_PRE_RELEASE_SNAPSHOTS_KEPT));
  return {
    title: options.title ?? products.map((p) => p.name ?? 'stacks without a product').join(', '),
    products,
    estimate,
    prices,
  };
}

function productOfStack(stack: TerraformStack): Product | undefined {
  const product = (stack as unknown as { product?: unknown }).product;
  return product instanceof Product ? product : undefined;
}

function environmentOfStack(stack: TerraformStack): Environment | undefined {
  const environment = (stack as unknown as { environment?: unknown }).environment;
  return environment instanceof Environment ? environment : undefined;
}

function productView(product: Product | undefined, stacks: readonly TerraformStack[], terraformOf: (s: TerraformStack) => Record<string, any>, estimate: CostEstimate,
  prices: PriceList, snapshotsKept: number): ProductView {
  const machines = stacks.flatMap((s) => s.node.findAll().filter((c): c is Machine => c instanceof Machine).map((m) => machineView(m, s)));
  const machinePaths = new Set(stacks.flatMap((s) => s.node.findAll().filter((c): c is Machine => c instanceof Machine)).map((m) => m.server.node.path));
  // Text a team gave as a Terraform expression (a purpose from a variable): its expression, never cdktf's internal
  // placeholder (`${TfToken[TOKEN.8]}`), which said nothing and is no Terraform a reader can look up.
  const shown = (text: string) => (Token.isUnresolved(text) && stacks.length > 0 ? `${resolveTemplate(stacks[0], text)} (known at deploy)` : text);
  const environments: EnvironmentView[] = stacks.map((stack) => {
    const environment = environmentOfStack(stack);
    const expiresAt = (stack as unknown as { expiresAt?: unknown }).expiresAt;
    const mine = machines.filter((m) => m.stack === stack.node.id);
    return {
      stack: stack.node.id,
      environment: environment?.name ?? mine[0]?.environment ?? 'unknown',
      onDemand: environment ? !environment.alwaysOn : false,
      ...(typeof expiresAt === 'string' ? { expiresAt } : {}),
      machines: mine,
      stores: storesOf(stack, terraformOf(stack), machinePaths),
    };
  });
  const constructs = new Map(stacks.flatMap((s) => s.node.findAll()).map((c) => [c.node.path, c]));
  const flows: FlowView[] = stacks.flatMap((s) => DataFlow.declaredIn(s)).map((f) => {
    // A workload that sends for a machine it names (error monitoring, under the stack's Monitoring) is that machine's
    // flow: by path alone it showed as a construct path, and the diagram drew no arrow to its processor.
    const sender = (constructs.get(f.path) as { machine?: unknown } | undefined)?.machine;
    const machine = sender instanceof Machine
      ? machines.find((m) => m.path === sender.node.path)
      : machines.find((m) => f.path === m.path || f.path.startsWith(`${m.path}/`) || m.path.startsWith(`${f.path}/`));
    return {
      from: machine?.name ?? f.path,
      fromPath: f.path,
      processor: shown(f.processor.name),
      dataClass: f.dataClass.name,
      form: f.form,
      ...(f.purpose ? { purpose: shown(f.purpose) } : {}),
      allowed: product ? product.boundary.allows(f.dataClass, f.processor, f.form) : false,
    };
  });
  const processorObjects = [...new Set([...(product?.boundary.processors ?? []), ...stacks.flatMap((s) => DataFlow.declaredIn(s)).map((f) => f.processor)])];
  const processors: ProcessorView[] = [...new Map(processorObjects.map((p) => [p.name, p])).values()].map((p) => ({
    id: `processor-${slug(shown(p.name))}`,
    name: shown(p.name),
    seat: p.legalSeat ? `${shown(p.legalSeat.city)}, ${p.legalSeat.country}` : 'unknown',
    seatInEu: p.inEu,
    hostnames: [...p.hostnames],
    ...(p.purpose ? { purpose: shown(p.purpose) } : {}),
  }));
  const stores = environments.flatMap((e) => e.stores);
  const productCost = estimate.products.find((p) => p.product === product?.name);
  const backupFlows = [...backupFlowsOf(stacks, machines), ...preReleaseSnapshotFlows(productCost, machines, product, snapshotsKept)];
  const dataClasses: DataClassView[] = DataClass.all().map((c) => {
    const allowances = product?.boundary.allowances.filter((a) => a.dataClass === c && a.to.length > 0) ?? [];
    // A backup copy outside Hetzner holds what its machine holds: the class lives there too, and leaves for it
    // (encrypted). Read from the policy alone, sensitive data "never left", beside a copy of it at Scaleway.
    const offsite = [...new Set(backupFlows.filter((b) => b.offsite && machines.some((m) => m.id === b.fromId && m.dataClasses.includes(c.name))).map((b) => b.to))];
    const policy = allowances.length === 0 ? 'never leaves the EU control plane' : allowances.map((a) => `${a.form} to ${a.to.map((p) => shown(p.name)).join(', ')}`).join('; ');
    return {
      name: c.name,
      description: c.description,
      livesIn: [...machines.filter((m) => m.dataClasses.includes(c.name)).map((m) => m.name), ...stores.filter((s) => s.dataClasses.includes(c.name)).map((s) => s.name),
        ...offsite.map((to) => `${to} (encrypted backup copy)`)],
      mayLeave: offsite.length === 0 ? policy : `${policy}, except as backup copies encrypted on the machine (restic) to ${offsite.join(', ')}`,
    };
  });
  const declared = stacks.flatMap((s) => Component.declaredIn(s));
  const register = product ? postponedRegisterOf(product, stacks) : undefined;
  const monitoring: MonitoringView[] = MONITORING
    .filter((c) => (product?.phase.permits(c) ?? false) || declared.some((d) => d.component === c))
    .map((c) => ({
      component: c.id, title: c.title, required: product?.phase.required.includes(c) ?? false,
      providedBy: declared.filter((d) => d.component === c).map((d) => d.path),
    }));
  // What is watched, from where, and who hears of it: the components alone said "provided by <stack>/Monitoring".
  const probers = stacks.flatMap((s) => s.node.findAll()).filter((c): c is EnvironmentMonitoring => c instanceof EnvironmentMonitoring && c.prober !== undefined);
  const uptimeChecks: UptimeCheckView[] = probers.flatMap((m) => m.checks.map((c) => ({
    name: c.name, target: withoutQuery(c.target), environment: c.environment.name, probedFrom: m.prober!.serverName,
    alertAfter: String(c.alertAfter), notify: (c.notify.length > 0 ? c.notify : m.plan!.receivers).map(String),
  })));
  const plan = probers[0]?.plan;
  const alerting = plan ? { receivers: plan.receivers.map(String), deadMansSwitch: String(plan.deadMansSwitch) } : undefined;
  const checklist = product
    ? ninetyDayChecklist(product, stacks.map((s) => ({ stack: s, environment: environmentOfStack(s) ?? Environment.TEST, ...(environments.find((e) => e.stack === s.node.id)?.expiresAt ? { expiresAt: environments.find((e) => e.stack === s.node.id)!.expiresAt } : {}) })))
    : [];
  return {
    ...(product ? { name: product.name, phase: product.phase.number, phaseTitle: product.phase.title, stagingMode: product.staging.name } : {}),
    environments,
    processors,
    flows,
    dataClasses,
    aiActRoles: [...(product?.boundary.aiActRoles ?? [])],
    backupFlows,
    monitoring,
    uptimeChecks,
    ...(alerting ? { alerting } : {}),
    restoreDrills: stacks.flatMap((s) => s.node.findAll()).filter(isRestoreDrill).map((d) => ({
      machine: d.machine.serverName, schedule: String(d.schedule), ...(d.maxTimeBetweenRuns instanceof Duration ? { missedAfter: hoursAndMinutes(d.maxTimeBetweenRuns) } : {}),
    })),
    required: register?.required ?? [],
    postponed: register?.entries ?? [],
    decisionPoints: [...(product?.phase.decisionPoints ?? [])],
    checklist,
    notInStacks: notInStacks(register?.required ?? [], productCost !== undefined, estimate, prices),
  };
}

function machineView(machine: Machine, stack: TerraformStack): MachineView {
  const type = machine.serverType;
  return {
    id: `machine-${machine.serverName}`,
    name: machine.serverName,
    path: machine.node.path,
    stack: stack.node.id,
    environment: machine.environment.name,
    role: machine.role,
    serverType: type.name,
    size: type.isKnown ? `${type.cores} vCPU, ${type.memory}, ${type.disk} disk` : 'unknown type',
    location: machine.location.name,
    locationInEu: machine.location.inEu,
    dataClasses: machine.dataClasses.map((c) => c.name),
    hetznerBackups: machine.server.backupsInput === true,
    bundleVersion: machine.rollout?.bundle.version,
  };
}

/**
 * Storage Boxes and volumes, and servers not built with `Machine` (a team's own `Server` of the generated bindings):
 * those were billed in the cost section but missing from the machines, the diagram and where data lives.
 */
function storesOf(stack: TerraformStack, terraform: Record<string, any>, machineServers: ReadonlySet<string>): StoreView[] {
  const constructs = new Map(stack.node.findAll().map((c) => [c.node.path, c]));
  return resourcesOf(terraform)
    .filter((r) => r.type === 'hcloud_storage_box' || r.type === 'hcloud_volume' || (r.type === 'hcloud_server' && !machineServers.has(r.path)))
    .map((r) => {
      const labels: Record<string, string> = r.body.labels ?? {};
      const name = String(r.body.name ?? r.name);
      const server = r.type === 'hcloud_server';
      // Read as the boundary reads it: a server that declares nothing is judged sensitive.
      const held = server ? heldData(r, (at) => constructs.get(at)) : undefined;
      return {
        id: `store-${slug(`${stack.node.id}-${name}`)}`,
        name,
        stack: stack.node.id,
        kind: server ? 'server' as const : r.type === 'hcloud_storage_box' ? 'Storage Box' as const : 'volume' as const,
        detail: server ? `${r.body.server_type}, not built with Machine${held!.undeclared ? ', declaring no data classes (judged sensitive)' : ''}` : r.type === 'hcloud_storage_box' ? String(r.body.storage_box_type) : `${r.body.size} GB`,
        ...(typeof r.body.location === 'string' ? { location: r.body.location } : {}),
        dataClasses: held
          ? held.classes.map((c) => c.name)
          : DataClass.all().filter((c) => labels[`data-${c.name}`] === 'true').map((c) => c.name),
      };
    });
}

// Backup plans and restore drills are recognized by what they declare, not by class, so the
// report keeps working while the backup layer changes.
interface BackupPlanLike {
  readonly node: IConstruct['node'];
  readonly recoveryPointObjective: Duration;
  readonly machines: readonly Machine[];
  readonly targets: ReadonlyArray<{ toString(): string; readonly isOffsite?: boolean }>;
  readonly schedule?: { toString(): string };
  readonly retention?: { toString(): string };
  readonly recoveryTimeObjective?: Duration;
  readonly checkSchedule?: { toString(): string };
}

interface RestoreDrillLike {
  readonly node: IConstruct['node'];
  readonly machine: Machine;
  readonly schedule: { toString(): string };
  readonly checks: readonly unknown[];
  /** The copies it restores; a drill that does not say is taken to restore every copy. */
  readonly sources?: ReadonlyArray<{ toString(): string }>;
  /** Whose backups it restores (restic's host); a drill that does not say is taken to restore any machine's. */
  readonly sourceHost?: string;
  readonly maxTimeBetweenRuns?: Duration;
}

function isBackupPlan(c: IConstruct): c is IConstruct & BackupPlanLike {
  const p = c as unknown as Partial<BackupPlanLike>;
  return p.recoveryPointObjective instanceof Duration && Array.isArray(p.machines) && Array.isArray(p.targets);
}

function isRestoreDrill(c: IConstruct): c is IConstruct & RestoreDrillLike {
  const d = c as unknown as Partial<RestoreDrillLike>;
  return d.machine instanceof Machine && Array.isArray(d.checks) && d.schedule !== undefined;
}

function backupFlowsOf(stacks: readonly TerraformStack[], machines: readonly MachineView[]): BackupFlowView[] {
  const all = stacks.flatMap((s) => s.node.findAll());
  const drills = all.filter(isRestoreDrill);
  // A copy is proven by the drills that restore this machine's backups from it (a target of the same description: the
  // drill reads through an account or key of its own). Every drill was credited to every copy: an offsite bucket no
  // drill reads showed as verified weekly.
  const drillText = (machine: string, target: string) => {
    if (drills.length === 0) return 'no restore drill in the stacks';
    const proving = drills.filter((d) => (d.sourceHost === undefined || d.sourceHost === machine)
      && (d.sources === undefined || d.sources.some((s) => String(s) === target)));
    return proving.length > 0
      ? proving.map((d) => `restore drill ${d.schedule} on ${d.machine.serverName}`).join('; ')
      : 'no restore drill restores this copy';
  };
  const flows: BackupFlowView[] = [];
  for (const plan of all.filter(isBackupPlan)) {
    for (const machine of plan.machines) {
      for (const target of plan.targets) {
        flows.push({
          fromId: `machine-${machine.serverName}`,
          from: machine.serverName,
          to: String(target),
          kind: 'backup-plan',
          offsite: target.isOffsite === true,
          schedule: plan.schedule ? String(plan.schedule) : 'not stated',
          rpo: String(plan.recoveryPointObjective),
          rto: plan.recoveryTimeObjective ? String(plan.recoveryTimeObjective) : 'not declared by the plan',
          retention: plan.retention ? String(plan.retention) : 'not stated',
          verification: [plan.checkSchedule ? `restic check ${plan.checkSchedule}` : undefined, drillText(machine.serverName, String(target))].filter(Boolean).join('; '),
          declaredBy: plan.node.path,
        });
      }
    }
  }
  for (const machine of machines.filter((m) => m.hetznerBackups)) {
    flows.push({
      fromId: machine.id,
      from: machine.name,
      to: 'Hetzner server backups',
      kind: 'hetzner-backups',
      offsite: false,
      schedule: 'daily, in a window Hetzner picks',
      rpo: String(Duration.days(1)),
      rto: 'a rebuild from the backup image; not measured by the stacks',
      retention: `${HETZNER_BACKUP_SLOTS} daily slots; deleted with the server; volumes not included`,
      verification: 'none by the stacks (the image is not restored automatically)',
      declaredBy: `${machine.path} (backups = true)`,
    });
  }
  return flows;
}

/**
 * The snapshots the release path takes of production before each release, where the estimate counts them: a copy the
 * cost section billed while the backups section left it out.
 */
function preReleaseSnapshotFlows(cost: ProductCost | undefined, machines: readonly MachineView[], product: Product | undefined, kept: number): BackupFlowView[] {
  const lines = (cost?.environments ?? []).flatMap((e) => e.lines).filter((l) => l.kind === CostKind.SNAPSHOT);
  return lines.flatMap((line) => {
    const machine = machines.find((m) => m.stack === line.stack && m.name === preReleaseSnapshotServer(line.stack));
    if (!machine) return [];
    return [{
      fromId: machine.id,
      from: machine.name,
      to: 'Hetzner snapshots',
      kind: 'pre-release-snapshots' as const,
      offsite: false,
      schedule: 'before each release (the release path)',
      rpo: 'the last release',
      rto: 'a rebuild from the snapshot; not measured by the stacks',
      retention: `the newest ${kept} (snapshot --keep ${kept}); kept until deleted, also when the server is; volumes not included`,
      verification: product?.staging.name === StagingMode.fromProductionSnapshot().name
        ? 'staging is built from the newest for each rehearsal' : 'none by the stacks (no staging is built from them)',
      declaredBy: line.address,
    }];
  });
}

function notInStacks(required: readonly RequiredEntry[], hasCost: boolean, estimate: CostEstimate, prices: PriceList): string[] {
  const monitoring = new Set(MONITORING.map((c) => c.id));
  return required.filter((r) => !r.provided && !monitoring.has(r.component)).map((r) => {
    if (r.component === Component.REMOTE_BACKUP.id && hasCost) {
      const box = prices.storageBox('bx11', { billingDate: estimate.billingDate });
      return `${r.title}: a bx11 Storage Box would add ${box.monthly} a month (${box.assumed ? `assumed: ${box.assumed}` : `price list ${box.list}`})`;
    }
    return `${r.title}: not in the stacks yet`;
  });
}

/** A check's URL without its query or fragment (a key in `?token=` would be printed), or the target as given. */
function withoutQuery(target: string): string {
  if (!/^https?:\/\//.test(target)) return target;
  const url = new URL(target);
  const cut = url.search !== '' || url.hash !== '';
  url.search = '';
  url.hash = '';
  return `${url.toString()}${cut ? '?…' : ''}`;
}

/** Such as `180 hours 15 minutes` (a Duration of that size reads `10815 minutes`). */
function hoursAndMinutes(duration: Duration): string {
  const minutes = Math.round(duration.toSeconds() / 60);
  const hours = Math.floor(minutes / 60);
  return [hours > 0 ? `${hours} hour${hours === 1 ? '' : 's'}` : '', minutes % 60 > 0 ? `${minutes % 60} minutes` : ''].filter(Boolean).join(' ') || '0 minutes';
}

/** A lowercase id part: letters, digits and "-". */
function slug(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
}
