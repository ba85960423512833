/**
 * The decision side of the test server (layeh/radius's `Handler`): {@link RadiusTestServer} owns the
 * sockets, checks Message-Authenticators, de-duplicates retransmissions and applies fault switches; a
 * {@link RadiusHandler} only decides what an authentic Access-Request gets. The built-in handlers are the
 * user table (`UsersHandler`, the default) and the vendor profiles.
 *
 * @packageDocumentation
 */
import { Attr, Code, bytesEqual, chapPassword, encodeAttribute, type RawAttribute } from '../protocol/packet';

/** What a handler decides: a reply (code and encoded attributes), or `null` to send nothing. */
export type HandlerReply = { code: number; attributes: Buffer[] } | null;

/** An authentic Access-Request as a {@link RadiusHandler} sees it (the server checked its Message-Authenticator). */
export interface HandlerRequest {
  /** User-Name as UTF-8, when present. */
  readonly username: string | undefined;
  /** The State attribute's value, byte for byte, when present (RFC 2865 §5.24). */
  readonly state: Buffer | undefined;
  /**
   * The User-Password unhidden with the shared secret (RFC 2865 §5.2), trailing NULs removed; `undefined`
   * when absent or not 16 to 128 bytes in 16-byte blocks. An empty response is an empty Buffer.
   */
  readonly password: Buffer | undefined;
  /** True when the request carries a CHAP-Password (RFC 2865 §5.3). */
  readonly chap: boolean;
  /** Attributes in wire order. */
  readonly attributes: readonly RawAttribute[];
  /** The sender's address and port. */
  readonly from: { address: string; port: number };
  /** Aborted when the server closes: a held request (a push waiting for approval) should give up then. */
  readonly signal: AbortSignal;
  /**
   * Whether the request proves `secret`: User-Password equal byte for byte, or a CHAP-Password computed
   * over it (RFC 2865 §5.3; the challenge is CHAP-Challenge when present, else the Request Authenticator).
   * False when both or neither are present (RFC 2865 §5.2: never both).
   */
  proves(secret: Buffer): boolean;
  /** The first attribute of `type` as text (UTF-8), e.g. Calling-Station-Id (31). */
  text(type: number): string | undefined;
}

/**
 * Decides the reply to each authentic Access-Request. Return the reply, a promise of it (the server holds
 * the request meanwhile and drops retransmissions of it, as RFC 5080 §2.2.2 asks), or `null` for no reply.
 * A thrown error or a rejected promise is counted as `'internal-error'` and nothing is sent.
 */
export interface RadiusHandler {
  /** Decides the reply to one Access-Request. */
  handle(request: HandlerRequest): HandlerReply | Promise<HandlerReply>;
  /** Reply attributes for `username` when the `replyWith: 'accept'` fault forces an Access-Accept. Optional. */
  acceptAttributes?(username: string): Buffer[];
  /** Called once when the server closes: cancel timers, forget pending state. Optional. */
  close?(): void;
}

/** Fields of a reply built by {@link accept}, {@link reject} or {@link challenge}. */
export interface ReplyFields {
  /** Reply-Message text (RFC 2865 §5.18); an array sends one attribute per item (each at most 253 bytes of UTF-8). */
  message?: string | readonly string[];
  /** State (RFC 2865 §5.24), 1 to 253 bytes. */
  state?: Buffer;
  /** Prompt (RFC 2869 §5.10): `true` → Echo (1), `false` → No-Echo (0). */
  echo?: boolean;
  /** Further encoded attributes, appended as they are. */
  attributes?: readonly Buffer[];
}

/** A Prompt attribute (RFC 2869 §5.10, type 76): `true` → Echo (1), `false` → No-Echo (0). */
export function promptAttribute(echo: boolean): Buffer {
  const value = Buffer.alloc(4);
  value.writeUInt32BE(echo ? 1 : 0);
  return encodeAttribute(Attr.Prompt, value);
}

function reply(code: number, fields: ReplyFields = {}): { code: number; attributes: Buffer[] } {
  const attributes: Buffer[] = [];
  const messages = fields.message === undefined ? [] : typeof fields.message === 'string' ? [fields.message] : fields.message;
  for (const message of messages) attributes.push(encodeAttribute(Attr.ReplyMessage, Buffer.from(message, 'utf8')));
  if (fields.state) attributes.push(encodeAttribute(Attr.State, fields.state));
  if (fields.echo !== undefined) attributes.push(promptAttribute(fields.echo));
  if (fields.attributes) attributes.push(...fields.attributes);
  return { code, attributes };
}

/**
 * An Access-Accept (RFC 2865 §4.2).
 * @throws RangeError when a Reply-Message or State is over 253 bytes.
 */
export function accept(fields?: ReplyFields): { code: number; attributes: Buffer[] } {
  return reply(Code.AccessAccept, fields);
}

/**
 * An Access-Reject (RFC 2865 §4.3).
 * @throws RangeError when a Reply-Message is over 253 bytes.
 */
export function reject(fields?: ReplyFields): { code: number; attributes: Buffer[] } {
  return reply(Code.AccessReject, fields);
}

/**
 * An Access-Challenge (RFC 2865 §4.4).
 * @throws RangeError when a Reply-Message or State is over 253 bytes.
 */
export function challenge(fields: ReplyFields): { code: number; attributes: Buffer[] } {
  return reply(Code.AccessChallenge, fields);
}

/** Builds the {@link HandlerRequest} for a parsed, authentic request. @internal */
export function handlerRequest(args: {
  attributes: readonly RawAttribute[];
  authenticator: Buffer;
  password: Buffer | undefined;
  from: { address: string; port: number };
  signal: AbortSignal;
}): HandlerRequest {
  const { attributes, authenticator, password } = args;
  const find = (type: number): Buffer | undefined => attributes.find((a) => a.type === type)?.value;
  const chapValue = find(Attr.ChapPassword);
  const hasPap = find(Attr.UserPassword) !== undefined;
  const username = find(Attr.UserName);
  const state = find(Attr.State);
  return {
    username: username?.toString('utf8'),
    state: state ? Buffer.from(state) : undefined,
    password,
    chap: chapValue !== undefined,
    attributes,
    from: args.from,
    signal: args.signal,
    proves(secret: Buffer): boolean {
      if (hasPap === (chapValue !== undefined)) return false;
      if (chapValue) {
        if (chapValue.length !== 17) return false;
        const chapChallenge = find(Attr.ChapChallenge) ?? authenticator;
        return bytesEqual(chapPassword(chapValue[0]!, secret, chapChallenge), chapValue);
      }
      return password !== undefined && bytesEqual(password, secret);
    },
    text(type: number): string | undefined {
      return find(type)?.toString('utf8');
    },
  };
}
