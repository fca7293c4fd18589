// A loopback SSH endpoint standing in for one demo host (ssh2's Server): its own generated
// host key, public-key auth for the demo's client key only, and unix-socket forwarding to
// that host's agent. The console asks for the real paths (/run/drbd-tui/agent.sock); the
// endpoint maps them to the demo host's sockets, as a host's own filesystem would. exec and
// sftp are refused: the demo agents already run, so deployment finds nothing to do.
import { connect as netConnect } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import ssh2 from 'ssh2';
import type { Connection, ParsedKey, Server as SshServer } from 'ssh2';

const { Server, utils } = ssh2;

export interface SshEndpoint {
  port: number;
  /** `ssh-ed25519 AAAA...` of the host key. */
  hostKeyPublic: string;
  close(): Promise<void>;
}

export interface SshEndpointOptions {
  hostKeyPrivate: string;
  hostKeyPublic: string;
  /** The one client key allowed in (OpenSSH public key line). */
  authorizedKey: string;
  /** Requested socket path → local socket path. */
  sockets: ReadonlyMap<string, string>;
  host?: string;
}

function parsedPublic(line: string): ParsedKey {
  const k = utils.parseKey(line);
  if (k instanceof Error) throw k;
  return Array.isArray(k) ? (k[0] as ParsedKey) : k;
}

export async function startSshEndpoint(opts: SshEndpointOptions): Promise<SshEndpoint> {
  const allowed = parsedPublic(opts.authorizedKey);
  const allowedBlob = allowed.getPublicSSH();
  const conns = new Set<Connection>();
  const server: SshServer = new Server({ hostKeys: [opts.hostKeyPrivate] }, (client) => {
    conns.add(client);
    client.on('close', () => conns.delete(client));
    client.on('error', () => undefined);
    client.on('authentication', (ctx) => {
      if (ctx.method !== 'publickey') return ctx.reject(['publickey']);
      const blob = ctx.key.data;
      if (ctx.key.algo !== allowed.type || blob.length !== allowedBlob.length || !timingSafeEqual(blob, allowedBlob)) return ctx.reject(['publickey']);
      if (!ctx.signature) return ctx.accept(); // the "would this key do?" query
      if (allowed.verify(ctx.blob!, ctx.signature, ctx.hashAlgo) !== true) return ctx.reject(['publickey']);
      ctx.accept();
    });
    client.on('ready', () => {
      client.on('session', (accept) => {
        const session = accept();
        session.on('exec', (acceptExec, _reject, info) => {
          const ch = acceptExec();
          ch.stderr.write(`drbd-tui demo host: commands are not run here (${info.command.slice(0, 40)}...)\n`);
          ch.exit(126);
          ch.end();
        });
        session.on('sftp', (_a, reject) => reject());
        session.on('shell', (_a, reject) => reject());
      });
      client.on('openssh.streamlocal', (accept, reject, info) => {
        const target = opts.sockets.get(info.socketPath);
        if (!target) return reject();
        const sock = netConnect(target);
        sock.once('error', () => reject());
        sock.once('connect', () => {
          const ch = accept();
          sock.removeAllListeners('error');
          sock.on('error', () => ch.destroy());
          ch.on('error', () => sock.destroy());
          ch.pipe(sock).pipe(ch);
        });
      });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  return {
    port,
    hostKeyPublic: opts.hostKeyPublic,
    async close() {
      for (const c of conns) c.end();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
