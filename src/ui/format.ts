// Pure formatting of the daemon's JSON figures (uint64 arrive as strings in proto3 JSON).

export function num(v: string | number | undefined | null): number {
  if (v === undefined || v === null || v === "") return 0;
  return typeof v === "number" ? v : Number(v);
}

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

export function bytes(v: string | number | undefined): string {
  let n = num(v);
  let i = 0;
  while (n >= 1024 && i < UNITS.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? n : n.toFixed(1)} ${UNITS[i]}`;
}

export function percent(part: number, whole: number): number {
  return whole > 0 ? Math.min(100, Math.max(0, (part / whole) * 100)) : 0;
}

export function pct(v: number | undefined): string {
  return `${(v ?? 0).toFixed(1)} %`;
}

/** "POWER_STATE_RUNNING" -> "running". */
export function powerState(s: string | undefined): string {
  return (s ?? "POWER_STATE_UNKNOWN").replace(/^POWER_STATE_/, "").toLowerCase();
}

/** "EVENT_TYPE_VM_STARTED" -> "vm started". */
export function eventType(s: string | undefined): string {
  return (s ?? "EVENT_TYPE_UNKNOWN")
    .replace(/^EVENT_TYPE_/, "")
    .replaceAll("_", " ")
    .toLowerCase();
}

export function duration(seconds: string | number | undefined): string {
  let s = Math.floor(num(seconds));
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  return d > 0 ? `${d}d ${hh}h ${mm}m` : hh > 0 ? `${hh}h ${mm}m` : `${mm}m ${s % 60}s`;
}

export function time(iso: string | undefined): string {
  if (!iso) return "—";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}
