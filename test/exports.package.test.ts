/**
 * The published shape: `main`/`types`/`exports` point into dist/ (built by `npm run build`, which
 * `npm install` runs through `prepare`), and both entry points load with require().
 */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const root = resolve(dirname(__filename), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  main: string;
  types: string;
  exports: Record<string, { types: string; default: string }>;
  files: string[];
  engines: { node: string };
  version: string;
};

describe('the package', () => {
  before(function () {
    this.timeout(120000);
    // Build now so the checks below see this tree, not a stale dist/.
    execFileSync('npm', ['run', '-s', 'build'], { cwd: root, stdio: 'inherit' });
  });

  it('points main, types and exports into dist/', () => {
    assert.equal(pkg.main, 'dist/index.js');
    assert.equal(pkg.types, 'dist/index.d.ts');
    assert.equal(pkg.exports['.']?.default, './dist/index.js');
    assert.equal(pkg.exports['./testing']?.default, './dist/testing/index.js');
    assert.deepEqual(pkg.files.filter((f) => f.startsWith('dist')), ['dist/']);
    assert.match(pkg.engines.node, />=20/);
    for (const entry of Object.values(pkg.exports)) {
      if (typeof entry === 'object') {
        assert.ok(existsSync(join(root, entry.default)), `${entry.default} is missing`);
        assert.ok(existsSync(join(root, entry.types)), `${entry.types} is missing`);
      }
    }
  });

  it('loads with require() by its name, from compiled CommonJS', () => {
    const out = execFileSync(
      process.execPath,
      [
        '-e',
        `const m = require('passport-radius'); const t = require('passport-radius/testing');
         console.log(JSON.stringify({ strategy: typeof m.RadiusStrategy, alias: m.Strategy === m.RadiusStrategy,
           client: typeof m.RadiusClient, errors: typeof m.RadiusUnavailableError, getChallenge: typeof m.getChallenge,
           server: typeof t.RadiusTestServer, file: require.resolve('passport-radius') }));`,
      ],
      { cwd: root, encoding: 'utf8' },
    );
    const seen = JSON.parse(out) as Record<string, unknown>;
    assert.deepEqual(
      { ...seen, file: undefined },
      { strategy: 'function', alias: true, client: 'function', errors: 'function', getChallenge: 'function', server: 'function', file: undefined },
    );
    assert.equal(seen.file, join(root, 'dist/index.js'));
  });

  it('ships an executable passport-radius command', () => {
    const bin = join(root, 'dist/cli/index.js');
    const help = execFileSync(bin, ['--help'], { encoding: 'utf8' });
    assert.match(help, /probe/);
    assert.match(help, /login/);
    assert.equal(execFileSync(bin, ['--version'], { encoding: 'utf8' }), `${pkg.version}\n`);
  });
});
