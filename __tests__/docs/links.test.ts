import * as fs from 'fs';
import * as path from 'path';
import { headingAnchors, markdownFiles } from './markdown';

// A reader of README.md and docs/ follows their links: `[below](#what-a-backup-is-on-a-target)`,
// `[database.md](database.md#recovery-time-for-a-lost-production-machine)`. A heading renamed, or a file moved, left
// the link landing at the top of the page (or on GitHub's 404), with nothing to say so. Each relative link must name
// a file of the repository, and its anchor a heading (or `<a name>`) of that file.

const ROOT = path.resolve(__dirname, '..', '..');

/** Each relative link of a Markdown text, outside fenced blocks and code spans, with its line. */
function links(text: string): Array<{ target: string; line: number }> {
  let fenced = false;
  return text.split('\n').flatMap((line, i) => {
    if (/^\s*```/.test(line)) { fenced = !fenced; return []; }
    if (fenced) return [];
    return [...line.replace(/`[^`]*`/g, '').matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)]
      .map((m) => m[1]).filter((t) => !/^[a-z][a-z+.-]*:/i.test(t)).map((target) => ({ target, line: i + 1 }));
  });
}

describe('the links of README.md and docs/', () => {
  test('name files that exist, and anchors their headings give', () => {
    const files = [path.join(ROOT, 'README.md'), ...markdownFiles(path.join(ROOT, 'docs'))];
    const anchorsOf = new Map<string, Set<string>>();
    const anchors = (file: string) => {
      if (!anchorsOf.has(file)) anchorsOf.set(file, headingAnchors(fs.readFileSync(file, 'utf8')));
      return anchorsOf.get(file)!;
    };
    const wrong: string[] = [];
    let seen = 0;
    for (const file of files) {
      for (const { target, line } of links(fs.readFileSync(file, 'utf8'))) {
        seen++;
        const [linked, anchor] = target.split('#');
        const to = linked ? path.resolve(path.dirname(file), decodeURIComponent(linked)) : file;
        const where = `${path.relative(ROOT, file)}:${line} (${target})`;
        if (!fs.existsSync(to)) wrong.push(`${where}: no file ${path.relative(ROOT, to)}`);
        else if (anchor && to.endsWith('.md') && !anchors(to).has(anchor)) wrong.push(`${where}: ${path.relative(ROOT, to)} has no heading #${anchor}`);
      }
    }
    // The walk finds the links it should: the docs link each other and the benchmarks' results by the dozen.
    expect(seen).toBeGreaterThan(30);
    expect(wrong).toEqual([]);
  });
});
