import * as path from 'path';
import { brokenLinks, markdownFiles } from './markdown';

// A reader of README.md and docs/ follows their links: `[below](#what-a-backup-is-on-a-target)`,
// `[database.md](database.md#recovery-time-for-a-lost-production-machine)`. A heading renamed, or a file moved, left
// the link landing at the top of the page (or on GitHub's 404), with nothing to say so. Each relative link must name
// a file of the repository, and its anchor a heading (or `<a name>`) of that file.

const ROOT = path.resolve(__dirname, '..', '..');

describe('the links of README.md and docs/', () => {
  test('name files that exist, and anchors their headings give', () => {
    const { wrong, seen } = brokenLinks(ROOT, [path.join(ROOT, 'README.md'), ...markdownFiles(path.join(ROOT, 'docs'))]);
    // The walk finds the links it should: the docs link each other and the benchmarks' results by the dozen.
    expect(seen).toBeGreaterThan(30);
    expect(wrong).toEqual([]);
  });
});
