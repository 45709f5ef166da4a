import { Block, Cell, Section } from './report-document';

/** The report as Markdown; diagrams as links to their SVG files beside it, with the DOT source. */
export function renderMarkdown(sections: readonly Section[], diagramFile: (product: string) => string): string {
  const out: string[] = [];
  for (const section of sections) {
    out.push(`${'#'.repeat(section.level)} ${markdownText(section.title)}`, '');
    for (const block of section.blocks) out.push(...markdownBlock(block, diagramFile), '');
  }
  return `${out.join('\n').replace(/\n{3,}/g, '\n\n').trim()}\n`;
}

function markdownBlock(block: Block, diagramFile: (product: string) => string): string[] {
  switch (block.kind) {
    case 'paragraph': return [markdownText(block.text)];
    case 'list': return block.items.map((i) => `- ${markdownText(i)}`);
    case 'diagram': {
      // A fence longer than any run of backticks in the source: a label with ``` would otherwise end the block.
      const fence = '`'.repeat(Math.max(3, ...(block.dot.match(/`+/g) ?? []).map((run) => run.length + 1)));
      return [`![Diagram of ${markdownText(block.product)}](${diagramFile(block.product)})`, '', '<details><summary>Graphviz source</summary>', '', `${fence}dot`, block.dot, fence, '', '</details>'];
    }
    case 'table': {
      const cell = (c: Cell) => {
        const text = markdownText(typeof c === 'string' ? c : c.text).replace(/\|/g, '\\|');
        return typeof c !== 'string' && c.strong ? `**${text}**` : text;
      };
      return [
        `| ${block.table.head.map(cell).join(' | ')} |`,
        `|${block.table.head.map(() => '---').join('|')}|`,
        ...block.table.rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
      ];
    }
  }
}

/**
 * Text as Markdown shows it, not as markup: names and reasons a team chooses (a processor's name, a flow's
 * purpose, the title) reach the page as written. Markdown passes inline HTML through, so a `<script>`, an
 * `<img onerror>` or a `<!--` that hides the rest of the report from whoever renders it is written as `&lt;`;
 * a line break would end a table row or a list item, so it becomes a space.
 */
function markdownText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/\s*[\r\n\u2028\u2029]+\s*/g, ' ');
}

const STYLE = `
:root { color-scheme: light; }
body { font-family: -apple-system, "Segoe UI", "DejaVu Sans", Helvetica, Arial, sans-serif; margin: 0; color: #1d2733; background: #f7f9fb; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 32px 48px; }
h1 { font-size: 26px; margin: 8px 0 12px; }
h2 { font-size: 21px; margin: 36px 0 8px; padding-top: 12px; border-top: 2px solid #d5dde6; }
h3 { font-size: 16px; margin: 22px 0 8px; color: #2b4a6f; }
p, li { font-size: 14px; line-height: 1.45; }
table { border-collapse: collapse; margin: 8px 0 14px; font-size: 13px; background: #fff; }
th, td { border: 1px solid #d5dde6; padding: 5px 8px; text-align: left; vertical-align: top; }
th { background: #eef2f6; font-weight: 600; }
td.money { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
strong, td.strong { font-weight: 700; }
figure.diagram { margin: 8px 0 16px; padding: 8px; background: #fff; border: 1px solid #d5dde6; overflow-x: auto; }
figure.diagram svg { max-width: 100%; height: auto; }
`;

/**
 * The report as one self-contained HTML page: inline style, diagrams as inline SVG, no script and
 * nothing fetched (its content security policy forbids it), so it opens from disk anywhere.
 */
export function renderHtml(title: string, sections: readonly Section[]): string {
  const body = sections.map((s) => {
    const heading = `<h${s.level} id="${esc(s.id)}">${esc(s.title)}</h${s.level}>`;
    return [heading, ...s.blocks.map(htmlBlock)].join('\n');
  }).join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${esc(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
}

function htmlBlock(block: Block): string {
  switch (block.kind) {
    case 'paragraph': return `<p>${esc(block.text)}</p>`;
    case 'list': return `<ul>${block.items.map((i) => `<li>${esc(i)}</li>`).join('')}</ul>`;
    case 'diagram': return `<figure class="diagram" data-diagram="${esc(block.product)}">${block.svg ?? ''}</figure>`;
    case 'table': {
      const cell = (c: Cell, tag: 'td' | 'th') => {
        if (typeof c === 'string') return `<${tag}>${esc(c)}</${tag}>`;
        const classes = [c.costKey ? 'money' : '', c.strong ? 'strong' : ''].filter(Boolean).join(' ');
        return `<${tag}${classes ? ` class="${classes}"` : ''}${c.costKey ? ` data-cost="${esc(c.costKey)}"` : ''}>${esc(c.text)}</${tag}>`;
      };
      return `<table><thead><tr>${block.table.head.map((h) => cell(h, 'th')).join('')}</tr></thead><tbody>${
        block.table.rows.map((r) => `<tr>${r.map((c) => cell(c, 'td')).join('')}</tr>`).join('')}</tbody></table>`;
    }
  }
}

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
