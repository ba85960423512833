/**
 * RFC 6238 TOTP (HMAC-SHA1, 30-second steps, 6 digits) computed here with node:crypto, independently of
 * FreeRADIUS's rlm_totp and of the otpauth library the demo server uses for its URI.
 */
import { createHmac } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

const STEP_S = 30;

/** The 6-digit code for `key` at `nowMs` (RFC 6238 §4 over RFC 4226 §5.3 dynamic truncation). */
export function totpCode(key: Buffer, nowMs = Date.now()): string {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(nowMs / 1000 / STEP_S)));
  const mac = createHmac('sha1', key).update(counter).digest();
  const offset = mac[mac.length - 1]! & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 1_000_000).padStart(6, '0');
}

/**
 * Waits, when needed, until at least `marginS` seconds of the current 30-second step are left: rlm_totp
 * in FreeRADIUS 3.2.1 accepts only the current step, so a code computed at 29.9 s would arrive stale.
 */
export async function waitForFreshStep(marginS = 8): Promise<void> {
  const intoStep = (Date.now() / 1000) % STEP_S;
  if (STEP_S - intoStep < marginS) await sleep((STEP_S - intoStep) * 1000 + 50);
}

/**
 * Waits like {@link waitForFreshStep}, and also until a step not in `used` (then adds it): the README's
 * FreeRADIUS recipe accepts each code once (RFC 6238 §5.2), so a second sign-in needs the next step's code.
 */
export async function waitForUnusedStep(used: Set<number>, marginS = 8): Promise<void> {
  for (;;) {
    await waitForFreshStep(marginS);
    const step = Math.floor(Date.now() / 1000 / STEP_S);
    if (!used.has(step)) {
      used.add(step);
      return;
    }
    await sleep((STEP_S - ((Date.now() / 1000) % STEP_S)) * 1000 + 50);
  }
}
