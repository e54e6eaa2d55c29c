// Runs steps of JavaScript against jsforce and prints one JSON result per step.
// Input (stdin): {"url": "...", "steps": ["<async function body>", ...]}. Each step sees
// `ctx` (shared between steps: ctx.url, ctx.conn, anything a step stores), `jsforce` and `require`.
// A step's return value, or its error (name, errorCode, message), is its result.
const jsforce = require("jsforce");
const AsyncFunction = Object.getPrototypeOf(async function () {}).constructor;

async function main() {
  const input = JSON.parse(require("fs").readFileSync(0, "utf8"));
  const ctx = { url: input.url };
  const results = [];
  for (const step of input.steps) {
    try {
      const value = await new AsyncFunction("ctx", "jsforce", "require", step)(ctx, jsforce, require);
      results.push({ ok: value === undefined ? null : value });
    } catch (e) {
      results.push({ error: { name: e.name, errorCode: e.errorCode || null, message: String(e.message) } });
    }
  }
  process.stdout.write(JSON.stringify(results));
}

main().catch((e) => { console.error(e); process.exit(1); });
