// Small generated photos for the demo's traffic: a JPEG drawn per QA step from a simple SVG scene by sharp (the
// image library Baileys itself uses for thumbnails), stamped with its drop number and time so no two are alike.
import sharp from "sharp";
import type { QaStepKey } from "@wa-monitor/shared";

const W = 640;
const H = 480;

// Each scene is a few shapes on a coloured ground: enough to tell the steps apart in the dashboard's grid.
const SCENES: Record<QaStepKey, string> = {
  house_photo: `<rect y="300" width="${W}" height="180" fill="#6b8f4e"/><polygon points="170,230 320,110 470,230" fill="#9c3d2e"/><rect x="200" y="230" width="240" height="170" fill="#e9dfc9"/><rect x="300" y="300" width="45" height="100" fill="#5a3b22"/>`,
  cable_from_pole: `<rect x="120" y="60" width="22" height="420" fill="#6e4b2a"/><path d="M131 90 Q 340 260 560 230" stroke="#111" stroke-width="5" fill="none"/><rect x="520" y="200" width="120" height="280" fill="#d9d0bd"/>`,
  cable_entry_outside: `<rect width="${W}" height="${H}" fill="#cfc3a8"/><path d="M0 120 H 330 V 300" stroke="#111" stroke-width="7" fill="none"/><circle cx="330" cy="310" r="18" fill="#444"/>`,
  cable_entry_inside: `<rect width="${W}" height="${H}" fill="#efe9dc"/><circle cx="330" cy="170" r="16" fill="#555"/><path d="M330 186 V 330 H 520" stroke="#eee" stroke-width="7" fill="none"/><path d="M330 186 V 330 H 520" stroke="#222" stroke-width="2" fill="none"/>`,
  wall_for_installation: `<rect width="${W}" height="${H}" fill="#e7e1d3"/><rect x="220" y="140" width="200" height="150" fill="none" stroke="#b23" stroke-width="4" stroke-dasharray="12 8"/>`,
  ont_back_after_install: `<rect width="${W}" height="${H}" fill="#e9e6df"/><rect x="170" y="150" width="300" height="170" rx="14" fill="#fafafa" stroke="#999"/><circle cx="230" cy="280" r="9" fill="#333"/><circle cx="270" cy="280" r="9" fill="#333"/><rect x="330" y="270" width="40" height="22" fill="#333"/>`,
  power_meter_reading: `<rect width="${W}" height="${H}" fill="#d8d8d0"/><rect x="200" y="100" width="240" height="280" rx="10" fill="#f5f5f0" stroke="#777"/><rect x="235" y="160" width="170" height="50" fill="#233" /><text x="320" y="195" font-size="30" font-family="monospace" fill="#7f7" text-anchor="middle">04712.3</text>`,
  ont_barcode: `<rect width="${W}" height="${H}" fill="#fafafa"/>${Array.from({ length: 40 }, (_, i) => `<rect x="${140 + i * 9}" y="160" width="${(i * 7) % 4 + 2}" height="140" fill="#111"/>`).join("")}`,
  ups_serial: `<rect width="${W}" height="${H}" fill="#dcdcdc"/><rect x="190" y="120" width="260" height="250" rx="8" fill="#2b2b2b"/><text x="320" y="260" font-size="26" font-family="monospace" fill="#fff" text-anchor="middle">SN 4C1A-99</text>`,
  final_installation: `<rect width="${W}" height="${H}" fill="#ece6d8"/><rect x="160" y="140" width="320" height="190" rx="12" fill="#fff" stroke="#aaa"/><path d="M0 240 H 160" stroke="#222" stroke-width="5"/><circle cx="220" cy="200" r="7" fill="#2c2"/>`,
  green_lights: `<rect width="${W}" height="${H}" fill="#1f2326"/><rect x="150" y="190" width="340" height="100" rx="12" fill="#ddd"/>${[0, 1, 2, 3].map((i) => `<circle cx="${200 + i * 80}" cy="240" r="14" fill="#3e3"/>`).join("")}`,
  customer_signature: `<rect width="${W}" height="${H}" fill="#fdfdf8"/><path d="M140 300 C 200 200, 240 360, 300 260 S 420 220, 500 300" stroke="#1a3b8f" stroke-width="5" fill="none"/><path d="M120 330 H 520" stroke="#999" stroke-width="2"/>`,
};

const escape = (s: string) => s.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);

/** A real JPEG of about 10–20 kB: the step's scene, with a label across the top. */
export async function demoPhoto(step: QaStepKey, label: string): Promise<Buffer> {
  const hue = Math.floor(Math.random() * 360);
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}">
<rect width="${W}" height="${H}" fill="hsl(${hue},35%,78%)"/>${SCENES[step]}
<rect width="${W}" height="44" fill="rgba(0,0,0,.55)"/>
<text x="16" y="30" font-size="22" font-family="sans-serif" fill="#fff">${escape(label)}</text></svg>`;
  return sharp(Buffer.from(svg)).jpeg({ quality: 70 }).toBuffer();
}
