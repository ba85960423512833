/**
 * ES modules: the packed tarball, `npm install`ed into fresh apps outside this repository, imported with
 * `import { … } from 'passport-radius'` from an `.mjs` app and from TypeScript compiled with
 * `"module": "nodenext"`; each app signs a user in against the package's own test server. The install also
 * puts the `passport-radius` command in node_modules/.bin.
 */
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { installedApp, ROOT, type AppFolder } from './support/pack';

const run = promisify(execFile);
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

/** The app, the same in .mjs and .mts: a sign-in through RadiusClient, and a strategy built. */
const APP = `import { RadiusClient, RadiusStrategy, RadiusError } from 'passport-radius';
import { RadiusTestServer } from 'passport-radius/testing';

const server = new RadiusTestServer({ secret: 'esm-secret', users: { alice: { password: 'alice-pw' } } });
let seen = 0;
server.on('request', () => seen++);
await server.listen();
const servers = [{ name: 'test', address: server.address, secret: 'esm-secret', attributes: { 'NAS-Identifier': 'esm-app' } }];
const client = new RadiusClient({ servers });
const accepted = await client.authenticate({ username: 'alice', password: 'alice-pw' });
const rejected = await client.authenticate({ username: 'alice', password: 'wrong' });
const strategy = new RadiusStrategy({ servers }, (username, profile, done) => done(null, { username, server: profile.server }));
console.log(JSON.stringify({ accepted: accepted.type, rejected: rejected.type, name: strategy.name, errors: typeof RadiusError, seen }));
await strategy.close();
await client.close();
await server.close();
`;

const expected = { accepted: 'accept', rejected: 'reject', name: 'radius', errors: 'function', seen: 2 };

describe('the package from ES modules', function () {
  this.timeout(180000);
  let app: AppFolder;

  before(async () => {
    const typescript = (JSON.parse(readFileSync(join(ROOT, 'node_modules', 'typescript', 'package.json'), 'utf8')) as { version: string }).version;
    app = await installedApp({ type: 'module' }, ['passport', `typescript@${typescript}`, '@types/node@20', '@types/express', '@types/passport', '@types/passport-strategy']);
  });
  after(() => app?.remove());

  it('runs an .mjs app that imports passport-radius and passport-radius/testing by name', async () => {
    app.write({ 'app.mjs': APP });
    const { stdout } = await run(process.execPath, ['app.mjs'], { cwd: app.dir });
    assert.deepEqual(JSON.parse(stdout), expected);
  });

  it('compiles a TypeScript app with "module": "nodenext" (strict) and runs it', async () => {
    app.write({
      'src/app.mts': APP,
      'tsconfig.json': JSON.stringify({
        compilerOptions: { module: 'nodenext', target: 'es2022', strict: true, outDir: 'out', rootDir: 'src', types: ['node'] },
        include: ['src'],
      }),
    });
    await run(process.execPath, [join(app.dir, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.'], { cwd: app.dir }).catch((err: { stdout?: string }) => {
      assert.fail(`tsc failed:\n${err.stdout ?? String(err)}`);
    });
    const { stdout } = await run(process.execPath, ['out/app.mjs'], { cwd: app.dir });
    assert.deepEqual(JSON.parse(stdout), expected);
  });

  it('installs the passport-radius command, whose --version is the package\'s', async () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const { stdout } = await run(join(app.dir, 'node_modules', '.bin', 'passport-radius'), ['--version'], { cwd: app.dir });
    assert.equal(stdout, `${version}\n`);
  });

  it('is found by TypeScript through the package exports (types for both entry points)', async () => {
    app.write({
      'check/typed.mts': `import { RadiusClient, type AuthResult } from 'passport-radius';
import { RadiusTestServer, type TestUser } from 'passport-radius/testing';
const user: TestUser = { password: 'x' };
const describeResult = (r: AuthResult): string => r.type;
// @ts-expect-error a server needs a name, an address, a secret and attributes
new RadiusClient({ servers: [{}] });
export { user, describeResult, RadiusTestServer };
`,
    });
    await run(process.execPath, [TSC, '--noEmit', '--strict', '--module', 'nodenext', '--types', 'node', 'check/typed.mts'], { cwd: app.dir }).catch(
      (err: { stdout?: string }) => assert.fail(`tsc failed:\n${err.stdout ?? String(err)}`),
    );
  });
});
