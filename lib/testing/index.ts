/**
 * `passport-radius/testing`: an in-process RADIUS server for demos, tests and fault injection.
 * Not a production RADIUS server; see {@link RadiusTestServer}.
 *
 * @packageDocumentation
 */
export { RadiusTestServer } from './server';
export type {
  Faults,
  ListenInfo,
  RadiusTestServerEvents,
  RadiusTestServerOptions,
  ReceivedRequest,
  TestChallengeRound,
  TestServerDropReason,
  TestUser,
} from './server';
export type { MalformedKind } from './reply';
