// Refreshes the screenshots the docs show (docs/screenshots/*.png): the fleet
// page and node pages (the hourly flapper on a laptop, the sleeper on a 375 px
// phone), with the history strips. It runs the browser test's world (a real collector on loopback,
// simulated agents, a seeded day of history) and the same headless Chromium.
// Usage: node scripts/screenshots.ts   (needs Chromium: CHROMIUM_PATH, default /usr/bin/chromium)
import { join } from "node:path";
import { launchChromium, type Viewport } from "../test/helpers/browser.ts";
import { REPO_ROOT } from "../test/helpers/processes.ts";
import { SLEEPY_NODE, startFleetWorld } from "../test/browser/fleet-world.ts";
import { FLAPPING_NODE } from "../test/browser/fleet-history.ts";

const OUT = join(REPO_ROOT, "docs", "screenshots");
const LAPTOP: Viewport = { width: 1280, height: 900, colorScheme: "light" };
const PHONE: Viewport = { width: 375, height: 812, mobile: true, colorScheme: "light" };

const SHOTS: { file: string; path: string; viewport: Viewport; scrollTo?: string; fullPage?: boolean }[] = [
  { file: "fleet-1280.png", path: "/?refresh=0", viewport: LAPTOP, fullPage: true },
  { file: "fleet-375.png", path: "/?refresh=0", viewport: PHONE, scrollTo: "nodes" },
  { file: "node-1280.png", path: `/node/${FLAPPING_NODE}?refresh=0`, viewport: LAPTOP },
  { file: "node-375.png", path: `/node/${SLEEPY_NODE}?refresh=0`, viewport: PHONE, scrollTo: "history" },
];

const [world, browser] = await Promise.all([startFleetWorld(), launchChromium()]);
try {
  for (const shot of SHOTS) {
    const page = await browser.newPage(shot.viewport);
    await page.goto(new URL(shot.path, world.pageUrl).href);
    if (shot.scrollTo) await page.evaluate(`document.getElementById(${JSON.stringify(shot.scrollTo)}).scrollIntoView()`);
    await page.screenshot(join(OUT, shot.file), { fullPage: shot.fullPage });
    await page.close();
    process.stdout.write(`wrote docs/screenshots/${shot.file}\n`);
  }
} finally {
  await browser.close();
  await world.stop();
}
