// Charts are uPlot's (canvas, no inline styles or scripts, so the CSP
// holds): time series and categorical bars, sized to their container.
import uPlot from 'uplot';

export const palette = ['#2563eb', '#dc2626', '#16a34a', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#4b5563', '#65a30d', '#9333ea'];

const height = 220;

function sized(container, opts, data) {
  const width = Math.max(240, container.clientWidth || 320);
  const u = new uPlot({ ...opts, width, height }, data, container);
  const ro = new ResizeObserver(() => {
    const w = Math.max(240, container.clientWidth);
    if (w !== u.width) u.setSize({ width: w, height });
  });
  ro.observe(container);
  u.meridianObserver = ro;
  return u;
}

export function destroy(u) {
  if (!u) return;
  u.meridianObserver.disconnect();
  u.destroy();
}

// timeChart draws lines over time: xs in seconds, one ys array per series.
export function timeChart(container, labels, xs, ys, { bars = false } = {}) {
  const series = [{}];
  labels.forEach((label, i) => {
    const s = { label, stroke: palette[i % palette.length], width: 2 };
    if (bars) {
      s.paths = uPlot.paths.bars({ size: [0.8, 40] });
      s.fill = `${palette[i % palette.length]}99`;
    }
    series.push(s);
  });
  return sized(container, { series, scales: { x: { time: true } }, axes: [{}, { size: 60 }], legend: { live: true } }, [xs, ...ys]);
}

// barChart draws one bar per label.
export function barChart(container, labels, values, label, color = palette[0]) {
  const xs = labels.map((_, i) => i);
  const opts = {
    series: [
      { label: 'bucket', value: (_, i) => (i === null || labels[i] === undefined ? '–' : labels[i]) },
      { label, stroke: color, fill: `${color}aa`, paths: uPlot.paths.bars({ size: [0.7, 60] }), points: { show: false } },
    ],
    scales: { x: { time: false, range: [-0.5, labels.length - 0.5] } },
    axes: [
      { splits: () => xs, values: (_, splits) => splits.map((i) => shorten(labels[i] ?? '')), rotate: labels.length > 8 ? -45 : 0, size: labels.length > 8 ? 60 : 40 },
      { size: 60 },
    ],
    cursor: { points: { show: false } },
    legend: { live: true },
  };
  return sized(container, opts, [xs, values]);
}

function shorten(s) {
  return s.length > 12 ? `${s.slice(0, 11)}…` : s;
}
