// Draws the app icons (a smiling face on the app's colour) as PNGs at the
// sizes Android and iOS ask for; the same drawing as web/icons/icon.svg.
// Usage: node make-icons.js OUT_DIR
'use strict';
const fs = require('fs');
const path = require('path');
const { encodePng } = require('./png');

const BACKGROUND = [0x1d, 0x4e, 0x89];
const FACE = [0xff, 0xd1, 0x66];
const INK = [0x1a, 0x1a, 0x2e];

// Shapes in a 0..1 square; later shapes paint over earlier ones. Maskable
// icons keep everything inside the central 80% "safe zone".
function colourAt(x, y) {
  const d = (cx, cy) => Math.hypot(x - cx, y - cy);
  let c = BACKGROUND;
  if (d(0.5, 0.5) < 0.33) c = FACE;
  if (d(0.39, 0.42) < 0.04 || d(0.61, 0.42) < 0.04) c = INK;                        // eyes
  const r = d(0.5, 0.5);
  if (y > 0.52 && r > 0.17 && r < 0.21 && Math.abs(x - 0.5) < 0.17) c = INK;        // smile
  return c;
}

function drawIcon(size) {
  const px = new Uint8Array(size * size * 4);
  const ss = 4;  // 4x4 supersampling for smooth edges
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const sum = [0, 0, 0];
      for (let j = 0; j < ss; j++) {
        for (let i = 0; i < ss; i++) {
          const c = colourAt((x + (i + 0.5) / ss) / size, (y + (j + 0.5) / ss) / size);
          for (let k = 0; k < 3; k++) sum[k] += c[k];
        }
      }
      const o = (y * size + x) * 4;
      for (let k = 0; k < 3; k++) px[o + k] = Math.round(sum[k] / (ss * ss));
      px[o + 3] = 255;
    }
  }
  return encodePng(size, size, 4, px);
}

const outDir = process.argv[2];
if (!outDir) {
  console.error('usage: node make-icons.js OUT_DIR');
  process.exit(1);
}
fs.mkdirSync(outDir, { recursive: true });
for (const size of [180, 192, 512]) {  // 180: apple-touch-icon
  fs.writeFileSync(path.join(outDir, `icon-${size}.png`), drawIcon(size));
}
