// Reads over many VMs (listing, metrics) and the console of one.

import { HypervisorError } from "../errors.ts";
import type { ConsoleInfo, ListFilter, VmMetrics, VmStatus } from "../types.ts";
import { validateVmId } from "../validation.ts";
import { parseDomainXml } from "./domain-xml/index.ts";
import { invalidState, startedExtras, vmCall, type LibvirtContext } from "./context.ts";
import { DOMAIN_XML } from "./ffi/flags.ts";
import { isActiveState, vmStateOf } from "./state-map.ts";
import { statusOf, tryParse } from "./status.ts";
import { metricsOfFigures } from "./vm-figures.ts";

function matches(status: VmStatus, filter: ListFilter | undefined): boolean {
  if (filter?.states?.length && !filter.states.includes(status.state)) return false;
  for (const [k, v] of Object.entries(filter?.labelSelector ?? {})) if (status.spec.labels[k] !== v) return false;
  return true;
}

export async function listVms(ctx: LibvirtContext, filter?: ListFilter): Promise<VmStatus[]> {
  const raws = await ctx.pool.call("domains", DOMAIN_XML.INACTIVE);
  // A full listing is every domain there is: parses of any other are of domains gone.
  ctx.parsed.retainOnly(new Set(raws.map((r) => r.uuid)));
  const out: VmStatus[] = [];
  for (const raw of raws) {
    const parsed = tryParse(ctx.parsed, raw);
    if (!parsed) {
      ctx.log.debug(`skipping domain ${raw.name} (${raw.uuid}): its XML is not one this backend can read`);
      continue;
    }
    const status = statusOf(raw, parsed, ctx.cpu, startedExtras(ctx, raw.uuid, raw.state));
    if (matches(status, filter)) out.push(status);
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * Every VM's figures from one bulk statistics call (no domain XML read or parsed): a metrics
 * tick costs one libvirt RPC whatever the number of VMs (bench/README.md, "A host's shape").
 */
export async function vmMetrics(ctx: LibvirtContext, ids?: string[]): Promise<VmMetrics[]> {
  const wanted = ids ? new Set(ids) : undefined;
  const figures = await ctx.pool.call("vmFigures", ctx.sizes.known());
  ctx.sizes.update(figures);
  const out: VmMetrics[] = [];
  for (const f of figures) {
    if (!wanted || wanted.has(f.uuid)) out.push(metricsOfFigures(f, ctx.cpu));
  }
  return out;
}

export async function getConsole(ctx: LibvirtContext, id: string): Promise<ConsoleInfo> {
  validateVmId(id);
  // The live XML has the port QEMU got; SECURE adds the password.
  const raw = await vmCall(ctx, id, "domain", id, DOMAIN_XML.SECURE);
  const state = vmStateOf(raw.state, raw.reason);
  if (!isActiveState(raw.state)) throw invalidState(id, state, "the console exists only while it runs; start it first");
  const c = parseDomainXml(raw.xml).console;
  if (!c) throw invalidState(id, state, "it has no graphical console (console type none)");
  if (c.port === undefined || c.port <= 0) {
    throw new HypervisorError("unavailable", `vm ${id} has no ${c.type} port yet (the ${ctx.host.driverType} driver did not allocate one)`);
  }
  // A wildcard listen stays a wildcard: the API announces it at the node's management address.
  const info: ConsoleInfo = { type: c.type, host: c.listen ?? ctx.settings.consoleListen, port: c.port };
  if (c.password !== undefined) info.password = c.password;
  if (c.tlsPort !== undefined && c.tlsPort > 0) info.tlsPort = c.tlsPort;
  return info;
}
