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

/** Each relative link of a Markdown text, outside fenced blocks and code spans, with its line. */
export function relativeLinks(text: string): Array<{ target: string; line: number }> {
  let fenced = false;
  return text.split('\n').flatMap((line, i) => {
    if (/^\s*```/.test(line)) { fenced = !fenced; return []; }
    if (fenced) return [];
    return [...line.replace(/`[^`]*`/g, '').matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)]
      .map((m) => m[1]).filter((t) => !/^[a-z][a-z+.-]*:/i.test(t)).map((target) => ({ target, line: i + 1 }));
  });
}

/**
 * What is wrong with the relative links of `files` (paths under `root`, to which messages are relative): a link to a
 * file that does not exist, or to a Markdown file's anchor that none of its headings (nor an `<a name>`) gives; and
 * how many links were followed, for a caller to see that the walk found them.
 */
export function brokenLinks(root: string, files: readonly string[]): { wrong: string[]; seen: number } {
  const anchorsOf = new Map<string, Set<string>>();
  const anchors = (file: string) => {
    if (!anchorsOf.has(file)) anchorsOf.set(file, headingAnchors(fs.readFileSync(file, 'utf8')));
    return anchorsOf.get(file)!;
  };
  const wrong: string[] = [];
  let seen = 0;
  for (const file of files) {
    for (const { target, line } of relativeLinks(fs.readFileSync(file, 'utf8'))) {
      seen++;
      const [linked, anchor] = target.split('#');
      const to = linked ? path.resolve(path.dirname(file), decodeURIComponent(linked)) : file;
      const where = `${path.relative(root, file)}:${line} (${target})`;
      if (!fs.existsSync(to)) wrong.push(`${where}: no file ${path.relative(root, to)}`);
      else if (anchor && to.endsWith('.md') && !anchors(to).has(anchor)) wrong.push(`${where}: ${path.relative(root, to)} has no heading #${anchor}`);
    }
  }
  return { wrong, seen };
}
