// A thin wrapper over ECharts: the option comes from a pure builder in ./options (tested by
// Vitest); this component only mounts, updates and disposes the chart.
import type { EChartsCoreOption, ECharts } from "echarts/core";
import { useEffect, useRef } from "react";

/** ECharts itself, asked for as soon as a page that draws charts loads (beside the page's own
 * requests), and awaited only by the charts: the page's numbers do not wait for it. */
let loading: Promise<typeof import("./echarts")> | null = null;
export const loadECharts = () => (loading ??= import("./echarts"));
void loadECharts();

/** Resolves once the browser has painted what React just committed. A chart draws (tens to
 * hundreds of ms of main thread for ECharts) only after that, so the numbers committed with it
 * (the tables and figures beside it) are on screen first, not held back until it is drawn. */
const afterPaint = () => new Promise<void>((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));

export type ChartOption = EChartsCoreOption;

export interface ChartClick {
  name: string;
  seriesName?: string;
  dataIndex: number;
  value: unknown;
}

interface Props {
  option: ChartOption;
  /** What the chart shows, read by screen readers. */
  label: string;
  height?: number;
  onClick?: (p: ChartClick) => void;
}

export function EChart({ option, label, height = 280, onClick }: Props) {
  const el = useRef<HTMLDivElement>(null);
  const chart = useRef<ECharts | null>(null);
  const latest = useRef(option);
  latest.current = option;
  const click = useRef(onClick);
  click.current = onClick;

  useEffect(() => {
    let gone = false;
    let cleanup = () => {};
    void Promise.all([loadECharts(), afterPaint()]).then(([{ init }]) => {
      if (gone || !el.current) return;
      const c = init(el.current, undefined, { renderer: "svg" });
      chart.current = c;
      c.on("click", (p) => click.current?.(p as unknown as ChartClick));
      c.setOption(latest.current, { notMerge: true });
      const resize = new ResizeObserver(() => c.resize());
      resize.observe(el.current);
      cleanup = () => {
        resize.disconnect();
        c.dispose();
        chart.current = null;
      };
    });
    return () => {
      gone = true;
      cleanup();
    };
  }, []);

  useEffect(() => {
    let gone = false;
    void afterPaint().then(() => {
      if (!gone) chart.current?.setOption(option, { notMerge: true });
    });
    return () => {
      gone = true;
    };
  }, [option]);

  return (
    <div
      ref={el}
      className="chart"
      role="img"
      aria-label={label}
      style={{ height, cursor: onClick ? "pointer" : undefined }}
    />
  );
}
