/**
 * `passport-radius/testing`: an in-process RADIUS server for demos, tests and fault injection, and
 * simulations of two-factor RADIUS servers as deployed (see `profiles/`). Not a production RADIUS server;
 * see {@link RadiusTestServer}.
 *
 * @packageDocumentation
 */
export { RadiusTestServer } from './server';
export type { ListenInfo, RadiusTestServerEvents, RadiusTestServerOptions, ReceivedRequest, TestServerDropReason } from './server';
export type { Faults } from './faults';
export type { MalformedKind } from './reply';
export { accept, challenge, promptAttribute, reject } from './handler';
export type { HandlerReply, HandlerRequest, RadiusHandler, ReplyFields } from './handler';
export { UsersHandler } from './users';
export type { TestChallengeRound, TestUser } from './users';
