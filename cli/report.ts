import { writeOperatorReport } from '../lib/report/operator-report';
import { TerraformStack } from 'cdktf';
import { checkOrderedOnStacks, estimateOptions, parseFlags, withAppFromModule } from './cost';
import type { CliIo } from './run-cli';
import { UsageError } from './usage-error';

export const REPORT_USAGE = `  cdktf-sovereign-hetzner report --app MODULE [--export NAME] [--only A,B] [--to DIR] [--title TEXT]
                                 [cost flags: --billing-date, --ordered-on, --rehearsal-hours, --rehearsals, ...]
      The operator's report from the app's construct tree: DIR/index.md and one self-contained
      DIR/index.html (default DIR: report) with environments and machines by phase, the data boundary
      and what leaves it, backup flows with RPO and RTO, the cost tables, the postponed list and the
      90-day checklist, and a diagram laid out by Graphviz (the optional package @hpcc-js/wasm-graphviz:
      npm install --save-dev @hpcc-js/wasm-graphviz).`;

/** `report`: writes the operator's report. */
export async function reportCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const args = parseFlags(argv, 'report');
  if (typeof args.flags.app !== 'string') {
    throw new UsageError('--app MODULE is required: the report reads the construct tree. '
      // A team's repository first: its main.ts is `init`'s, not this library's examples.
      + 'Fix: pass the built module that exports a function taking the App, and its name: --app dist/main.js --export defineApp in a repository '
      + '`init` scaffolded (npm run report there builds and passes them), --app dist/examples/index.js --export EXAMPLES in a clone of this library.');
  }
  const estimate = estimateOptions(args);
  const report = await withAppFromModule(args, (app) => {
    // The report estimates every stack of the app: their names, known before anything is synthesized.
    checkOrderedOnStacks(estimate, app.node.findAll().filter((c) => TerraformStack.isStack(c)).map((s) => s.node.id));
    return writeOperatorReport(app, {
      outdir: typeof args.flags.to === 'string' ? args.flags.to : 'report',
      estimate,
      ...(typeof args.flags.title === 'string' ? { title: args.flags.title } : {}),
    });
  });
  io.out(`Wrote ${report.markdownFile} and ${report.htmlFile} (${report.model.products.length} product(s), ${report.model.estimate.monthly} a month).`);
  return 0;
}
