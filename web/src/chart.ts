// The collateral ratio over time, drawn as SVG (no chart library): one point per attestation, then now.
// Ratios are parsed to numbers for placing points only; every figure shown is the published decimal text.

const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 640;
const HEIGHT = 160;
const PAD = 36;

function node(tag: string, attributes: Record<string, string | number>): SVGElement {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  return element;
}

export function chart(symbol: string, points: { label: string; ratio: string }[]): SVGSVGElement {
  const svg = node("svg", { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, class: "chart", role: "img" }) as SVGSVGElement;
  svg.dataset.symbol = symbol;
  svg.dataset.points = String(points.length);
  const title = node("title", {});
  title.textContent = `${symbol}: collateral ratio at each attestation and now`;
  svg.appendChild(title);
  const values = points.map((p) => Number(p.ratio));
  const low = Math.min(0.95, ...values);
  const high = Math.max(1.05, ...values);
  const y = (v: number): number => HEIGHT - PAD / 2 - ((v - low) / (high - low)) * (HEIGHT - PAD);
  const x = (i: number): number => (points.length < 2 ? WIDTH / 2 : PAD + (i * (WIDTH - 2 * PAD)) / (points.length - 1));
  // Full backing (ratio 1) as the reference line: below it the tokens are not fully backed.
  svg.appendChild(node("line", { x1: PAD, x2: WIDTH - PAD / 2, y1: y(1), y2: y(1), class: "par" }));
  const par = node("text", { x: 2, y: y(1) + 4, class: "axis" });
  par.textContent = "1.0";
  svg.appendChild(par);
  for (const [value, text] of [[high, high.toFixed(2)], [low, low.toFixed(2)]] as [number, string][]) {
    const label = node("text", { x: 2, y: y(value) + 4, class: "axis" });
    label.textContent = text;
    svg.appendChild(label);
  }
  if (points.length > 1) {
    svg.appendChild(node("polyline", { points: values.map((v, i) => `${x(i)},${y(v)}`).join(" "), class: "ratio" }));
  }
  points.forEach((p, i) => {
    const dot = node("circle", { cx: x(i), cy: y(values[i]), r: 3.5, class: values[i] < 1 ? "dot short" : "dot" });
    const tip = node("title", {});
    tip.textContent = `${p.label}: ${p.ratio}`;
    dot.appendChild(tip);
    svg.appendChild(dot);
  });
  // The ends of the time axis: the first attestation charted, and the last point (usually now).
  if (points.length > 1) {
    for (const [i, anchor] of [[0, "start"], [points.length - 1, "end"]] as [number, string][]) {
      const end = node("text", { x: x(i), y: HEIGHT - 2, class: "axis", "text-anchor": anchor });
      end.textContent = points[i].label.split(" · ")[0];
      svg.appendChild(end);
    }
  }
  if (!points.length) {
    const none = node("text", { x: WIDTH / 2, y: HEIGHT / 2, class: "axis", "text-anchor": "middle" });
    none.textContent = "no supply yet";
    svg.appendChild(none);
  }
  return svg;
}
