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

  it("a file's kind names the programs it starts (FreeRADIUS, redis-server, Chromium, radsecproxy)", () => {
    // What a file starts, from the helpers it calls; which kinds may start it (redis, browser and
    // radsecproxy files often start FreeRADIUS too).
    const programs: Array<{ calls: RegExp; kinds: string[] }> = [
      { calls: /\b(startFreeRadius|runFreeRadius|startStockFreeRadius|startDemoRadius|describeFreeRadius)\(/, kinds: ['freeradius', 'redis', 'browser', 'radsecproxy'] },
      { calls: /\b(startRedis|describeRedis)\(/, kinds: ['redis'] },
      { calls: /\b(launchChromium|describeBrowser)\(/, kinds: ['browser'] },
      { calls: /\b(startRadsecproxy|describeRadsecproxy)\(/, kinds: ['radsecproxy'] },
    ];
    const wrong: string[] = [];
    for (const file of readdirSync(TEST_DIR).filter((f) => f.endsWith('.test.ts') && f !== 'layout.unit.test.ts')) {
      const kind = file.split('.').at(-3)!;
      const text = readFileSync(join(TEST_DIR, file), 'utf8');
      const started = programs.filter((p) => p.calls.test(text));
      for (const p of started) if (!p.kinds.includes(kind)) wrong.push(`${file} calls ${p.calls.exec(text)![1]}`);
      // The other way round: a freeradius/redis/browser/radsecproxy file starts its program.
      const own = programs.find((p) => p.kinds[0] === kind);
      if (own && !own.calls.test(text)) wrong.push(`${file} starts no ${kind}`);
      // Unit files: nothing that opens a socket or starts a process (npm run test:unit also checks at run time).
      if (kind === 'unit' && /from '(node:(dgram|net|tls|http|https|child_process)|supertest|\.\/support\/(ports|http|tls|redis|browser|pack|readme|sign-in))'|\bRadiusTestServer\b/.test(text)) wrong.push(`${file} imports a socket or process API`);
    }
    assert.deepEqual(wrong, []);
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
