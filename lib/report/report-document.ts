import { CostEstimate, CostKind, CostLine, ProductCost } from '../cost/cost-estimate';
import { Money } from '../cost/money';
import { PriceList } from '../cost/price-list';
import { ProductView, ReportModel } from './report-model';

/** A table cell: text, or an amount with the key that ties it to the estimate. */
export type Cell = string | { readonly text: string; readonly costKey?: string; readonly strong?: boolean };

export interface Table {
  readonly head: readonly string[];
  readonly rows: ReadonlyArray<readonly Cell[]>;
}

export type Block =
  | { readonly kind: 'paragraph'; readonly text: string }
  | { readonly kind: 'list'; readonly items: readonly string[] }
  | { readonly kind: 'table'; readonly table: Table }
  | { readonly kind: 'diagram'; readonly product: string; readonly dot: string; readonly svg?: string };

export interface Section {
  readonly id: string;
  readonly title: string;
  readonly level: 1 | 2 | 3;
  readonly blocks: Block[];
}

/** The amount shown for a cost key, exactly as the estimate gives it. */
export function money(amount: Money, key: string, decimals = 2, strong = false): Cell {
  return { text: amount.toString(decimals), costKey: key, strong };
}

/** Every amount the report shows, by key, as the estimate gives it: what a reader of the page must see. */
export function costFigures(estimate: CostEstimate): Record<string, string> {
  const figures: Record<string, string> = { 'app.monthly': estimate.monthly.toString() };
  for (const phase of estimate.phases) figures[`phase.${phase.phase}.monthly`] = phase.monthly.toString();
  for (const p of estimate.products) {
    const k = productKey(p);
    figures[`${k}.alwaysOn`] = p.alwaysOnMonthly.toString();
    figures[`${k}.shared`] = p.sharedMonthly.toString();
    figures[`${k}.permanent`] = p.permanentMonthly.toString();
    figures[`${k}.onDemand`] = p.onDemandMonthly.toString();
    figures[`${k}.monthly`] = p.monthly.toString();
    figures[`${k}.comparison.threePermanent`] = p.comparison.threePermanent.toString();
    figures[`${k}.comparison.testPlusOnDemand`] = p.comparison.testPlusOnDemand.toString();
    figures[`${k}.comparison.saving`] = p.comparison.saving.toString();
    figures[`${k}.comparison.extraCost`] = p.comparison.extraCost.toString();
    figures[`${k}.comparison.permanentStaging`] = p.comparison.permanentStaging.toString();
    if (p.rehearsal) {
      figures[`${k}.rehearsal.hourly`] = p.rehearsal.hourly.toString(4);
      figures[`${k}.rehearsal.each`] = p.rehearsal.each.toString(4);
      figures[`${k}.rehearsal.monthly`] = p.rehearsal.monthly.toString();
      if (p.rehearsal.untilExpiry) figures[`${k}.rehearsal.untilExpiry`] = p.rehearsal.untilExpiry.cost.toString(4);
    }
    for (const e of p.environments) {
      figures[`env.${e.stack}.monthly`] = e.monthly.toString();
      figures[`env.${e.stack}.hourly`] = e.hourly.toString(4);
      for (const l of e.lines) figures[lineKey(l)] = l.monthly.toString();
    }
    for (const l of p.shared) figures[lineKey(l)] = l.monthly.toString();
  }
  return figures;
}

function productKey(p: ProductCost): string {
  return `product.${p.product ?? 'app'}`;
}

function lineKey(l: CostLine): string {
  return `line.${l.stack}.${l.address}.${l.kind.replace(/ /g, '-')}`;
}

/**
 * The operator's report as sections of text, tables and diagrams, rendered to Markdown and HTML
 * alike, so that both show the same numbers.
 */
export function reportSections(model: ReportModel): Section[] {
  const { estimate } = model;
  const { prices } = model;
  const sections: Section[] = [{
    id: 'summary',
    title: `Operator's report: ${model.title}`,
    level: 1,
    blocks: [
      { kind: 'paragraph', text: `Generated from the construct tree by cdktf-sovereign-hetzner. Costs are Hetzner's net list prices in EUR (excluding VAT), taken on ${estimate.pricesTakenOn}, for ${estimate.billingDate}; ${existingServers(estimate)}` },
      { kind: 'table', table: {
        head: ['product', 'phase', 'always-on environments', 'shared', 'rehearsals', 'a month'],
        rows: [
          ...estimate.products.map((p) => [p.product ?? 'stacks without a product', p.phase !== undefined ? `Phase ${p.phase}` : '-',
            money(p.alwaysOnMonthly, `${productKey(p)}.alwaysOn`), money(p.sharedMonthly, `${productKey(p)}.shared`),
            money(p.onDemandMonthly, `${productKey(p)}.onDemand`), money(p.monthly, `${productKey(p)}.monthly`, 2, true)]),
          ...(estimate.products.length > 1 ? [['whole app', '', '', '', '', money(estimate.monthly, 'app.monthly', 2, true)]] : []),
        ],
      } },
      ...(estimate.phases.length > 1 ? [{ kind: 'table' as const, table: {
        head: ['phase', 'products', 'a month'],
        rows: estimate.phases.map((ph) => [`Phase ${ph.phase}${ph.title ? `: ${ph.title}` : ''}`, ph.products.join(', '), money(ph.monthly, `phase.${ph.phase}.monthly`, 2, true)]),
      } }] : []),
    ],
  }];

  for (const product of model.products) {
    const cost = estimate.products.find((p) => p.product === product.name);
    const name = product.name ?? 'stacks without a product';
    const pid = product.name ?? 'app';
    sections.push({
      id: `${pid}`, title: `${name}${product.phase !== undefined ? `: Phase ${product.phase}, ${product.phaseTitle}` : ''}`, level: 2,
      blocks: [{ kind: 'paragraph', text: product.stagingMode ? `Staging mode: ${product.stagingMode === 'production-snapshot' ? 'on demand, on a server built from a production snapshot' : 'rehearsals on the always-on test machine'}.` : 'Stacks that belong to no product.' }],
    });
    sections.push(environmentsSection(product, pid));
    sections.push({ id: `${pid}-diagram`, title: 'Diagram', level: 3, blocks: [
      { kind: 'paragraph', text: 'Laid out by Graphviz from the construct tree. Red boxes hold sensitive data or secrets; green arrows are data flows the boundary allows (red ones it does not); dashed arrows are backup copies: purple ones the backup plan\'s, grey ones Hetzner\'s server backups and snapshots.' },
      { kind: 'diagram', product: pid, dot: '' },
    ] });
    sections.push(boundarySection(product, pid));
    sections.push(backupSection(product, pid));
    if (cost) sections.push(costSection(cost, pid, prices, estimate.billingDate));
    sections.push(postponedSection(product, pid));
    if (product.checklist.length > 0) {
      sections.push({ id: `${pid}-checklist`, title: 'Good in the first 90 days', level: 3, blocks: [{ kind: 'table', table: {
        head: ['met', 'item', 'evidence'],
        rows: product.checklist.map((c) => [c.met ? 'yes' : { text: 'no', strong: true }, c.item, c.evidence]),
      } }] });
    }
  }

  sections.push({ id: 'prices', title: 'Prices used', level: 2, blocks: [
    { kind: 'paragraph', text: `From ${prices === PriceList.hetzner() ? 'the price file bundled with the library' : 'your price file'}, taken on ${prices.takenOn}. Which list applies to what:` },
    { kind: 'table', table: { head: ['price list', 'from', 'applies to'], rows: prices.lists.map((l) => [l.id, l.effectiveFrom, l.appliesTo]) } },
    { kind: 'paragraph', text: estimate.pricesToVerify.length === 0 ? 'Every figure used is of high confidence.' : 'Figures to verify (not high confidence, or assumed):' },
    ...(estimate.pricesToVerify.length > 0 ? [{ kind: 'table' as const, table: {
      head: ['item', 'stack', 'a month', 'confidence', 'why'],
      rows: estimate.pricesToVerify.map((l) => [l.description, l.stack, l.monthly.toString(), l.price.confidence, l.price.assumed ?? l.price.note ?? `price list ${l.price.list}, sources ${l.price.sources.join(', ')}`]),
    } }] : []),
    { kind: 'paragraph', text: 'Not counted:' },
    { kind: 'list', items: estimate.notCounted.length > 0 ? [...estimate.notCounted] : ['nothing'] },
  ] });
  return sections;
}

function existingServers(estimate: CostEstimate): string {
  const existing = Object.entries(estimate.serversOrderedOn);
  return existing.length === 0
    ? 'every server is priced as a new order, at the newest prices.'
    : `servers are priced as new orders, except in ${existing.map(([stack, date]) => `${stack} (ordered or last rescaled on ${date})`).join(', ')}.`;
}

function environmentsSection(product: ProductView, pid: string): Section {
  const rows: Cell[][] = [];
  for (const env of product.environments) {
    for (const m of env.machines) {
      rows.push([env.environment, env.onDemand ? `on demand${env.expiresAt ? ` (expires ${env.expiresAt})` : ''}` : 'always on', m.name, m.serverType, m.size,
        `${m.location}${m.locationInEu ? '' : ' (outside the EU)'}`,
        m.dataClasses.join(', '), m.hetznerBackups ? 'on' : 'off', m.bundleVersion ? `${m.bundleVersion.slice(0, 19)}…` : '-']);
    }
    for (const s of env.stores) rows.push([env.environment, env.onDemand ? 'on demand' : 'always on', s.name, `${s.kind} ${s.detail}`, '-', s.location ?? '-', s.dataClasses.join(', ') || '-', '-', '-']);
    if (env.machines.length + env.stores.length === 0) rows.push([env.environment, env.onDemand ? 'on demand' : 'always on', `(${env.stack}: no machines)`, '-', '-', '-', '-', '-', '-']);
  }
  return { id: `${pid}-environments`, title: 'Environments and machines', level: 3, blocks: [{ kind: 'table', table: {
    head: ['environment', 'runs', 'machine or store', 'type', 'size', 'location', 'holds', 'Hetzner backups', 'bundle (rolled out on deploy)'], rows,
  } }] };
}

function boundarySection(product: ProductView, pid: string): Section {
  const blocks: Block[] = [];
  if (product.aiActRoles.length > 0) blocks.push({ kind: 'paragraph', text: `AI Act role: ${product.aiActRoles.join(' and ')}.` });
  blocks.push({ kind: 'table', table: {
    head: ['data class', 'meaning', 'lives in', 'may leave'],
    rows: product.dataClasses.map((c) => [c.name, c.description, c.livesIn.join(', ') || '-', c.mayLeave]),
  } });
  blocks.push({ kind: 'paragraph', text: product.flows.length === 0 ? 'No data flows to external processors are declared.' : 'What leaves, to which processor, in what form:' });
  if (product.flows.length > 0) {
    blocks.push({ kind: 'table', table: {
      head: ['from', 'to', 'data class', 'form', 'purpose', 'allowed by the boundary'],
      rows: product.flows.map((f) => [f.from, f.processor, f.dataClass, f.form, f.purpose ?? '-', f.allowed ? 'yes' : { text: 'no', strong: true }]),
    } });
  }
  if (product.processors.length > 0) {
    blocks.push({ kind: 'table', table: {
      head: ['processor', 'legal seat', 'API hostnames', 'purpose'],
      rows: product.processors.map((p) => [p.name, `${p.seat}${p.seatInEu ? '' : ' (outside the EU)'}`, p.hostnames.join(', '), p.purpose ?? '-']),
    } });
  }
  return { id: `${pid}-boundary`, title: 'Data classes and the boundary', level: 3, blocks };
}

function backupSection(product: ProductView, pid: string): Section {
  const blocks: Block[] = [];
  if (product.backupFlows.length === 0) {
    blocks.push({ kind: 'paragraph', text: 'No backup copies in the stacks yet.' });
  } else {
    blocks.push({ kind: 'table', table: {
      head: ['from', 'to', 'when', 'RPO', 'RTO', 'retention', 'verified by'],
      rows: product.backupFlows.map((b) => [b.from, b.to, b.schedule, b.rpo, b.rto, b.retention, b.verification]),
    } });
  }
  // The report is written from the code: the last proof of recovery is on the machines, and it says where.
  for (const d of product.restoreDrills) {
    blocks.push({ kind: 'paragraph', text: `When recovery was last proven is not known to this report, which is written from the code: the restore drill on ${d.machine} `
      + `(${d.schedule}) reports each run to its heartbeat check${product.alerting ? `, and its prober alerts RestoreDrillFailed when a run fails and RestoreDrillMissed when none finished within ${d.missedAfter ?? 'its interval and longest run'}` : ''}.` });
  }
  if (product.restoreDrills.length === 0 && product.backupFlows.length > 0) {
    blocks.push({ kind: 'paragraph', text: 'No restore drill in the stacks: recovery from these copies is not proven.' });
  }
  const monitoring = product.monitoring.map((m) => `${m.title}${m.required ? ' (required)' : ''}: ${m.providedBy.length > 0 ? `provided by ${m.providedBy.join(', ')}` : 'not in the stacks yet'}`);
  if (monitoring.length > 0) blocks.push({ kind: 'paragraph', text: 'Monitoring:' }, { kind: 'list', items: monitoring });
  if (product.uptimeChecks.length > 0) {
    blocks.push({ kind: 'table', table: {
      head: ['uptime check', 'watches', 'environment', 'probed from', 'alerts after', 'alerts go to'],
      rows: product.uptimeChecks.map((c) => [c.name, c.target, c.environment, c.probedFrom, c.alertAfter, c.notify.join(', ')]),
    } });
  }
  if (product.alerting) {
    blocks.push({ kind: 'paragraph', text: `Alerts go to ${product.alerting.receivers.join(', ')}. A prober that dies stops pinging the dead-man's switch: ${product.alerting.deadMansSwitch}.` });
  }
  if (product.notInStacks.length > 0) blocks.push({ kind: 'paragraph', text: 'Required by the phase but not in the stacks yet:' }, { kind: 'list', items: [...product.notInStacks] });
  return { id: `${pid}-backups`, title: 'Backups and monitoring', level: 3, blocks };
}

function costSection(cost: ProductCost, pid: string, prices: PriceList, billingDate: string): Section {
  const k = productKey(cost);
  const envRows: Cell[][] = cost.environments.map((e) => [e.stack, e.environment, e.onDemand ? 'on demand' : 'always on',
    money(e.monthly, `env.${e.stack}.monthly`), money(e.hourly, `env.${e.stack}.hourly`, 4)]);
  const lineRows: Cell[][] = [...cost.environments.flatMap((e) => e.lines), ...cost.shared].map((l) => [l.stack, l.description, l.kind,
    money(l.monthly, lineKey(l)), l.hourly ? l.hourly.toString(4) : 'monthly only', `${l.price.list}${l.price.confidence !== 'high' || l.price.assumed ? ` (${l.price.confidence}${l.price.assumed ? ', assumed' : ''})` : ''}`]);
  const blocks: Block[] = [
    { kind: 'table', table: { head: ['stack', 'environment', 'runs', 'a whole month', 'an hour'], rows: [
      ...envRows,
      ...cost.shared.map((l): Cell[] => ['shared', '-', 'always', money(l.monthly, lineKey(l)), l.hourly ? l.hourly.toString(4) : 'monthly only']),
      ['always-on environments and shared costs', '', '', money(cost.permanentMonthly, `${k}.permanent`, 2, true), ''],
    ] } },
    { kind: 'table', table: { head: ['stack', 'item', 'kind', 'a month', 'an hour', 'price list'], rows: lineRows } },
  ];
  const r = cost.rehearsal;
  if (r) {
    blocks.push({ kind: 'paragraph', text: 'Staging on demand: Hetzner bills every started hour, up to the monthly price.' });
    blocks.push({ kind: 'table', table: { head: ['', 'cost'], rows: [
      [`one hour of staging (${r.stack})`, money(r.hourly, `${k}.rehearsal.hourly`, 4, true)],
      [`one rehearsal of ${r.length} (${r.billedHours} billed hours)`, money(r.each, `${k}.rehearsal.each`, 4)],
      [`${r.perMonth} rehearsals a month`, money(r.monthly, `${k}.rehearsal.monthly`)],
      ...(r.untilExpiry ? [[`staging left up until the reaper deletes it on ${r.untilExpiry.expiresAt} (${r.untilExpiry.hours} hours from ${billingDate})`,
        money(r.untilExpiry.cost, `${k}.rehearsal.untilExpiry`, 4)]] : []),
    ] } });
  }
  blocks.push({ kind: 'paragraph', text: `Three permanent environments, or test always on and staging on demand (permanent staging: ${cost.comparison.permanentStagingBasis}):` });
  blocks.push({ kind: 'table', table: { head: ['setup', 'a month'], rows: [
    ['test, staging and production always on', money(cost.comparison.threePermanent, `${k}.comparison.threePermanent`)],
    [r ? `test and production always on, staging for ${r.perMonth} rehearsals of ${r.length}` : 'test and production always on, rehearsals on the test machine', money(cost.comparison.testPlusOnDemand, `${k}.comparison.testPlusOnDemand`)],
    cost.comparison.extraCost.isZero()
      ? ['on-demand staging saves', money(cost.comparison.saving, `${k}.comparison.saving`, 2, true)]
      : ['on-demand staging costs more', money(cost.comparison.extraCost, `${k}.comparison.extraCost`, 2, true)],
  ] } });
  const included = cost.environments.flatMap((e) => e.lines).filter((l) => l.kind === CostKind.SERVER && l.location !== undefined).map((l) => {
    const location = l.location!;
    return `${l.description}: ${prices.includedTrafficTb(l.item, location)} TB outgoing traffic included a month, then ${prices.trafficOverage(location).monthly}/TB`;
  });
  if (included.length > 0) blocks.push({ kind: 'paragraph', text: 'Traffic:' }, { kind: 'list', items: [...new Set(included)] });
  return { id: `${pid}-cost`, title: 'Cost', level: 3, blocks };
}

function postponedSection(product: ProductView, pid: string): Section {
  const blocks: Block[] = [];
  if (product.required.length > 0) {
    blocks.push({ kind: 'table', table: {
      head: ['required in this phase', 'status', 'provided by'],
      rows: product.required.map((r) => [r.title, r.provided ? 'provided' : { text: 'not yet provided', strong: true }, r.providedBy.join(', ') || '-']),
    } });
  }
  blocks.push({ kind: 'table', table: {
    head: ['postponed', 'status', 'what would bring it in', 'reason'],
    rows: product.postponed.map((e) => [e.title, e.status, e.threshold, e.reason ?? '-']),
  } });
  if (product.decisionPoints.length > 0) blocks.push({ kind: 'list', items: [...product.decisionPoints] });
  return { id: `${pid}-postponed`, title: 'What this phase does not build yet', level: 3, blocks };
}
