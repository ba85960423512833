/**
 * The test folder's own rules (test/README.md): every file is `<subject>.<kind>.test.ts` with a kind
 * from the README's table, and each kind has its `npm run test:<kind>` script.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const TEST_DIR = __dirname;
const readme = readFileSync(join(TEST_DIR, 'README.md'), 'utf8');
const scripts = (JSON.parse(readFileSync(join(TEST_DIR, '..', 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;

/** The kinds in the first column of the README's table: rows like "| `unit` | …". */
const KINDS = [...readme.matchAll(/^\| `([a-z]+)` \| /gm)].map((m) => m[1]!);

describe('test/ layout', () => {
  it('the README names the kinds: unit, udp, tls, freeradius, redis, browser, radsecproxy, package', () => {
    assert.deepEqual(KINDS, ['unit', 'udp', 'tls', 'freeradius', 'redis', 'browser', 'radsecproxy', 'package']);
  });

  it('every test file is named <subject>.<kind>.test.ts with a kind from the README', () => {
    const files = readdirSync(TEST_DIR).filter((f) => f.endsWith('.ts'));
    const misnamed = files.filter((f) => {
      const m = /^[a-z0-9]+(?:-[a-z0-9]+)*\.([a-z]+)\.test\.ts$/.exec(f);
      return !m || !KINDS.includes(m[1]!);
    });
    assert.deepEqual(misnamed, []);
    assert.ok(files.length > 40, `${files.length} test files found`);
  });

  it('no test files hide in the helper folders', () => {
    for (const dir of ['support', 'freeradius', 'fixtures']) {
      assert.deepEqual(readdirSync(join(TEST_DIR, dir)).filter((f) => f.endsWith('.test.ts')), [], dir);
    }
  });

  it('each kind has its npm script, and npm test runs them all', () => {
    for (const kind of KINDS) {
      assert.match(scripts[`test:${kind}`] ?? '', new RegExp(`^mocha .*'test/\\*\\.${kind}\\.test\\.ts'$`), `test:${kind}`);
    }
    assert.match(scripts['test:unit']!, /--require test\/support\/no-sockets\.ts/);
    assert.equal(scripts.test, "mocha 'test/**/*.test.ts'");
  });
});
