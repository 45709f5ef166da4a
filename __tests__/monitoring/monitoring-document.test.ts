import * as fs from 'fs';
import * as path from 'path';
import { Component, Phase } from '../../lib';
import { MonitoringAlert } from '../../lib/monitoring/monitoring-alert';
import { monitoringPhaseDocument } from '../../lib/monitoring/monitoring-document';
import { SERVICES, UNITS } from '../../lib/monitoring/private/paths';
import { proberResources } from '../../lib/monitoring/private/profile';
import { productFixture, synth, userDataOf } from './helpers/fixture';
import { machineFiles } from './helpers/machine-files';

// docs/monitoring/phase-<n>.md are generated from the presets. Regenerate them after a change with
// UPDATE_MONITORING_DOCS=1 npx jest __tests__/monitoring/monitoring-document.test.ts
const DOCS = path.resolve(__dirname, '..', '..', 'docs', 'monitoring');
const update = process.env.UPDATE_MONITORING_DOCS === '1';

describe('the per-phase monitoring pages', () => {
  test.each(Phase.all().map((p) => [p.number, p] as const))('docs/monitoring/phase-%s.md is up to date', (n, phase) => {
    const file = path.join(DOCS, `phase-${n}.md`);
    const generated = monitoringPhaseDocument(phase);
    if (update) fs.writeFileSync(file, generated);
    expect(fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '(missing)').toBe(generated);
  });

  test('each page lists the alerts of its phase, where they run, who is alerted and what is not watched yet', () => {
    for (const phase of Phase.all()) {
      const page = monitoringPhaseDocument(phase);
      for (const alert of MonitoringAlert.all()) {
        expect(page.includes(`| ${alert.name} |`)).toBe(alert.sincePhase <= phase.number);
      }
      expect(page).toMatch(/## Where it runs, and what it watches from there/);
      expect(page).toMatch(/## Who is alerted/);
      expect(page).toMatch(/## Deliberately not watched yet/);
      // What a phase postpones is named as not watched, with the threshold that brings it in.
      expect(page.includes(Component.HOST_OBSERVABILITY.threshold)).toBe(phase.postponed.includes(Component.HOST_OBSERVABILITY));
      expect(page.includes(Component.MONITORING_MACHINE.threshold)).toBe(phase.postponed.includes(Component.MONITORING_MACHINE));
    }
    expect(monitoringPhaseDocument(Phase.THREE)).toMatch(/\| production monitoring machine \(cx33 → cpx32\) \|/);
    expect(monitoringPhaseDocument(Phase.ONE)).toMatch(/\| test app machine \(cx23 → cpx22\) \| .* \| production's uptime checks/);
  });
});

// Review: the table of memory caps named the four Debian daemons and not the alert relay or the watch of Prometheus,
// whose units cap them too (MemoryMax=48M). Read from the page on disk and from the units the prober's bundle carries:
// every capped unit has its row, each row its unit's cap.
describe('the "What it takes" table against the units the code renders', () => {
  /** The unit each of the four Debian daemons' rows names; the helpers' rows name theirs in parentheses. */
  const DAEMON_UNITS: Record<string, string> = {
    'Prometheus': SERVICES.prometheus.unit, 'Alertmanager': SERVICES.alertmanager.unit,
    'blackbox exporter': SERVICES.blackbox.unit, 'node exporter': SERVICES.node.unit,
  };

  /** Each column's caps (beside an app, on the monitoring machine), by unit, as the page's table says. */
  function tableOf(page: string): Array<Map<string, number>> {
    const section = page.split('## What it takes')[1].split('\n## ')[0];
    const rows = section.split('\n').filter((l) => l.startsWith('| ') && / MiB \|/.test(l)).map((l) => l.split('|').slice(1, -1).map((c) => c.trim()));
    const columns = rows[0].length - 1;
    return Array.from({ length: columns }, (_, i) => new Map(rows.map(([name, ...caps]) => {
      const unit = DAEMON_UNITS[name] ?? /\(([\w-]+)\)$/.exec(name)?.[1];
      expect({ name, unit }).toEqual({ name, unit: expect.any(String) });
      return [unit!, Number(/^(\d+) MiB$/.exec(caps[i])![1])];
    })));
  }

  /** The MemoryMax of every unit and drop-in of the machine's bundle under /etc/systemd/system, by unit. */
  function capsOf(userData: string): Map<string, number> {
    const caps = new Map<string, number>();
    for (const [file, { content }] of machineFiles(userData)) {
      const unit = new RegExp(`^${UNITS}/([\\w-]+)\\.service(\\.d/[\\w-]+\\.conf)?$`).exec(file)?.[1];
      const cap = /^MemoryMax=(\d+)M$/m.exec(content)?.[1];
      if (unit !== undefined && cap !== undefined) caps.set(unit, Number(cap));
    }
    return caps;
  }

  test.each(Phase.all().map((p) => [p.number, p] as const))('docs/monitoring/phase-%s.md: every capped unit of a prober, with its cap', (n, phase) => {
    const [besideApp, onMonitoringMachine] = tableOf(fs.readFileSync(path.join(DOCS, `phase-${n}.md`), 'utf8'));
    const { test, production } = productFixture({ phase, backups: false });
    // Beside an app: test's prober, on test's app machine in every phase.
    expect(capsOf(userDataOf(synth(test.stack), 'acme-test-app'))).toEqual(besideApp);
    // The figure the page adds up is the table's column, which is the units' caps: memoryMaxTotalMib.
    const page = fs.readFileSync(path.join(DOCS, `phase-${n}.md`), 'utf8');
    const sum = (caps: Map<string, number>) => [...caps.values()].reduce((a, b) => a + b, 0);
    expect(proberResources(phase, false).memoryMaxTotalMib).toBe(sum(besideApp));
    expect(page).toContain(`Beside the app the caps add up to ${sum(besideApp)} MiB:`);
    expect(besideApp.get('sovereign-alert-relay')).toBe(48);
    expect(besideApp.get('sovereign-prometheus-watch')).toBe(48);
    if (production.monitoringMachine === undefined) {
      expect(onMonitoringMachine).toBeUndefined();
    } else {
      expect(capsOf(userDataOf(synth(production.stack), 'acme-production-monitoring'))).toEqual(onMonitoringMachine);
      expect(proberResources(phase, true).memoryMaxTotalMib).toBe(sum(onMonitoringMachine));
      expect(page).toContain(`On the monitoring machine the caps add up to ${sum(onMonitoringMachine)} MiB`);
    }
  });
});
