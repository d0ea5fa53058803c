// Renders Markdown (with ```mermaid blocks) to a PNG as GitHub shows it: marked for the Markdown,
// GitHub's own stylesheet (github-markdown-css), Mermaid in the browser, a headless Chromium
// screenshot of the rendered body. Used by docs/img/render.sh; run by hand, not in CI.
//   node render.mjs NODE_MODULES IN.md OUT.png [WIDTH]
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

const [modules, input, output, width = "900"] = process.argv.slice(2);
const require = createRequire(path.join(path.resolve(modules), "x.js"));
const { marked } = require("marked");
const puppeteer = require("puppeteer-core");
const css = readFileSync(require.resolve("github-markdown-css/github-markdown-light.css"), "utf8");
const mermaidJs = readFileSync(require.resolve("mermaid/dist/mermaid.min.js"), "utf8");

const renderer = new marked.Renderer();
const code = renderer.code.bind(renderer);
renderer.code = (token) =>
  token.lang === "mermaid"
    ? `<pre class="mermaid">${token.text.replace(/&/g, "&amp;").replace(/</g, "&lt;")}</pre>`
    : code(token);
const body = marked.parse(readFileSync(input, "utf8"), { renderer, gfm: true });
const html = `<!doctype html><html><head><meta charset="utf-8"><style>${css}
  body { margin: 0; background: #fff; }
  .markdown-body { box-sizing: border-box; width: ${width}px; padding: 24px 32px; }
  pre.mermaid { background: #fff; text-align: center; }
</style></head><body><article class="markdown-body">${body}</article>
<script>${mermaidJs}</script>
<script>mermaid.initialize({ startOnLoad: false, theme: "default" });
  mermaid.run().then(() => { document.body.dataset.done = "1"; });</script></body></html>`;

const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu"],
});
try {
  const page = await browser.newPage();
  await page.setViewport({ width: Number(width) + 40, height: 800, deviceScaleFactor: 1.5 });
  await page.setContent(html, { waitUntil: "load" });
  await page.waitForSelector("body[data-done]", { timeout: 30000 });
  const article = await page.$(".markdown-body");
  await article.screenshot({ path: output });
} finally {
  await browser.close();
}
