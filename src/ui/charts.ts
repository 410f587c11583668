// Usage rings (SVG) and time-series charts (uPlot: ~50 KiB, no framework).

import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { h } from "./dom.ts";

const SVG = "http://www.w3.org/2000/svg";

function svg(tag: string, attrs: Record<string, string | number>): SVGElement {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

/** A ring showing `value` percent, with a label and a caption under it. */
export function ring(label: string, value: number, caption: string, testid: string): HTMLElement {
  const r = 42;
  const circumference = 2 * Math.PI * r;
  const box = svg("svg", { viewBox: "0 0 100 100", width: 120, height: 120, role: "img", "aria-label": `${label} ${value.toFixed(1)} %` });
  box.append(
    svg("circle", { cx: 50, cy: 50, r, class: "ring-bg" }),
    svg("circle", {
      cx: 50,
      cy: 50,
      r,
      class: value >= 90 ? "ring-fg hot" : "ring-fg",
      "stroke-dasharray": `${(circumference * value) / 100} ${circumference}`,
      transform: "rotate(-90 50 50)",
    }),
  );
  const text = svg("text", { x: 50, y: 55, "text-anchor": "middle", class: "ring-text" });
  text.textContent = `${Math.round(value)}%`;
  box.append(text);
  return h(
    "figure",
    { class: "ring", "data-testid": testid, "data-value": value.toFixed(2) },
    box,
    h("figcaption", {}, h("strong", {}, label), h("br", {}), caption),
  );
}

export interface Series {
  label: string;
  /** Formats the axis and legend values. */
  unit?: (v: number) => string;
}

/** A chart of several series over time that new points can be pushed to. */
export class TimeChart {
  readonly el: HTMLElement;
  private plot: uPlot | undefined;
  private data: (number | null)[][];

  /** `windowSeconds`: the x axis always shows the last that many seconds, up to now. */
  constructor(
    title: string,
    series: Series[],
    private readonly windowSeconds = 120,
    height = 140,
  ) {
    this.el = h("div", { class: "chart" }, h("h3", {}, title));
    this.data = [[], ...series.map(() => [])];
    const fmt = series[0]?.unit ?? ((v: number) => v.toFixed(1));
    const opts: uPlot.Options = {
      width: 360,
      height,
      legend: { show: true },
      cursor: { show: true, drag: { x: false, y: false } },
      // The last `windowSeconds` up to now; on a host up for less, the time it has data for.
      scales: { x: { time: true, range: () => this.xRange() } },
      axes: [{}, { values: (_u, ticks) => ticks.map((t) => fmt(t)), size: 80 }],
      series: [
        {},
        ...series.map((s, i) => ({
          label: s.label,
          stroke: COLOURS[i % COLOURS.length],
          width: 1.5,
          value: (_u: uPlot, v: number | null) => (v === null ? "—" : (s.unit ?? fmt)(v)),
        })),
      ],
    };
    // uPlot measures its parent: create it once the element is in the document.
    queueMicrotask(() => {
      this.plot = new uPlot(opts, this.data as uPlot.AlignedData, this.el);
      const resize = () => this.plot?.setSize({ width: Math.max(240, this.el.clientWidth - 8), height });
      resize();
      new ResizeObserver(resize).observe(this.el);
    });
  }

  private xRange(): [number, number] {
    const now = Date.now() / 1000;
    const oldest = this.data[0]?.[0];
    return [Math.max(now - this.windowSeconds, Math.min(oldest ?? now - 60, now - 60)), now];
  }

  /** Replaces every point (t in seconds). */
  set(times: number[], values: (number | null)[][]): void {
    this.data = [times, ...values];
    this.plot?.setData(this.data as uPlot.AlignedData);
  }

  push(t: number, values: (number | null)[]): void {
    this.data[0]?.push(t);
    for (const [i, v] of values.entries()) this.data[i + 1]?.push(v);
    const oldest = t - this.windowSeconds;
    while ((this.data[0]?.[0] ?? t) < oldest) for (const col of this.data) col.shift();
    this.plot?.setData(this.data as uPlot.AlignedData);
  }
}

const COLOURS = ["#2563eb", "#dc2626", "#16a34a", "#9333ea"];
