/**
 * Configuration that works but is weak: found once, when a client is built, and reported as a
 * `'warning'` event, a debug line and `client.warnings` — never as an error, since the server on the
 * other side decides the shared secret.
 */
import type { NormalizedServer } from './options';

/** Stable codes of {@link RadiusWarning}. */
export type RadiusWarningCode = 'short-secret';

/** A weakness in one server's configuration (payload of the client's `'warning'` event). Never holds the secret. */
export interface RadiusWarning {
  /** The server's configured name. */
  server: string;
  /** `'short-secret'`: the shared secret is 12 octets or shorter. */
  code: RadiusWarningCode;
  /** What is weak and what to do, in one sentence. */
  message: string;
}

/**
 * Shared secrets of this many octets or fewer draw a warning. PAP hiding and the authenticators are MD5
 * keyed by the secret, so a captured Access-Request lets an attacker test candidate secrets offline;
 * draft-ietf-radext-deprecating-radius (§ on shared secrets) finds secrets this short crackable and asks
 * for long random ones (at least 16 octets, better 32 or more).
 */
export const SHORT_SECRET_OCTETS = 12;

/**
 * The warnings for a client's servers, in configured order. A RadSec server (`transport: 'tls'`) draws
 * none: its packets travel inside TLS, so none can be captured to guess the secret from, and RFC 6614
 * §2.3 fixes that secret to `radsec` anyway.
 */
export function configurationWarnings(servers: readonly Pick<NormalizedServer, 'name' | 'secret' | 'transport'>[]): RadiusWarning[] {
  const warnings: RadiusWarning[] = [];
  for (const server of servers) {
    if (server.transport !== 'tls' && server.secret.length <= SHORT_SECRET_OCTETS) {
      warnings.push({
        server: server.name,
        code: 'short-secret',
        message:
          `the shared secret of "${server.name}" is ${server.secret.length} octets: a captured packet lets it be ` +
          'guessed offline (draft-ietf-radext-deprecating-radius); use a random secret of 32 octets or more on both sides',
      });
    }
  }
  return warnings;
}
