/**
 * Session typings for apps: Passport's `failureMessage: true` (and `successMessage: true`) pushes the
 * strategy's message into `req.session.messages`; declaring it on express-session's `SessionData` lets
 * apps read it without a cast. Types only.
 */
import type {} from 'express-session';

declare module 'express-session' {
  interface SessionData {
    /**
     * Messages Passport keeps with `failureMessage: true` / `successMessage: true`: the Reply-Message,
     * "Invalid username or password", "Invalid code"… Untrusted text from the RADIUS server: escape it.
     */
    messages?: string[];
  }
}
