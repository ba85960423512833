/**
 * passport-radius: a Passport strategy and client for RADIUS sign-in (RFC 2865), PAP or CHAP, several
 * servers with failover, and the two-factor Access-Challenge flow.
 *
 * @packageDocumentation
 */
import './session'; // declares req.session.messages (Passport's failureMessage) for TypeScript apps
export { RadiusStrategy, RadiusStrategy as Strategy } from './strategy';
export type {
  RadiusStrategyOptions,
  RadiusStrategyOptionsWithRequest,
  RadiusStrategyOptionsBase,
  RadiusStrategyOptionsWithClient,
  RadiusStrategyOwnOptions,
  RadiusStrategyClient,
  RadiusAuthenticateOptions,
  RadiusSuccessInfo,
  VerifyFunction,
  VerifyFunctionWithRequest,
  VerifyDone,
} from './strategy';
export { optionsFromEnv } from './env';
export type { Environment } from './env';
export { RadiusClient } from './client';
export type {
  AuthResult,
  AcceptResult,
  RejectResult,
  ChallengeResult,
  AuthenticateRequest,
  ChallengeResponseRequest,
  RadiusClientEvents,
  ServerStatus,
} from './client';
export type { RadiusClientOptions, RadiusServerOptions, RadiusProtocol } from './options';
export type { RadiusTlsOptions, RadiusTlsPsk, PemInput } from './tls/options';
export type { TlsFailureReason, TlsProbeFailureReason } from './tls/failure';
export type { AccountingEvents, AccountingRequest, AccountingResult } from './accounting';
export type { AccountingStrategyOptions, AccountingRecord, EndSessionOptions } from './session-accounting';
export type { AcctStatusType, AcctTerminateCause } from './protocol/accounting';
export { probe } from './probe';
export type {
  ProbeResult,
  ProbeReachable,
  ProbeFailed,
  ProbeFailureReason,
  ProbeMethod,
  ProbeOptions,
  ProbeWarning,
  ProbeWarningCode,
} from './probe';
export type { RadiusWarning, RadiusWarningCode } from './warnings';
export type { RequestAttributes, RequestAttributesFunction } from './request-attributes';
export type { RadiusProfile } from './profile';
export { getChallenge, MemoryChallengeClaims } from './challenge';
export type { ChallengeClaims, ChallengeInfo, PendingChallenge } from './challenge';
export type { AttributeInput, AttributeValue, DecodedAttributes, UnknownVendorAttribute } from './protocol/dictionary';
export { loadDictionaries } from './protocol/dictionaries';
export {
  RadiusError,
  RadiusUnavailableError,
  RadiusTimeoutError,
  RadiusClosedError,
  RadiusConfigError,
  RadiusSessionError,
} from './errors';
export type { RadiusErrorCode, ServerAttempt, DropReason } from './errors';
