import * as fs from 'fs';
import * as path from 'path';
import { Construct, IConstruct } from 'constructs';
import { Token } from 'cdktf';
import { CheckWithFix, checkOptions, fail, is, orNothing, withFix } from '../core/runtime-checks';
import { productDiagram, renderSvgs } from './diagram';
import { renderHtml, renderMarkdown } from './render';
import { Block, reportSections } from './report-document';
import { ReportModel, reportModelOf, ReportModelOptions } from './report-model';

/** Where the operator's report is written, its title, and how its costs are estimated. */
export interface OperatorReportOptions extends ReportModelOptions {
  /**
   * Where the report is written.
   * @default 'report'
   */
  readonly outdir?: string;
}

/**
 * Text known now and not blank: '' as outdir failed with mkdir's bare ENOENT, as a title it headed the page with
 * nothing, and a Terraform token is not known when the report is written (its placeholder reached the page).
 */
function knownText(fix: string): CheckWithFix {
  return withFix(fix, (at, prop, value) => {
    is.text(fix)(at, prop, value);
    if (Token.isUnresolved(value)) fail(at, prop, value, 'a Terraform token is known only at deploy, after the report is written', fix);
    if ((value as string).trim() === '') fail(at, prop, value, 'it is empty', fix);
  });
}

/** What was written, and the model it was written from. */
export interface OperatorReport {
  /**
   * What the report was rendered from; its shape follows the report's pages and may change with them.
   * @internal
   */
  readonly model: ReportModel;
  /** `<outdir>/index.md` */
  readonly markdownFile: string;
  /** `<outdir>/index.html`: one self-contained page. */
  readonly htmlFile: string;
  /** The diagrams, one SVG per product, beside the Markdown. */
  readonly diagramFiles: readonly string[];
}

/**
 * Writes the operator's report of the app under `scope`: `index.md` and one self-contained
 * `index.html` (inline SVG diagrams, no network), from the same construct tree the stacks are
 * synthesized from. Environments and machines by phase, data classes and the boundary with what
 * leaves to which processor, backup flows with RPO and RTO, the cost tables, the postponed list and
 * the 90-day checklist.
 *
 * The diagram needs the optional peer dependency `@hpcc-js/wasm-graphviz`, loaded on the first
 * call; without it this rejects, naming the package and version range to install.
 */
export async function writeOperatorReport(scope: IConstruct, options: OperatorReportOptions = {}): Promise<OperatorReport> {
  // From JavaScript: null options crashed reading 'outdir', a misspelt { outDir } wrote the report to ./report.
  if (!Construct.isConstruct(scope)) fail('writeOperatorReport', 'scope', scope, 'it is not a construct', 'pass the app (or a stack): writeOperatorReport(app, { outdir })');
  // What is checked is what is built from: a frozen snapshot, each field read once (a getter answers once).
  options = checkOptions<OperatorReportOptions>('writeOperatorReport', 'options', options, {
    outdir: is.optional(knownText("pass a directory such as 'report'")),
    title: is.optional(knownText("pass a title such as 'Acme: operator report'")),
    // estimateCost checks these with their own reasons.
    estimate: is.checkedLater(),
  }, orNothing("pass { outdir: 'report' }")) ?? {};
  const outdir = options.outdir ?? 'report';
  const model = reportModelOf(scope, options);
  const sections = reportSections(model);
  const diagramFile = (product: string) => `diagram-${product}.svg`;
  fs.mkdirSync(outdir, { recursive: true });
  const diagramFiles: string[] = [];
  const blocks = sections.flatMap((s) => s.blocks).filter((b): b is Extract<Block, { kind: 'diagram' }> => b.kind === 'diagram');
  const dots = blocks.map((block) => productDiagram(model.products.find((p) => (p.name ?? 'app') === block.product)!, model.estimate));
  const svgs = await renderSvgs(dots);
  for (const [i, block] of blocks.entries()) {
    const svg = svgs[i];
    Object.assign(block, { dot: dots[i], svg });
    const file = path.join(outdir, diagramFile(block.product));
    fs.writeFileSync(file, `${svg}\n`);
    diagramFiles.push(file);
  }
  const markdownFile = path.join(outdir, 'index.md');
  const htmlFile = path.join(outdir, 'index.html');
  fs.writeFileSync(markdownFile, renderMarkdown(sections, diagramFile));
  fs.writeFileSync(htmlFile, renderHtml(`Operator's report: ${model.title}`, sections));
  return { model, markdownFile, htmlFile, diagramFiles };
}
