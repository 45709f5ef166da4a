import { spawnSync } from 'child_process';
import { createRequire } from 'module';
import { CostEstimate } from '../cost/cost-estimate';
import { ProductView } from './report-model';

/**
 * The product's diagram in Graphviz DOT: the EU control plane with one cluster per environment
 * and its machines and stores, the external processors outside it, an arrow for each data flow
 * that leaves (class and form), and an arrow for each backup copy (with its RPO).
 */
export function productDiagram(product: ProductView, estimate: CostEstimate): string {
  const cost = estimate.products.find((p) => p.product === product.name);
  const monthlyOf = (stack: string) => cost?.environments.find((e) => e.stack === stack);
  const machines = product.environments.flatMap((e) => e.machines);
  const lines: string[] = [
    `digraph ${q(product.name ?? 'app')} {`,
    '  graph [rankdir=LR, compound=true, fontname="Helvetica", fontsize=12, nodesep=0.35, ranksep=0.9, bgcolor="transparent"];',
    '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=10, color="#44546a", fillcolor="#ffffff"];',
    '  edge [fontname="Helvetica", fontsize=9, color="#44546a"];',
    '  subgraph cluster_control_plane {',
    // The labels say "EU" only of what is: a machine holding public data only may run in Ashburn or Singapore, and a
    // US-seated processor (Sentry) may be accepted with a reason.
    `    label=${q(machines.every((m) => m.locationInEu) ? 'EU control plane: Hetzner Cloud' : 'Hetzner Cloud: the EU control plane, and machines outside the EU')}; style="rounded,filled"; fillcolor="#eef4fb"; color="#7a9cc6";`,
  ];
  for (const env of product.environments) {
    const envCost = monthlyOf(env.stack);
    const when = env.onDemand
      ? `on demand${env.expiresAt ? `, expires ${env.expiresAt}` : ''}${envCost ? `, ${envCost.hourly.toString(4)}/hour` : ''}`
      : `always on${envCost ? `, ${envCost.monthly}/month` : ''}`;
    lines.push(`    subgraph ${q(`cluster_${env.stack}`)} {`);
    lines.push(`      label=${q(`${env.environment}: ${env.stack} (${when})`)}; style="rounded,filled${env.onDemand ? ',dashed' : ''}"; fillcolor="${env.onDemand ? '#fdf6e3' : '#ffffff'}"; color="#9aa9bd";`);
    for (const m of env.machines) {
      const label = [m.name, `${m.serverType} in ${m.location}${m.locationInEu ? '' : ' (outside the EU)'}: ${m.size}`, `holds: ${m.dataClasses.join(', ') || 'nothing declared'}`].join('\\n');
      lines.push(`      ${q(m.id)} [id=${q(m.id)}, label=${q(label, false)}, fillcolor="${m.dataClasses.some((c) => c === 'sensitive' || c === 'secret') ? '#fde8e8' : '#ffffff'}"];`);
    }
    for (const s of env.stores) {
      const label = [s.name, `${s.kind} ${s.detail}${s.location ? ` in ${s.location}` : ''}`, `holds: ${s.dataClasses.join(', ') || 'nothing declared'}`].join('\\n');
      const sensitive = s.kind === 'server' && s.dataClasses.some((c) => c === 'sensitive' || c === 'secret');
      lines.push(`      ${q(s.id)} [id=${q(s.id)}, shape=${s.kind === 'server' ? 'box' : 'cylinder'}, label=${q(label, false)}${sensitive ? ', fillcolor="#fde8e8"' : ''}];`);
    }
    if (env.machines.length + env.stores.length === 0) lines.push(`      ${q(`empty-${env.stack}`)} [label="no machines", shape=plaintext];`);
    lines.push('    }');
  }
  const hetznerBackups = product.backupFlows.filter((b) => b.kind === 'hetzner-backups');
  if (hetznerBackups.length > 0) {
    lines.push(`    "hetzner-backups" [id="hetzner-backups", shape=cylinder, label=${q('Hetzner server backups\\n7 daily slots, deleted with the server', false)}, fillcolor="#f4f4f4"];`);
  }
  const snapshots = product.backupFlows.filter((b) => b.kind === 'pre-release-snapshots');
  if (snapshots.length > 0) {
    lines.push(`    "hetzner-snapshots" [id="hetzner-snapshots", shape=cylinder, label=${q(`${snapshots[0].to}\\nbefore each release, kept until deleted`, false)}, fillcolor="#f4f4f4"];`);
  }
  lines.push('  }');

  if (product.processors.length > 0) {
    lines.push('  subgraph cluster_processors {');
    lines.push(`    label=${q(product.processors.every((p) => p.seatInEu) ? 'External processors (EU legal seat)' : 'External processors')}; style="rounded,filled"; fillcolor="#f3f9ef"; color="#8fb27a";`);
    for (const p of product.processors) {
      lines.push(`    ${q(p.id)} [id=${q(p.id)}, shape=component, label=${q(`${p.name}\\n${p.seat}${p.seatInEu ? '' : ' (outside the EU)'}\\n${p.hostnames.join(', ')}`, false)}, fillcolor="#ffffff"];`);
    }
    lines.push('  }');
  }

  const machineIds = new Map(product.environments.flatMap((e) => e.machines).map((m) => [m.name, m.id]));
  for (const f of product.flows) {
    const from = machineIds.get(f.from);
    const to = product.processors.find((p) => p.name === f.processor)?.id;
    if (!from || !to) continue;
    lines.push(`  ${q(from)} -> ${q(to)} [label=${q(`${f.dataClass} data, sent ${f.form}`)}, color="${f.allowed ? '#2e7d32' : '#c62828'}", fontcolor="${f.allowed ? '#2e7d32' : '#c62828'}"];`);
  }
  const stores = product.environments.flatMap((e) => e.stores);
  for (const b of product.backupFlows) {
    if (b.kind === 'hetzner-backups') {
      lines.push(`  ${q(b.fromId)} -> "hetzner-backups" [label=${q(`daily, RPO ${b.rpo}`)}, style=dashed];`);
      continue;
    }
    if (b.kind === 'pre-release-snapshots') {
      lines.push(`  ${q(b.fromId)} -> "hetzner-snapshots" [label=${q('before each release')}, style=dashed];`);
      continue;
    }
    // A plan's target: a Storage Box of the app (by location), or a node of its own (offsite).
    const box = stores.find((s) => s.kind === 'Storage Box' && s.location !== undefined && b.to.includes(s.location));
    const targetId = box?.id ?? `target-${b.to.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;
    if (!box && !lines.some((l) => l.startsWith(`  ${q(targetId)} [`))) lines.push(`  ${q(targetId)} [id=${q(targetId)}, shape=cylinder, label=${q(b.to)}];`);
    lines.push(`  ${q(b.fromId)} -> ${q(targetId)} [label=${q(`backups, RPO ${b.rpo}`)}, style=dashed, color="#6a1b9a", fontcolor="#6a1b9a"];`);
  }
  lines.push('}');
  return lines.join('\n');
}

/** A quoted DOT string. Labels pass `escapeBackslashes = false` to keep their `\\n` line breaks. */
function q(text: string, escapeBackslashes = true): string {
  const body = escapeBackslashes ? text.replace(/\\/g, '\\\\') : text;
  return `"${body.replace(/"/g, '\\"')}"`;
}

interface Graphviz {
  dot(source: string, format?: string): string;
}

let inProcess: Promise<Graphviz | undefined> | undefined;

/**
 * Lays DOT graphs out with Graphviz compiled to WebAssembly (@hpcc-js/wasm-graphviz) and returns
 * the SVGs, without their XML prologue, ready to inline in HTML. No network, no native binary.
 */
export async function renderSvgs(dots: readonly string[]): Promise<string[]> {
  inProcess ??= loadInProcess();
  const graphviz = await inProcess;
  const svgs = graphviz ? dots.map((d) => graphviz.dot(d, 'svg')) : renderInChild(dots);
  return svgs.map((svg) => svg.slice(svg.indexOf('<svg')));
}

/** One graph; see `renderSvgs`. */
export async function renderSvg(dot: string): Promise<string> {
  return (await renderSvgs([dot]))[0];
}

/**
 * Graphviz is an optional peer dependency: construct users who never write the report do not
 * install it (with its WebAssembly it is the largest thing the report needs).
 */
const GRAPHVIZ_PACKAGE = '@hpcc-js/wasm-graphviz';
/** The range of GRAPHVIZ_PACKAGE this library is tested with (its peerDependencies entry). */
const GRAPHVIZ_RANGE = '^1.29.2';

/** The installed Graphviz entry file, or an error that names the package to install. */
function graphvizFile(): string {
  try {
    return require.resolve(GRAPHVIZ_PACKAGE);
  } catch (e) {
    if ((e as { code?: string }).code !== 'MODULE_NOT_FOUND') throw e;
    throw new Error(
      `The operator report lays its diagram out with Graphviz from the optional package ${GRAPHVIZ_PACKAGE}, which is not installed. ` +
        `Fix: npm install --save-dev ${GRAPHVIZ_PACKAGE}@'${GRAPHVIZ_RANGE}' (the constructs themselves do not need it).`,
    );
  }
}

async function loadInProcess(): Promise<Graphviz | undefined> {
  // Resolving first turns a missing package into a message that names it, in and out of process.
  const file = graphvizFile();
  // The package is ES modules only. Node (>= 20.19) requires it natively; a runtime that replaces
  // `require` (a test runner) or an older Node cannot, and renders in a child Node process instead.
  try {
    const module = createRequire(__filename)(file) as { Graphviz: { load(): Promise<Graphviz> } };
    return await module.Graphviz.load();
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_REQUIRE_ESM') return undefined;
    throw e;
  }
}

const CHILD = `
const { pathToFileURL } = require('url');
let input = '';
process.stdin.on('data', (c) => { input += c; });
process.stdin.on('end', async () => {
  const { file, dots } = JSON.parse(input);
  const { Graphviz } = await import(pathToFileURL(file).href);
  const graphviz = await Graphviz.load();
  process.stdout.write(JSON.stringify(dots.map((d) => graphviz.dot(d, 'svg'))));
});`;

function renderInChild(dots: readonly string[]): string[] {
  const file = graphvizFile();
  const result = spawnSync(process.execPath, ['-e', CHILD], { input: JSON.stringify({ file, dots }), encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, timeout: 60_000 });
  if (result.status !== 0) throw new Error(`Graphviz could not lay out the diagram: ${result.stderr || result.error?.message}`);
  return JSON.parse(result.stdout) as string[];
}
