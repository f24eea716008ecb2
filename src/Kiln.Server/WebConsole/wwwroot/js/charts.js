// Time-series charts drawn by uPlot (vendor/uPlot.esm.js); this file only configures them.
import uPlot from '../vendor/uPlot.esm.js';

const COLORS = ['#2563eb', '#db2777', '#059669', '#d97706'];

/**
 * A chart of one or more series over time.
 * spec: { title, unit, minMax?, dots?, series: [{ label, value(point), color?, dash? }] }.
 * Returns { element, update(points) }.
 */
export function timeChart(spec) {
  const element = document.createElement('figure');
  element.className = 'chart';
  const caption = document.createElement('figcaption');
  caption.textContent = spec.title;
  const holder = document.createElement('div');
  holder.setAttribute('role', 'img');
  holder.setAttribute('aria-label', spec.title);
  element.append(caption, holder);
  let plot = null;
  let lastPoints = [];

  const options = (width) => ({
    width,
    height: 170,
    legend: { show: true, live: false },
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(max ?? 0, spec.minMax ?? 1) * 1.1] } },
    axes: [{}, { size: 56, values: (u, ticks) => ticks.map((t) => `${+t.toFixed(3)}${spec.unit ?? ''}`) }],
    series: [{}, ...spec.series.map((s, i) => ({
      label: s.label, stroke: s.color ?? COLORS[i % COLORS.length], width: 2, dash: s.dash, spanGaps: false,
      // Sparse series (latency exists only where requests finished) show their samples as dots.
      points: spec.dots ? { show: true, size: 5, fill: s.color ?? COLORS[i % COLORS.length] } : undefined,
      value: (u, v) => (v === null || v === undefined ? '—' : `${+v.toFixed(3)}${spec.unit ?? ''}`),
    }))],
  });

  const data = (points) => [
    points.map((p) => Date.parse(p.time) / 1000),
    ...spec.series.map((s) => points.map((p) => { const v = s.value(p); return v === undefined ? null : v; })),
  ];

  function width() { return Math.max(260, Math.floor(holder.clientWidth || element.clientWidth || 320)); }

  const resize = new ResizeObserver(() => { if (plot) plot.setSize({ width: width(), height: 170 }); });

  return {
    element,
    update(points) {
      lastPoints = points;
      if (!plot) {
        plot = new uPlot(options(width()), data(points), holder);
        resize.observe(element);
      } else {
        plot.setData(data(lastPoints));
      }
    },
    dispose() { resize.disconnect(); plot?.destroy(); },
  };
}
