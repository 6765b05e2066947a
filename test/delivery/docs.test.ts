import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { readRepoFile, ROOT } from './repo';

/** The Markdown a user reads: the README and every page of docs/. */
const PAGES = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((name) => name.endsWith('.md')).map((name) => `docs/${name}`)];

/** Every file git tracks or would track (new files included), as paths from the repository root. */
const FILES = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' })
  .split('\n')
  .filter((path) => path !== '' && existsSync(join(ROOT, path)));

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens. */
function anchorOf(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
}

function anchorsOf(path: string): Set<string> {
  const text = readRepoFile(path).replace(/```[\s\S]*?```/g, '');
  return new Set([...text.matchAll(/^#{1,6} (.+)$/gm)].map((match) => anchorOf(match[1]!.replace(/`/g, ''))));
}

describe('the documentation', function () {
  for (const page of PAGES) {
    it(`${page}: every relative link names a file of the repository, and a heading of it`, function () {
      const text = readRepoFile(page).replace(/```[\s\S]*?```/g, '');
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/.test(target!)) continue;
        const [file, anchor] = target!.split('#') as [string, string | undefined];
        const path = file === '' ? page : normalize(join(dirname(page), file));
        expect(existsSync(join(ROOT, path)), `${page} links to ${target}`).to.equal(true);
        if (anchor !== undefined) expect([...anchorsOf(path)], `${page} links to ${target}`).to.include(anchor);
      }
    });
  }

  it('is what the code cites: every docs/ page named in a file exists, and no file cites a design outside the repository', function () {
    const cited = new Set<string>();
    for (const file of FILES) {
      if (/\.(png|jpg|zip|json)$/.test(file) || file === 'package-lock.json') continue;
      const text = readRepoFile(file);
      for (const [page] of text.matchAll(/\bdocs\/[\w-]+\.md\b/g)) cited.add(page);
      expect(text, file).to.not.match(/\b(ARCHITECTURE|PROTOCOL)\.md\b/);
    }
    expect(cited.size).to.be.greaterThan(3);
    for (const page of cited) expect(existsSync(join(ROOT, page)), `${page} is cited`).to.equal(true);
  });

  it('architecture.md\'s floors name every file of core/', function () {
    const text = readRepoFile('docs/architecture.md');
    const floors = text.slice(text.indexOf('## Floors'), text.indexOf('\n## ', text.indexOf('## Floors') + 1));
    const files = readdirSync(join(ROOT, 'core')).filter((name) => name.endsWith('.ts'));
    expect(files.length).to.be.greaterThan(10);
    const missing = files.filter((name) => !floors.includes(`\`${name}\``));
    expect(missing, 'core files the floors of docs/architecture.md do not name').to.deep.equal([]);
  });

  it('cites no issue by number, in docs or code: the tracker is not in the repository', function () {
    for (const file of FILES) {
      if (/\.(png|jpg|zip|json)$/.test(file) || file === 'package-lock.json' || file === 'test/delivery/docs.test.ts') continue;
      expect(readRepoFile(file), file).to.not.match(/\b(issue #?\d+|the issue's|issues?\/\d+)/i);
    }
  });
});
