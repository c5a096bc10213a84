// Offline guard: every test file imports this first. Any TCP connection that
// is not to loopback (an SDK phoning home: JWKS from the provider's real
// domain, telemetry, instance discovery) throws instead of leaving the
// machine, and is recorded so a test can assert that none was attempted.
import net from 'node:net';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);
export const blockedHosts = [];

const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function guardedConnect(...args) {
  let opts = args[0];
  if (Array.isArray(opts)) opts = opts[0];
  if (typeof opts !== 'object' || opts === null) opts = { port: args[0], host: args[1] };
  if (!opts.path) {
    const host = opts.host ?? 'localhost';
    if (!LOOPBACK.has(host)) {
      blockedHosts.push(host);
      throw new Error(`offline guard: connection to ${host} blocked (tests only talk to 127.0.0.1)`);
    }
  }
  return connect.apply(this, args);
};
