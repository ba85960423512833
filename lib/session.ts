/**
 * Session typings for apps, declared on express-session's `SessionData` so that apps read these keys
 * without a cast: Passport's `failureMessage: true` (and `successMessage: true`) pushes the strategy's
 * message into `req.session.messages`; with `accounting: true` the strategy keeps the accounting record of
 * the web session in `req.session.radiusAccounting` (lib/session-accounting.ts). Types only.
 */
import type {} from 'express-session';
import type { AccountingRecord } from './session-accounting';

declare module 'express-session' {
  interface SessionData {
    /**
     * Messages Passport keeps with `failureMessage: true` / `successMessage: true`: the Reply-Message,
     * "Invalid username or password", "Invalid code"… Untrusted text from the RADIUS server: escape it.
     */
    messages?: string[];
    /**
     * The RADIUS accounting record of this web session (RFC 2866), with the strategy's `accounting: true`
     * and the default `sessionKey` `'radius'` (another `sessionKey` keeps it under `<sessionKey>Accounting`):
     * Acct-Session-Id, server, User-Name, start time, Class values. Set once the session is established,
     * removed by `strategy.endSession(req)`; absent without accounting. Written by the strategy: read it,
     * do not change it. Never holds a password, code, shared secret or State.
     */
    radiusAccounting?: AccountingRecord;
  }
}
