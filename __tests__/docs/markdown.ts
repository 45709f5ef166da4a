import * as fs from 'fs';
import * as path from 'path';

// Reading the Markdown of README.md and docs/ for the tests that hold the prose to the code.

/** The Markdown files under `dir`, at any depth. */
export function markdownFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    return e.isDirectory() ? markdownFiles(full) : e.name.endsWith('.md') ? [full] : [];
  });
}

/** The inline code spans of a Markdown text, outside fenced blocks (a span may go on over a line break), with what follows each. */
export function codeSpans(text: string): Array<{ code: string; after: string; line: number }> {
  let fenced = false;
  const prose = text.split('\n').map((line) => {
    if (/^\s*```/.test(line)) { fenced = !fenced; return ''; }
    return fenced ? '' : line;
  }).join('\n');
  return [...prose.matchAll(/`([^`]+)`/g)].map((m) => ({
    code: m[1].replace(/\s+/g, ' ').trim(),
    after: prose.slice(m.index! + m[0].length, m.index! + m[0].length + 80).replace(/\s+/g, ' '),
    line: prose.slice(0, m.index!).split('\n').length,
  }));
}

/**
 * The anchors GitHub gives a Markdown text's headings (`## Production is lost: what a restore needs, and where it is`
 * -> `production-is-lost-what-a-restore-needs-and-where-it-is`; a repeated heading gets `-1`, `-2`), outside fenced
 * blocks, and those of its `<a name>`/`<a id>` tags.
 */
export function headingAnchors(text: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of text.split('\n')) {
    if (/^\s*```/.test(line)) { fenced = !fenced; continue; }
    if (fenced) continue;
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1];
    if (heading !== undefined) {
      const slug = heading.toLowerCase().replace(/<[^>]+>/g, '').replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/ /g, '-');
      const n = seen.get(slug);
      seen.set(slug, (n ?? -1) + 1);
      anchors.add(n === undefined ? slug : `${slug}-${n + 1}`);
    }
    for (const m of line.matchAll(/<a\s+(?:name|id)="([^"]+)"/g)) anchors.add(m[1]);
  }
  return anchors;
}
