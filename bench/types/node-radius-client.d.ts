/** The parts of node-radius-client 1.0.0 (no types of its own) that the benchmark uses. */
declare module 'node-radius-client' {
  interface ClientOptions {
    host: string;
    /** Default 1812. */
    hostPort?: number;
    /** Default: a random port in 49152–65535, a new one per request. */
    localPort?: number;
    /** Milliseconds; default 2500. */
    timeout?: number;
    /** Default 3. */
    retries?: number;
    dictionaries?: string[];
  }
  interface AccessRequest {
    secret: string;
    /** Passed through to `radius.encode`. */
    add_message_authenticator?: boolean;
    attributes: Array<[string, string | number | Buffer]>;
  }
  interface Response {
    code: string;
    identifier: number;
    attributes: Record<string, unknown>;
  }
  /** Rejects for Access-Reject, timeouts (after retries) and invalid replies. */
  class Client {
    constructor(options: ClientOptions);
    accessRequest(info: AccessRequest): Promise<Response>;
  }
  export = Client;
}
