import * as fs from 'fs';
import * as path from 'path';
import { Component, Phase } from '../../lib';
import { MonitoringAlert } from '../../lib/monitoring/monitoring-alert';
import { monitoringPhaseDocument } from '../../lib/monitoring/monitoring-document';

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
