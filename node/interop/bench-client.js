// The grpc-js side of the gRPC benchmark: a load generator with the same shape as ours.
// Usage: node bench-client.js HOST:PORT unary|bidi CONCURRENCY_OR_WINDOW WARMUP_MS DURATION_MS
// Prints {"operations":N,"seconds":S,"p50us":X,"p99us":Y}.
"use strict";
const { grpc, EchoService } = require("./echo-proto");

const [target, mode, width, warmupMs, durationMs] = process.argv.slice(2);
const client = new EchoService(target, grpc.credentials.createInsecure());
const request = { message: "ping", payload: Buffer.alloc(100) };

function percentile(sorted, p) {
  return sorted.length === 0 ? null : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

async function unaryPhase(concurrency, ms, record) {
  const latencies = [];
  const end = process.hrtime.bigint() + BigInt(ms) * 1000000n;
  const start = process.hrtime.bigint();
  const worker = async () => {
    while (process.hrtime.bigint() < end) {
      const before = process.hrtime.bigint();
      await new Promise((resolve, reject) => client.Unary(request, (err) => (err ? reject(err) : resolve())));
      if (record) latencies.push(Number(process.hrtime.bigint() - before) / 1000);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  latencies.sort((a, b) => a - b);
  return { operations: latencies.length, seconds, p50us: percentile(latencies, 0.5), p99us: percentile(latencies, 0.99) };
}

async function bidi(window, warmup, duration) {
  const call = client.Bidi();
  let inFlight = 0;
  let received = 0;
  let measuring = false;
  let stopped = false;
  const pump = () => {
    while (!stopped && inFlight < window) {
      inFlight++;
      if (!call.write(request)) {
        call.once("drain", pump);
        return;
      }
    }
  };
  call.on("data", () => {
    inFlight--;
    if (measuring) received++;
    pump();
  });
  const ended = new Promise((resolve) => call.on("status", resolve));
  call.on("error", () => {});
  pump();
  await new Promise((r) => setTimeout(r, warmup));
  measuring = true;
  const start = process.hrtime.bigint();
  await new Promise((r) => setTimeout(r, duration));
  measuring = false;
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const operations = received;
  stopped = true;
  call.end();
  await ended;
  return { operations, seconds, p50us: null, p99us: null };
}

async function main() {
  const n = Number(width);
  if (mode === "unary") {
    await unaryPhase(n, Number(warmupMs), false);
    return unaryPhase(n, Number(durationMs), true);
  }
  if (mode === "bidi") return bidi(n, Number(warmupMs), Number(durationMs));
  throw new Error(`unknown mode ${mode}`);
}

main()
  .then((r) => {
    console.log(JSON.stringify(r));
    client.close();
  })
  .catch((e) => {
    console.error(e.stack);
    process.exit(1);
  });
