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
export { TwoFactorProfile, CALLING_STATION_ID } from './profiles/base';
export type { ProfileOptions, PushKind, PushRecord } from './profiles/base';
export { NpsMfaProfile } from './profiles/nps';
export type { NpsMfaProfileOptions, NpsMfaUser } from './profiles/nps';
export { DuoProxyProfile } from './profiles/duo';
export type { DuoProxyProfileOptions, DuoUser } from './profiles/duo';
export { OktaAgentProfile } from './profiles/okta';
export type { OktaAgentProfileOptions, OktaFactor, OktaUser } from './profiles/okta';
export { RsaProfile } from './profiles/rsa';
export type { RsaProfileOptions, RsaUser } from './profiles/rsa';
export { PrivacyIdeaProfile } from './profiles/privacyidea';
export type { PrivacyIdeaProfileOptions, PrivacyIdeaUser } from './profiles/privacyidea';
export { FortiAuthenticatorProfile } from './profiles/fortiauthenticator';
export type { FortiAuthenticatorProfileOptions, FortiUser } from './profiles/fortiauthenticator';
