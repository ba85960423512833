/**
 * Sign-ins through the test app (test/support/app.ts) against a FreeRADIUS started with the project's
 * users (test/support/freeradius.ts), checked on both sides: the HTTP outcome and what FreeRADIUS logged.
 * FreeRADIUS may log a request after the app has its reply, so the log is waited for, with a deadline.
 */
import { strict as assert } from 'node:assert';
import type { Express } from 'express';
import request from 'supertest';
import { USERS, waitForOutputSince, type FreeRadiusServer } from './freeradius';

/**
 * carol's two-factor sign-in: her password (303 to the challenge route), then her code; asserts that she
 * is signed in and that FreeRADIUS received the State of its Access-Challenge byte for byte. Returns the
 * response to the code.
 */
export async function signInWithCode(agent: ReturnType<typeof request.agent>, fr: FreeRadiusServer): Promise<request.Response> {
  await agent.post('/login').type('form').send({ username: 'carol', password: USERS.carol.password }).expect(303);
  const mark = fr.output().length;
  const res = await agent.post('/login/challenge').type('form').send({ code: USERS.carol.code });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.body.user.username, 'carol');
  await waitForOutputSince(fr, mark, /State = 0x00ff80fe0d0a2200c3/);
  return res;
}

/** alice signs in (the app's strategy set to CHAP); asserts 200 and that FreeRADIUS got a CHAP-Password. */
export async function signInWithChap(app: Express, fr: FreeRadiusServer): Promise<void> {
  const mark = fr.output().length;
  const res = await request(app).post('/login').type('form').send({ username: 'alice', password: USERS.alice.password });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  await waitForOutputSince(fr, mark, /CHAP-Password = 0x/);
}
