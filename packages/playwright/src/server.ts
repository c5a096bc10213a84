// Starting and stopping a mock-idp process, and minting tokens over HTTP.
// No Playwright imports here: usable from a globalSetup or a plain script too.
import { spawn, type ChildProcess } from 'node:child_process';

/** The line mock-idp prints to stdout once it serves (the actual port with `--port 0`). */
const LISTENING = /mock-idp listening on (https?:\/\/\S+)/;
/** How much of the process's output is kept for error messages. */
const TAIL_BYTES = 8 * 1024;

/** Options of {@link startMockIdp}. */
export interface StartOptions {
  /** The binary; default `MOCK_IDP_BIN`, else `mock-idp` on PATH. */
  bin?: string;
  /** Extra arguments after `serve --host 127.0.0.1 --port 0`, e.g. `['--users', 'users.yaml']`. */
  args?: string[];
  /** The process environment; default `process.env` (so `USERS_FILE`, `CONFIG_FILE`, ... reach it). */
  env?: NodeJS.ProcessEnv;
  /** How long to wait for the startup line, in ms; default 15000. */
  startTimeoutMs?: number;
}

/** A running mock-idp started by {@link startMockIdp}. */
export interface RunningMockIdp {
  /** Base URL, e.g. `http://127.0.0.1:41234` (no trailing slash). */
  url: string;
  /** The process id. */
  pid: number;
  /** SIGTERM, then SIGKILL after `graceMs` (default 5000); resolves once it exited. */
  stop(graceMs?: number): Promise<void>;
}

/** Keeps the last `TAIL_BYTES` of a stream, for error messages. */
class Tail {
  private text = '';
  push(chunk: Buffer | string): void {
    this.text = (this.text + chunk.toString()).slice(-TAIL_BYTES);
  }
  toString(): string {
    return this.text.trim();
  }
}

/** The binary to start: `MOCK_IDP_BIN`, else `mock-idp` (looked up on PATH). */
export function defaultBinary(env: NodeJS.ProcessEnv = process.env): string {
  return env.MOCK_IDP_BIN || 'mock-idp';
}

/**
 * Start mock-idp on a free loopback port (`serve --host 127.0.0.1 --port 0`)
 * and resolve once its startup line names the URL. Rejects with the process's
 * stderr when it exits first (a bad USERS_FILE, a prod guard, ...) or is not
 * found.
 */
export function startMockIdp(options: StartOptions = {}): Promise<RunningMockIdp> {
  const env = options.env ?? process.env;
  const bin = options.bin ?? defaultBinary(env);
  const args = ['serve', '--host', '127.0.0.1', '--port', '0', ...(options.args ?? [])];
  const timeoutMs = options.startTimeoutMs ?? 15_000;

  return new Promise<RunningMockIdp>((resolve, reject) => {
    let child: ChildProcess;
    try {
      child = spawn(bin, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      reject(notFound(bin, err));
      return;
    }
    const stdout = new Tail();
    const stderr = new Tail();
    let pending = '';
    let settled = false;
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    // Whatever happens to this worker, do not leave the server behind.
    const killOnExit = () => child.kill('SIGKILL');
    process.once('exit', killOnExit);

    const fail = (message: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      process.removeListener('exit', killOnExit);
      const out = stderr.toString() || stdout.toString();
      reject(new Error(out ? `${message}; its output:\n${out}` : message));
    };
    const timer = setTimeout(
      () => fail(`mock-idp (${bin}) printed no "mock-idp listening on" line within ${timeoutMs} ms`),
      timeoutMs,
    );

    child.once('error', (err) => fail(notFound(bin, err).message));
    // 'close' (not 'exit'): stderr has been read to its end by then.
    child.once('close', (code, signal) =>
      fail(`mock-idp (${bin} ${args.join(' ')}) exited before serving (${signal ?? `exit code ${code}`})`),
    );
    // Both pipes are drained for the whole life of the process, so a chatty
    // server never blocks on a full pipe.
    child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout.push(chunk);
      if (settled) return;
      pending += chunk.toString();
      const m = LISTENING.exec(pending);
      if (!m) {
        pending = pending.slice(-TAIL_BYTES);
        return;
      }
      settled = true;
      clearTimeout(timer);
      const pid = child.pid!;
      resolve({
        url: m[1].replace(/\/+$/, ''),
        pid,
        async stop(graceMs = 5_000) {
          process.removeListener('exit', killOnExit);
          if (child.exitCode !== null || child.signalCode !== null) return;
          child.kill('SIGTERM');
          let t: NodeJS.Timeout | undefined;
          const late = new Promise<void>((done) => {
            t = setTimeout(() => {
              child.kill('SIGKILL');
              done();
            }, graceMs);
          });
          await Promise.race([exited, late]);
          clearTimeout(t);
          await exited;
        },
      });
    });
  });
}

function notFound(bin: string, err: unknown): Error {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT') {
    return new Error(
      `mock-idp binary not found: "${bin}". Set MOCK_IDP_BIN to its path, put mock-idp on PATH ` +
        '(cargo install --path . in a mock-idp checkout), or set MOCK_IDP_URL to a running mock-idp.',
    );
  }
  if (code === 'EACCES') return new Error(`mock-idp binary "${bin}" is not executable (EACCES)`);
  return new Error(`could not start mock-idp "${bin}": ${(err as Error)?.message ?? String(err)}`);
}

/** Fields of mock-idp's `POST /token` JSON body; all optional. */
export interface TokenRequest {
  /** Subject; default `user_default` (or the persona's). */
  sub?: string;
  /** Persona name from mock-idp's users file (`--users` / `USERS_FILE`, or `users:` in the config file). */
  user?: string;
  /** Claim layout: `clerk` (Clerk v2 session token, default) or `plain`. */
  preset?: 'clerk' | 'plain' | (string & {});
  org_id?: string;
  /** `admin` or `org:admin` both give `o.rol: "admin"` in the clerk preset. */
  org_role?: string;
  org_slug?: string;
  aud?: string | string[];
  iss?: string;
  azp?: string;
  scope?: string;
  /** Seconds until `exp`; negative mints an already-expired token. */
  expires_in?: number;
  /** Extra claims, merged last (they win over everything). */
  claims?: Record<string, unknown>;
  /** Any other field mock-idp accepts. */
  [field: string]: unknown;
}

/**
 * `POST {baseUrl}/token` with `body` as JSON; resolves to `access_token`.
 * A non-200 answer rejects with the server's `error` and `error_description`.
 */
export async function mintToken(baseUrl: string, body: TokenRequest, timeoutMs = 10_000): Promise<string> {
  const endpoint = `${baseUrl.replace(/\/+$/, '')}/token`;
  // Name the persona in errors, never the rest of the body (it may carry secrets).
  const what = typeof body.user === 'string' ? ` for user "${body.user}"` : '';
  let res: Response;
  try {
    res = await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    throw new Error(`mock-idp POST ${endpoint}${what} failed: ${(err as Error)?.message ?? String(err)}`);
  }
  const text = await res.text();
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  if (res.status !== 200) {
    const reason =
      json && typeof json.error === 'string'
        ? `${json.error}: ${typeof json.error_description === 'string' ? json.error_description : '(no description)'}`
        : text.slice(0, 500);
    throw new Error(`mock-idp POST ${endpoint}${what} answered ${res.status}: ${reason}`);
  }
  const token = json?.access_token;
  if (typeof token !== 'string' || !token) {
    throw new Error(`mock-idp POST ${endpoint}${what} answered 200 without an access_token`);
  }
  return token;
}
