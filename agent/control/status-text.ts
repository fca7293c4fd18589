// `drbdadm status` text, exactly as DRBD 9 prints it: fields that are normal are left out.
// Beyond DRBD, a split brain is printed on the connection line (`split-brain:yes`) and a
// StandAlone connection carries its reason, because operators could not see either before.
// Resources known here but not up get one comment line each after those that are up
// (`# not up: …`, like `# config error: …`), so drbdadm's format stays what it is for the others.
// A resource with an iSCSI service address ends with a comment line saying whether this host
// holds it (`# service-address: 10.77.0.100/24 on eth0 held:yes`), and a running target open to
// anyone on every address with a warning line (`# warning: r0's target accepts any initiator …`),
// a peer link without a shared secret too (`# warning: r0: peer link not authenticated: …`), and
// every DRBD option the file sets that is not honoured a line `# ignored: OPTION (why) at FILE:L:C`.
// Every line is made safe with untrustedText: a value holding a newline or an escape sequence
// shows them escaped.
import { secretFileWarning } from '../config/file-mode.js';
import { ignoredText, unauthenticatedWarning } from '../protocol/resource-notes.js';
import { exposureWarning } from '../iscsi/exposure.js';
import { notUpLine } from '../protocol/not-up.js';
import type { AgentSnapshot, ResourceSnapshot } from '../protocol/messages.js';
import { LOG_LINE_LIMIT } from '../log.js';
import { untrustedText } from '../protocol/untrusted-text.js';

/** One line of output: names and messages come from files and the network, and a newline in one must not start a line of its own. */
const line = (text: string): string => untrustedText(text, LOG_LINE_LIMIT) + '\n';

function resourceText(r: ResourceSnapshot): string {
  const lines: string[] = [];
  lines.push(`${r.name} role:${r.role}${r.suspended ? ' suspended:user' : ''}`);
  const multi = r.devices.length > 1;
  for (const d of r.devices) {
    lines.push(`  ${multi ? `volume:${d.volume} ` : ''}disk:${d.disk}${d.open ? ' open:yes' : ''}`);
  }
  for (const c of r.connections) {
    if (c.connection !== 'Connected') {
      let line = `  ${c.connName} connection:${c.connection}`;
      if (c.splitBrain) line += ' split-brain:yes';
      lines.push(line);
      for (const p of c.peerDevices) if (p.peerDisk === 'Outdated') lines.push(`    ${multi ? `volume:${p.volume} ` : ''}peer-disk:Outdated`);
      continue;
    }
    lines.push(`  ${c.connName} role:${c.role}`);
    for (const p of c.peerDevices) {
      const parts: string[] = [];
      if (multi) parts.push(`volume:${p.volume}`);
      if (p.replication !== 'Established') parts.push(`replication:${p.replication}`);
      parts.push(`peer-disk:${p.peerDisk}`);
      if (p.resyncSuspended !== 'no') parts.push(`resync-suspended:${p.resyncSuspended}`);
      if (p.done !== undefined && p.replication !== 'Established') parts.push(`done:${p.done.toFixed(2)}`);
      lines.push(`    ${parts.join(' ')}`);
    }
  }
  const sa = r.target?.serviceAddress;
  if (sa) lines.push(`# service-address: ${sa.address}${sa.interface ? ` on ${sa.interface}` : ''} held:${sa.held ? 'yes' : 'no'} target:${r.target!.state}`);
  const exposed = exposureWarning(r.name, r.target);
  if (exposed) lines.push(`# warning: ${exposed}`);
  const readable = secretFileWarning(r.name, r.configFile, r.configExposed, r.configExposedFile);
  if (readable) lines.push(`# warning: ${readable}`);
  const bare = unauthenticatedWarning(r.name, r.configFile, r.peerAuthenticated);
  if (bare) lines.push(`# warning: ${bare}`);
  for (const o of r.ignored ?? []) lines.push(`# ${ignoredText(o)}`);
  return lines.map(line).join('');
}

export function statusText(snap: AgentSnapshot, resource?: string): string {
  const chunks = snap.resources.filter((r) => !resource || r.name === resource).map(resourceText);
  const notUp = (snap.notUp ?? []).filter((n) => !resource || n.name === resource);
  if (notUp.length > 0) chunks.push(notUp.map((n) => line(`# not up: ${notUpLine(n)}`)).join(''));
  for (const e of snap.configErrors) chunks.push(line(`# config error: ${e.file}:${e.line}:${e.col}: ${e.message}`));
  return chunks.join('\n');
}
