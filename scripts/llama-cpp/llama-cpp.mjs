// llama.cpp (node-llama-cpp's prebuilt CPU build, scripts/install-llama-cpp.sh) as an outside
// oracle and peer of the project's LLM runtime.
//   node llama-cpp.mjs greedy FILE.gguf IDS N          greedy continuation of IDS (comma-separated)
//   node llama-cpp.mjs bench FILE.gguf PROMPT DECODE THREADS   prefill / decode tokens per second
//   node llama-cpp.mjs probs FILE.gguf IDS              next-token probabilities after IDS (JSON
//                                                      [[id, p], ...], temperature 1, no top-k/p)
// node-llama-cpp is taken from $RECSYS_LLAMA_CPP (default build/llama-cpp of this checkout).
import {dirname, join, resolve} from "node:path";
import {fileURLToPath, pathToFileURL} from "node:url";

const root = resolve(process.env.RECSYS_LLAMA_CPP ||
                     join(dirname(fileURLToPath(import.meta.url)), "..", "..", "build", "llama-cpp"));
const {getLlama} = await import(
    pathToFileURL(join(root, "node_modules", "node-llama-cpp", "dist", "index.js")).href);

const [command, modelPath, a, b, c] = process.argv.slice(2);
const llama = await getLlama({gpu: false, build: "never", logLevel: "error"});
const model = await llama.loadModel({modelPath, useMmap: true});

if (command === "greedy") {
  const ids = a.split(",").map(Number);
  const ctx = await model.createContext({contextSize: ids.length + Number(b) + 8, batchSize: 512, threads: 2});
  const seq = ctx.getSequence();
  const out = [];
  for await (const t of seq.evaluate(ids, {temperature: 0})) {
    out.push(t);
    if (out.length >= Number(b)) break;
  }
  console.log(out.join(","));
} else if (command === "probs") {
  const ids = a.split(",").map(Number);
  const ctx = await model.createContext({contextSize: ids.length + 8, batchSize: 512, threads: 2});
  const seq = ctx.getSequence();
  const it = seq.evaluateWithMetadata(ids, {probabilities: true},
                                      {temperature: 1, topK: 0, topP: 1, minP: 0});
  const first = (await it.next()).value;
  console.log(JSON.stringify([...first.probabilities.entries()]));
} else if (command === "bench") {
  const prompt = Number(a), decode = Number(b), threads = Number(c || 2);
  const vocab = Number(process.env.VOCAB || 32000);
  const ids = Array.from({length: prompt}, (_, i) => (i * 7919 + 11) % vocab);
  let bestPrefill = Infinity, bestDecode = Infinity;
  for (let r = 0; r < 2; ++r) {
    const ctx = await model.createContext({contextSize: prompt + decode + 8, batchSize: prompt,
                                           threads, flashAttention: false});
    const seq = ctx.getSequence();
    let t0 = performance.now(), n = 0, tFirst = 0;
    for await (const t of seq.evaluate(ids, {temperature: 0})) {
      if (n === 0) tFirst = performance.now();
      if (++n > decode) break;
    }
    const tEnd = performance.now();
    bestPrefill = Math.min(bestPrefill, (tFirst - t0) / 1000);
    if (decode > 0) bestDecode = Math.min(bestDecode, (tEnd - tFirst) / 1000);
    await ctx.dispose();
  }
  console.log(JSON.stringify({prefill_tokens_per_s: prompt / bestPrefill,
                              decode_tokens_per_s: decode > 0 ? decode / bestDecode : null}));
}
process.exit(0);
