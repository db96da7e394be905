// A thin wrapper over ECharts: the option comes from a pure builder in ./options (tested by
// Vitest); this component only mounts, updates and disposes the chart.
import type { EChartsCoreOption, ECharts } from "echarts/core";
import { useEffect, useRef, useState } from "react";

/** ECharts itself (~675 kB), asked for only once a chart's page has painted its numbers: its
 * download, parse and set-up (hundreds of ms of main thread on a busy machine) then never come
 * between the page's answer and the frame that shows the figures and tables beside the chart. */
let loading: Promise<typeof import("./echarts")> | null = null;
export const loadECharts = () => (loading ??= import("./echarts"));

/** Resolves after the browser has painted what React just committed and one more frame has
 * begun: a chart draws (tens to hundreds of ms of main thread) only then, so the numbers
 * committed with it are on screen first, and so is anything the page does right after that
 * paint (the second frame leaves the tasks queued after the first one to run first). */
const afterPaint = () =>
  new Promise<void>((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(resolve, 0))));

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
  const [drawn, setDrawn] = useState(false);

  useEffect(() => {
    let gone = false;
    let cleanup = () => {};
    const draw = async () => {
      await afterPaint();
      const { init } = await loadECharts();
      await afterPaint(); // the module's set-up was a long task: let the page paint again first
      if (gone || !el.current) return;
      const c = init(el.current, undefined, { renderer: "svg" });
      chart.current = c;
      c.on("click", (p) => click.current?.(p as unknown as ChartClick));
      c.setOption(latest.current, { notMerge: true });
      setDrawn(true);
      const resize = new ResizeObserver(() => c.resize());
      resize.observe(el.current);
      cleanup = () => {
        resize.disconnect();
        c.dispose();
        chart.current = null;
      };
    };
    void draw();
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
    <div className="chart-box" style={{ height }}>
      <div ref={el} className="chart" role="img" aria-label={label} style={{ height, cursor: onClick ? "pointer" : undefined }} />
      {drawn ? null : (
        <p className="chart-wait" aria-hidden="true">
          Drawing the chart…
        </p>
      )}
    </div>
  );
}
