import { Component } from './component';
import { Phase } from './phase';

/** A component built before its phase, with the reason the team gave. */
export interface EarlyAdoption {
  /** The component adopted early. */
  readonly component: Component;
  /** Why it is needed now; at least 20 letters (8 of them different), specific enough to revisit later. */
  readonly reason: string;
}

/** One line of the honest list. */
export interface PostponedEntry {
  /** The component's id. */
  readonly component: string;
  /** The component's title. */
  readonly title: string;
  /** `postponed`, or `adopted early` when the team built it before its phase, with a reason. */
  readonly status: 'postponed' | 'adopted early';
  /** What would bring it in. */
  readonly threshold: string;
  /** The team's reason for adopting it early. */
  readonly reason?: string;
}

/** One required component and whether the app provides it yet. */
export interface RequiredEntry {
  /** The component's id. */
  readonly component: string;
  /** The component's title. */
  readonly title: string;
  /** Whether a construct of the app provides it. */
  readonly provided: boolean;
  /** Construct paths that provide it. */
  readonly providedBy: string[];
}

/**
 * The honest list: every component a phase deliberately does not build, with the threshold
 * that would bring it in, plus what the phase requires and whether it is there yet.
 */
export class PostponedRegister {
  constructor(
    private readonly phase: Phase,
    private readonly adoptions: readonly EarlyAdoption[],
    /** Components declared in the app, with their construct paths. */
    private readonly declared: ReadonlyArray<{ component: Component; path: string }>,
  ) {}

  /** The postponed components of the phase, and those adopted early. */
  public get entries(): PostponedEntry[] {
    return this.phase.postponed.map((component) => {
      const adoption = this.adoptions.find((a) => a.component === component);
      return {
        component: component.id,
        title: component.title,
        status: adoption ? 'adopted early' as const : 'postponed' as const,
        threshold: component.threshold,
        ...(adoption ? { reason: adoption.reason } : {}),
      };
    });
  }

  /** The components the phase requires, each with whether the app provides it. */
  public get required(): RequiredEntry[] {
    return this.phase.required.map((component) => {
      const providedBy = this.declared.filter((d) => d.component === component).map((d) => d.path);
      return { component: component.id, title: component.title, provided: providedBy.length > 0, providedBy };
    });
  }

  /** The register as `postponed.json` holds it. */
  public toJson(): object {
    return {
      phase: this.phase.number,
      phaseTitle: this.phase.title,
      required: this.required,
      postponed: this.entries,
      decisionPoints: [...this.phase.decisionPoints],
    };
  }

  /** The register as `postponed.md` holds it, for the product named. */
  public toMarkdown(product: string): string {
    const lines = [
      `# ${product}: what ${this.phase} builds, and what it does not yet`,
      '',
      `${this.phase}: ${this.phase.title}.`,
      '',
      '## Required in this phase',
      '',
      '| component | status | provided by |',
      '|---|---|---|',
      ...this.required.map((r) => `| ${r.title} | ${r.provided ? 'provided' : '**not yet provided**'} | ${r.providedBy.join(', ') || '-'} |`),
      '',
      '## Postponed, and what would bring each in',
      '',
      '| component | status | threshold | reason |',
      '|---|---|---|---|',
      ...this.entries.map((e) => `| ${e.title} | ${e.status} | ${e.threshold} | ${e.reason ?? '-'} |`),
      '',
    ];
    if (this.phase.decisionPoints.length > 0) {
      lines.push('## Decision points', '', ...this.phase.decisionPoints.map((d) => `- ${d}`), '');
    }
    return lines.join('\n');
  }
}
