/**
 * Which local user opened a TCP connection to this process, on Linux: the kernel lists every
 * socket with its owner in /proc/net/tcp and /proc/net/tcp6; the client's end of a loopback
 * connection is the entry whose local port is the connection's remote port and whose remote port
 * is our port (what identd does).
 *
 * Contract: `peerUid(serverPort, clientPort)` answers the uid (a number), `'unknown'` when this
 * system has no /proc/net/tcp (not Linux: the caller cannot check), or `'not-found'` when no such
 * socket is listed (the client is already gone, or it is not on this machine). Reads the tables
 * synchronously; called once per connection, not per request.
 */
import { existsSync, readFileSync } from 'node:fs';

const TABLES = ['/proc/net/tcp', '/proc/net/tcp6'];

export function peerUid(serverPort: number, clientPort: number): number | 'unknown' | 'not-found' {
  const tables = TABLES.filter((t) => existsSync(t));
  if (tables.length === 0) return 'unknown';
  const local = `:${clientPort.toString(16).toUpperCase().padStart(4, '0')}`;
  const remote = `:${serverPort.toString(16).toUpperCase().padStart(4, '0')}`;
  for (const t of tables) {
    let text: string;
    try {
      text = readFileSync(t, 'latin1');
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      // "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid ..."
      const f = line.trim().split(/\s+/);
      if (f.length < 8 || !f[1]?.endsWith(local) || !f[2]?.endsWith(remote)) continue;
      const uid = Number(f[7]);
      if (Number.isInteger(uid)) return uid;
    }
  }
  return 'not-found';
}
