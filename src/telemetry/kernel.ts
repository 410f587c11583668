// Hostname, kernel release and machine architecture from /proc/sys/kernel, so a configured proc
// root (a container's /host/proc) reports the host and not the container.

import { type HostIo, type HostRoots, procPath, readOptional } from "./host-io.ts";
import { TelemetryParseError } from "./parse-error.ts";

export interface KernelIdentity {
  hostname: string;
  release: string;
  arch: string;
  /** uname -v ("#1 SMP PREEMPT_DYNAMIC ..."); undefined when the file is absent. */
  version?: string;
  /** NIS domain name; "(none)" when unset, as uname reports it. */
  domainname?: string;
}

/** A one-value sysctl file: the value without its newline; more than one line is an error. */
export function parseSysctlValue(text: string, file: string): string {
  const value = text.replace(/\n$/, "");
  if (value.includes("\n")) throw new TelemetryParseError(file, 2, "expected a single line");
  if (value.trim() === "") throw new TelemetryParseError(file, 1, "empty value");
  return value.trim();
}

const NODE_ARCH_TO_UNAME: Record<string, string> = {
  x64: "x86_64",
  arm64: "aarch64",
  arm: "armv7l",
  ia32: "i686",
  ppc64: "ppc64le",
  s390x: "s390x",
  riscv64: "riscv64",
};

type FixedIdentity = Pick<KernelIdentity, "release" | "arch" | "version">;

/** Release, architecture and build: they change only with a reboot. */
async function readFixedIdentity(io: HostIo, roots: HostRoots): Promise<FixedIdentity> {
  const releaseFile = procPath(roots, "sys/kernel/osrelease");
  const archFile = procPath(roots, "sys/kernel/arch");
  const versionFile = procPath(roots, "sys/kernel/version");
  const [release, arch, version] = await Promise.all([
    io.readText(releaseFile),
    // kernel.arch is recent (present on 6.x); older kernels: the architecture this process runs on.
    readOptional(io, archFile),
    readOptional(io, versionFile),
  ]);
  const out: FixedIdentity = {
    release: parseSysctlValue(release, releaseFile),
    arch: arch === undefined ? (NODE_ARCH_TO_UNAME[process.arch] ?? process.arch) : parseSysctlValue(arch, archFile),
  };
  if (version !== undefined) out.version = parseSysctlValue(version, versionFile);
  return out;
}

/** Host and NIS domain names: an operator may change them at any time. */
async function readNames(io: HostIo, roots: HostRoots): Promise<Pick<KernelIdentity, "hostname" | "domainname">> {
  const hostnameFile = procPath(roots, "sys/kernel/hostname");
  const domainFile = procPath(roots, "sys/kernel/domainname");
  const [hostname, domainname] = await Promise.all([io.readText(hostnameFile), readOptional(io, domainFile)]);
  return {
    hostname: parseSysctlValue(hostname, hostnameFile),
    ...(domainname === undefined ? {} : { domainname: parseSysctlValue(domainname, domainFile) }),
  };
}

export async function readKernelIdentity(io: HostIo, roots: HostRoots): Promise<KernelIdentity> {
  const [fixed, names] = await Promise.all([readFixedIdentity(io, roots), readNames(io, roots)]);
  return { ...names, ...fixed };
}

/**
 * readKernelIdentity for a sampler that runs every second: the names are read each time, the
 * rest once (a failed first read is tried again next time).
 */
export function kernelIdentityReader(io: HostIo, roots: HostRoots): () => Promise<KernelIdentity> {
  let fixed: Promise<FixedIdentity> | undefined;
  return async () => {
    fixed ??= readFixedIdentity(io, roots).catch((err: unknown) => {
      fixed = undefined;
      throw err;
    });
    const [f, names] = await Promise.all([fixed, readNames(io, roots)]);
    return { ...names, ...f };
  };
}
