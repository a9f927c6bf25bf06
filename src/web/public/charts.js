// The two uPlot charts of the dashboard (requests per second with the forecast band, and backends
// desired vs ready), sharing a cursor, with a "now" line; resized with their container.
import uPlot from '/dashboard/assets/uPlot.esm.js';

const COLORS = {
  observed: '#2563eb',
  forecast: '#d97706',
  band: 'rgba(245, 158, 11, 0.25)',
  capacity: '#059669',
  desired: '#7c3aed',
  readyFill: 'rgba(5, 150, 105, 0.12)',
  now: '#475467',
  ahead: 'rgba(71, 84, 103, 0.06)',
};

/** x-axis labels as wall-clock time (HH:MM:SS), no dates: the charts span minutes to hours. */
const clock = (_u, splits) => splits.map((v) => new Date(v * 1000).toLocaleTimeString([], { hour12: false }));

export const fmtRps = (v) => (v == null ? '–' : v >= 10 ? v.toFixed(0) : v.toFixed(1));

/** uPlot plugin: a dashed line at now and a light shade over the part ahead of it. */
function nowLine(nowT) {
  return {
    hooks: {
      drawAxes: (u) => {
        const t = nowT();
        if (t == null) return;
        const x = u.valToPos(t / 1000, 'x', true);
        const { left, top, width, height } = u.bbox;
        if (x < left || x > left + width) return;
        const ctx = u.ctx;
        ctx.save();
        ctx.fillStyle = COLORS.ahead;
        ctx.fillRect(x, top, left + width - x, height);
        ctx.strokeStyle = COLORS.now;
        ctx.setLineDash([4, 4]);
        ctx.lineWidth = devicePixelRatio;
        ctx.beginPath();
        ctx.moveTo(x, top);
        ctx.lineTo(x, top + height);
        ctx.stroke();
        ctx.setLineDash([]);
        ctx.fillStyle = COLORS.now;
        ctx.font = `${11 * devicePixelRatio}px sans-serif`;
        ctx.fillText('now', x + 4 * devicePixelRatio, top + 12 * devicePixelRatio);
        ctx.restore();
      },
    },
  };
}

const stepped = uPlot.paths.stepped({ align: 1 });

/**
 * Build both charts into `rpsEl` and `capacityEl`. Series, in data order: rps chart [x, forecast
 * upper, forecast point, offered, ready capacity at target] (band between upper and point);
 * capacity chart [x, ready, desired]. `nowT()` gives the start of the current interval, epoch ms.
 */
export function makeCharts(meta, rpsEl, capacityEl, nowT) {
  const q = `p${Math.round(meta.quantile * 100)}`;
  const width = rpsEl.clientWidth || 1000;
  const rps = new uPlot({
    width,
    height: 300,
    cursor: { sync: { key: 'prescale' } },
    scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.08)] } },
    axes: [{ values: clock, space: 70 }, { label: 'requests / s', size: 60 }],
    series: [
      {},
      { label: `forecast ${q}`, stroke: COLORS.forecast, width: 1, value: (_u, v) => fmtRps(v) },
      { label: 'forecast point', stroke: COLORS.forecast, width: 1.5, dash: [6, 4], value: (_u, v) => fmtRps(v) },
      { label: 'offered', stroke: COLORS.observed, width: 2, value: (_u, v) => fmtRps(v) },
      { label: 'ready capacity at target', stroke: COLORS.capacity, width: 2, paths: stepped, spanGaps: true, value: (_u, v) => fmtRps(v) },
    ],
    bands: [{ series: [1, 2], fill: COLORS.band }],
    plugins: [nowLine(nowT)],
  }, [[], [], [], [], []], rpsEl);
  const capacity = new uPlot({
    width,
    height: 170,
    cursor: { sync: { key: 'prescale' } },
    scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(2, max + 1)] } },
    axes: [{ values: clock, space: 70 }, { label: 'backends', size: 60, incrs: [1, 2, 5, 10, 20, 50] }],
    series: [
      {},
      { label: 'ready', stroke: COLORS.capacity, fill: COLORS.readyFill, width: 2, paths: stepped, spanGaps: true },
      // drawn last: visible where it equals ready
      { label: 'desired', stroke: COLORS.desired, width: 2, paths: stepped, spanGaps: true },
    ],
    plugins: [nowLine(nowT)],
  }, [[], [], []], capacityEl);
  new ResizeObserver(() => {
    const w = rpsEl.clientWidth;
    if (w > 0 && w !== rps.width) {
      rps.setSize({ width: w, height: 300 });
      capacity.setSize({ width: w, height: 170 });
    }
  }).observe(rpsEl);
  return { rps, capacity };
}
