import { DatabaseStorage, Roadmap, RoadmapAssessment, Size } from '../../lib';
import { CALM_METRICS } from '../roadmap/helpers/metrics';
import { refusal } from '../boundary/refusal';

// Audit (messages): DatabaseStorage.fromAssessment read `assessment.changes` without a look, so a JavaScript caller who
// passed the measured metrics themselves (or nothing) got "Cannot read properties of undefined (reading 'find')".
describe('DatabaseStorage.fromAssessment', () => {
  test("refuses the metrics in place of the roadmap's assessment, naming the value and the call that makes one", () => {
    expect(refusal(() => DatabaseStorage.fromAssessment(CALM_METRICS as unknown as RoadmapAssessment))).toMatch(
      /^DatabaseStorage\.fromAssessment\.assessment: \{"payingCustomers":.* is not allowed: it is not the roadmap's assessment .*\. Fix: pass what Roadmap\.assess returns: DatabaseStorage\.fromAssessment\(Roadmap\.assess\(/);
  });

  test('refuses an assessment left out, saying it is missing', () => {
    expect(refusal(() => DatabaseStorage.fromAssessment(undefined as unknown as RoadmapAssessment)))
      .toMatch(/^DatabaseStorage\.fromAssessment\.assessment: missing: .*\. Fix: pass what Roadmap\.assess returns/);
  });

  test("takes the roadmap's own assessment", () => {
    expect(DatabaseStorage.fromAssessment(Roadmap.assess(CALM_METRICS), Size.gibibytes(100)).kind).toBe('phase-default');
  });
});
