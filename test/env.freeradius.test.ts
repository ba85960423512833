/**
 * `new RadiusStrategy()` configured only by environment variables, against a real FreeRADIUS 3.2:
 * CHAP sign-in from RADIUS_PROTOCOL, the NAS-Identifier FreeRADIUS saw, the secret from RADIUS_SECRET_FILE.
 */
import { strict as assert } from 'node:assert';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import request from 'supertest';
import { RadiusStrategy, type RadiusProfile } from '../lib';
import { passportFor } from './support/app';
import { describeFreeRadius, startFreeRadius, USERS, waitForOutputSince, type FreeRadiusServer } from './support/freeradius';

const KEYS = ['RADIUS_ADDRESS', 'RADIUS_SECRET', 'RADIUS_SECRET_FILE', 'RADIUS_NAS_IDENTIFIER', 'RADIUS_PROTOCOL', 'RADIUS_TIMEOUT'];

describeFreeRadius('new RadiusStrategy() from the environment, against FreeRADIUS', function () {
  this.timeout(30000);
  let fr: FreeRadiusServer;
  let dir: string;
  const saved = Object.fromEntries(KEYS.map((k) => [k, process.env[k]]));

  before(async () => {
    [fr, dir] = await Promise.all([startFreeRadius(), mkdtemp(join(tmpdir(), 'env-freeradius-'))]);
  });
  after(async () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await fr?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('signs alice in with CHAP, the secret read from RADIUS_SECRET_FILE, and FreeRADIUS saw the NAS-Identifier', async () => {
    const file = join(dir, 'secret');
    await writeFile(file, `${fr.secret}\n`);
    delete process.env.RADIUS_SECRET;
    Object.assign(process.env, { RADIUS_ADDRESS: fr.address, RADIUS_SECRET_FILE: file, RADIUS_NAS_IDENTIFIER: 'env-console', RADIUS_PROTOCOL: 'chap', RADIUS_TIMEOUT: '3s' });
    const strategy = new RadiusStrategy();
    try {
      const app = express();
      app.use(express.urlencoded({ extended: false }));
      app.post('/login', passportFor(strategy).authenticate('radius', { session: false }), (req, res) => {
        res.json(req.user);
      });
      const mark = fr.output().length;
      const res = await request(app).post('/login').type('form').send({ username: USERS.alice.name, password: USERS.alice.password });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal((res.body as RadiusProfile).username, 'alice');
      await fr.waitForOutput(/NAS-Identifier = "env-console"/);
      await waitForOutputSince(fr, mark, /CHAP-Password/);
    } finally {
      await strategy.close();
    }
  });
});
