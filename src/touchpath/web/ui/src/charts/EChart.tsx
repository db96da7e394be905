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

/** Whether `node` is in the document and has an area to draw in. A chart asked to lay out in
 * no area fails inside ECharts: a page being left is out of the document before React runs its
 * effects' clean-ups, a ResizeObserver (or a draw a frame later) can run in between, ECharts
 * measures the detached element 0 px wide, and a Sankey's view transform then has no inverse
 * ("Cannot read properties of null (reading '0')" from `_updateViewCoordSys`). A page hidden
 * by Suspense (display: none) while the next one's code loads is waited out the same way. */
const hasArea = (node: HTMLElement) => node.isConnected && node.clientWidth > 0 && node.clientHeight > 0;

export function EChart({ option, label, height = 280, onClick }: Props) {
  const el = useRef<HTMLDivElement>(null);
  const chart = useRef<ECharts | null>(null);
  /** An option not yet drawn because the chart had no area when it came: drawn once it has. */
  const stale = useRef(false);
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
      const node = el.current;
      if (gone || !node) return;
      const c = init(node, undefined, { renderer: "svg" });
      chart.current = c;
      c.on("click", (p) => click.current?.(p as unknown as ChartClick));
      stale.current = true;
      const fit = () => {
        if (c.isDisposed() || !hasArea(node)) return; // hidden or leaving: draw when shown again
        if (stale.current) {
          stale.current = false;
          c.setOption(latest.current, { notMerge: true });
          setDrawn(true);
        } else {
          c.resize();
        }
      };
      fit();
      const resize = new ResizeObserver(fit);
      resize.observe(node);
      cleanup = () => {
        resize.disconnect();
        chart.current = null;
        c.dispose();
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
      const c = chart.current;
      if (gone || !c || c.isDisposed()) return;
      if (el.current && hasArea(el.current)) {
        stale.current = false;
        c.setOption(option, { notMerge: true });
      } else {
        stale.current = true; // the ResizeObserver draws it once the chart has an area again
      }
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
