/**
 * Every TypeScript block of the README compiles as users compile it, against the packed package: once as
 * CommonJS with `esModuleInterop` (the classic `tsc --init`), once as ES modules with `"module":
 * "nodenext"` and the stricter flags of TypeScript 5.9's `tsc --init` (`verbatimModuleSyntax`,
 * `exactOptionalPropertyTypes`, `noUncheckedIndexedAccess`). Both with `strict` (README "Install").
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { appWithPackage, ROOT, type AppFolder } from './support/pack';
import { compileReadme, README_CONFIGS, readmeTypeScriptBlocks } from './support/readme';

describe('the README TypeScript blocks', function () {
  this.timeout(180000);
  let app: AppFolder;
  before(async () => {
    app = await appWithPackage();
  });
  after(() => app?.remove());

  it('are there, each self-contained (imports what it uses)', () => {
    const blocks = readmeTypeScriptBlocks();
    assert.ok(blocks.length >= 3, `only ${blocks.length} blocks found`);
    for (const block of blocks) assert.match(block.text, /^import /m, `README line ${block.line}: a block with no import is a fragment`);
  });

  it("show RadiusClient's per-request attributes as [name, value] pairs in the API section (an object throws)", () => {
    const api = /\n## API\n([\s\S]*?)\n## /.exec(readFileSync(join(ROOT, 'README.md'), 'utf8'))?.[1] ?? '';
    assert.match(api, /`attributes` of `authenticate\(\)`\s+and `respond\(\)` take only a list of `\[name, value\]` pairs/);
    // The example is compiled by the tests below: with an object there, tsc fails.
    const example = readmeTypeScriptBlocks().find((b) => api.includes(b.text.trimEnd()));
    assert.ok(example, 'the API section has no TypeScript example');
    assert.match(example.text, /\.authenticate\(\{[^}]*attributes: \[\[/);
  });

  for (const name of Object.keys(README_CONFIGS)) {
    it(`compile with tsc --strict as ${name}`, async () => {
      const out = await compileReadme(app, name);
      const lines = readmeTypeScriptBlocks().map((b) => `${b.file} = README line ${b.line}`);
      assert.equal(out, '', `tsc reported errors (${lines.join(', ')}):\n${out}`);
    });
  }
});
