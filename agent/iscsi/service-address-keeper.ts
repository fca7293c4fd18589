// The daemon's side of the service addresses: per resource, what this host holds, the claim
// that target start makes before adding one, the gratuitous ARP after it, and the removal
// whenever this host stops serving. The decisions are service-address-decision.ts's, the
// commands service-address.ts's; this keeps the state between them and says what it did.
import type { ServiceAddressConfig } from '../config/types.js';
import { AgentError, type ServiceAddressState } from '../protocol/messages.js';
import { type Role } from '../drbd-states.js';
import { ServiceAddressTools } from './service-address.js';
import { chooseInterface, claimRefusal, formatServiceAddress, heldOn, settle, wantsAddress, type ClaimFacts } from './service-address-decision.js';

export class ServiceAddressKeeper {
  /** The interface each resource's address goes on and whether this host holds it, as last found or made. */
  private readonly known = new Map<string, { interface: string; held: boolean }>();
  /** Gratuitous ARP still going out per resource. */
  private readonly announcements = new Map<string, AbortController>();

  private unwatch?: () => void;

  /** `log('', line)` for lines about the host rather than one resource. */
  constructor(private readonly log: (resource: string, line: string) => void) {}

  /**
   * Watches the host's addresses, so that `held` stays true when someone else adds or removes
   * one: `changed` runs (at most every 100 ms) after any address change. Idempotent.
   */
  async watch(changed: () => void): Promise<void> {
    if (this.unwatch) return;
    const tools = await ServiceAddressTools.find();
    if ('missing' in tools || this.unwatch) return;
    let timer: NodeJS.Timeout | undefined;
    this.unwatch = tools.monitor(
      () => {
        timer ??= setTimeout(() => {
          timer = undefined;
          changed();
        }, 100);
      },
      (why) => {
        this.log('', `warn: cannot watch the addresses of this host (${why}): a service address changed by hand shows at the next target start or stop`);
        this.unwatch = undefined;
      },
    );
  }

  stopWatching(): void {
    this.unwatch?.();
    this.unwatch = undefined;
  }

  /** Reads whether this host holds the address now; true when that changed. */
  async look(resource: string, sa: ServiceAddressConfig): Promise<boolean> {
    const tools = await ServiceAddressTools.find();
    if ('missing' in tools) return false;
    const on = heldOn(await tools.interfaces().catch(() => undefined) ?? [], sa.address);
    const before = this.known.get(resource);
    const now = { interface: on ?? before?.interface ?? sa.interface ?? '', held: on !== undefined };
    this.known.set(resource, now);
    return before?.held !== now.held || before?.interface !== now.interface;
  }

  /** What the target snapshot shows. */
  state(resource: string, sa: ServiceAddressConfig): ServiceAddressState {
    const k = this.known.get(resource);
    return { address: formatServiceAddress(sa), interface: k?.interface ?? sa.interface ?? '', held: k?.held ?? false };
  }

  /**
   * Before the target takes the address: the tools are there, the interface is known, the peer
   * is not Primary, and nobody answers for it (duplicate address detection). Then it is added
   * here; returns its interface. Refusals are AgentErrors in the words of claimRefusal.
   */
  async claim(resource: string, sa: ServiceAddressConfig, peer: { name: string; role: Role }): Promise<string> {
    const found = await ServiceAddressTools.find();
    const facts: ClaimFacts = { resource, sa, missingPackages: 'missing' in found ? found.missing : [], peer };
    const refuse = () => {
      const why = claimRefusal(facts);
      if (why) throw new AgentError('refused', why);
    };
    refuse();
    // refuse() threw when a tool is missing.
    const tools = found as ServiceAddressTools;
    facts.iface = chooseInterface(await tools.interfaces().catch(ioError(resource)), sa);
    refuse();
    const iface = 'name' in facts.iface ? facts.iface.name : '';
    facts.answeredBy = await tools.whoAnswers(iface, sa.address).catch(ioError(resource));
    if (facts.answeredBy !== undefined) this.log(resource, `alert: ${claimRefusal(facts)}`);
    refuse();
    await tools.add(sa, iface).catch(ioError(resource));
    this.known.set(resource, { interface: iface, held: true });
    this.log(resource, `service address ${formatServiceAddress(sa)} added on ${iface}`);
    return iface;
  }

  /** Gratuitous ARP once the portal listens; ended early if the address goes meanwhile. */
  async announce(resource: string, sa: ServiceAddressConfig, iface: string): Promise<void> {
    const tools = await ServiceAddressTools.find();
    const stop = new AbortController();
    this.announcements.get(resource)?.abort();
    this.announcements.set(resource, stop);
    const problem = 'missing' in tools ? 'arping is missing' : await tools.announce(iface, sa.address, stop.signal);
    if (this.announcements.get(resource) === stop) this.announcements.delete(resource);
    if (problem) this.log(resource, `warn: gratuitous ARP for ${sa.address} on ${iface} failed (initiators may reach this host only after their ARP caches expire): ${problem}`);
  }

  /**
   * Removes the address if this host holds it but does not serve behind it (not Primary, or no
   * target running). Never adds it: that is claim's, after its checks. A failure is logged and
   * left visible (held), not thrown: the step that called this (stop, demote, down) has happened.
   */
  async settle(resource: string, sa: ServiceAddressConfig, now: { role: Role; targetRunning: boolean }, why: string): Promise<void> {
    const wanted = wantsAddress(now.role, now.targetRunning);
    try {
      const tools = await ServiceAddressTools.find();
      // Without ip this host cannot have added it.
      if ('missing' in tools) return;
      const on = heldOn(await tools.interfaces(), sa.address);
      const iface = on ?? this.known.get(resource)?.interface ?? sa.interface ?? '';
      this.known.set(resource, { interface: iface, held: on !== undefined });
      if (!on || settle(wanted, true) !== 'remove') return;
      // An announcement from a host that no longer holds the address reads as a conflict to the next holder's detection.
      this.announcements.get(resource)?.abort();
      this.announcements.delete(resource);
      await tools.remove(sa, on);
      this.known.set(resource, { interface: iface, held: false });
      this.log(resource, `service address ${formatServiceAddress(sa)} removed from ${on}: ${why}`);
    } catch (e) {
      this.log(resource, `alert: cannot remove service address ${formatServiceAddress(sa)} (${why}): ${(e as Error).message}; remove it by hand (ip addr del ${formatServiceAddress(sa)} dev IF) or initiators keep coming here`);
    }
  }
}

function ioError(resource: string): (e: Error) => never {
  return (e) => {
    throw new AgentError('io', `${resource}: service address: ${e.message}`);
  };
}
