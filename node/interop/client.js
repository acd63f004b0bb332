// A grpc-js client calling a server (ours, in the interop tests) through one named scenario.
// Usage: node client.js HOST:PORT SCENARIO; prints one JSON object with what it observed.
"use strict";
const { grpc, EchoService } = require("./echo-proto");

const [target, scenario] = process.argv.slice(2);
const channelOptions = scenario === "gzip" ? { "grpc.default_compression_algorithm": 2 } : {};
const client = new EchoService(target, grpc.credentials.createInsecure(), channelOptions);

function unary(request, metadata = new grpc.Metadata(), options = {}) {
  return new Promise((resolve) => {
    const result = {};
    const call = client.Unary(request, metadata, options, (err, response) => {
      if (err) Object.assign(result, { code: err.code, details: err.details, errorDetail: err.metadata.get("x-error-detail")[0] ?? null });
      else Object.assign(result, { code: 0, message: response.message, payloadLength: response.payload.length });
    });
    call.on("metadata", (md) => (result.headerEcho = md.get("x-echo")[0] ?? null));
    call.on("status", (status) => {
      result.trailerEcho = status.metadata.get("x-echo-trailer")[0] ?? null;
      const bin = status.metadata.get("x-echo-trailer-bin")[0];
      result.trailerEchoBin = bin ? Buffer.from(bin).toString("hex") : null;
      resolve(result);
    });
  });
}

function bidi(count) {
  return new Promise((resolve) => {
    const call = client.Bidi();
    const indexes = [];
    let sent = 0;
    call.on("data", (reply) => {
      indexes.push(reply.index);
      if (sent < count) call.write({ message: `m${sent++}` });
      else if (indexes.length === count) call.end();
    });
    call.on("status", (status) => resolve({ code: status.code, count: indexes.length, inOrder: indexes.every((v, i) => v === i) }));
    call.on("error", () => {});
    call.write({ message: `m${sent++}` });
  });
}

const scenarios = {
  async unary() {
    const md = new grpc.Metadata();
    md.set("x-echo", "from-grpc-js");
    md.set("x-echo-bin", Buffer.from([0, 1, 254, 255]));
    return unary({ message: "hello", payload: Buffer.from("abc") }, md);
  },
  async "unary-error"() {
    return unary({ statusCode: 5, statusMessage: "no such key: caf\u00e9 100%" });
  },
  async large() {
    return unary({ payload: Buffer.alloc(3 * 1024 * 1024, 7) });
  },
  async oversize() {
    return unary({ payload: Buffer.alloc(5 * 1024 * 1024, 7) });
  },
  async gzip() {
    return unary({ message: "zipped", payload: Buffer.alloc(100 * 1024, 65) });
  },
  async deadline() {
    // Connect first: on a loaded machine the handshake alone could use up a short deadline, and
    // then the call never reaches the server whose cancellation the test is about.
    await unary({ message: "warm-up" });
    return unary({ waitForCancel: true }, new grpc.Metadata(), { deadline: Date.now() + 1000 });
  },
  async unimplemented() {
    return new Promise((resolve) => {
      const serialize = (v) => v;
      client.makeUnaryRequest("/cluster.testing.Echo/Missing", serialize, serialize, Buffer.alloc(0), (err) =>
        resolve({ code: err ? err.code : 0, details: err ? err.details : "" }));
    });
  },
  async bidi() {
    return bidi(100);
  },
  async "server-stream"() {
    return new Promise((resolve) => {
      const call = client.ServerStream({ responseCount: 50, message: "s" });
      let count = 0;
      call.on("data", () => count++);
      call.on("status", (status) => resolve({ code: status.code, count }));
      call.on("error", () => {});
    });
  },
  async "client-stream"() {
    return new Promise((resolve) => {
      const call = client.ClientStream((err, reply) => resolve(err ? { code: err.code } : { code: 0, message: reply.message, index: reply.index }));
      for (let i = 0; i < 20; i++) call.write({ message: String(i) });
      call.end();
    });
  },
  async cancel() {
    return new Promise((resolve) => {
      const call = client.Bidi();
      call.on("data", () => {
        call.write({ waitForCancel: true });
        // Reset the stream once the server has answered the first message.
        setImmediate(() => call.cancel());
      });
      call.on("status", (status) => resolve({ code: status.code }));
      call.on("error", () => {});
      call.write({ message: "first" });
    });
  },
};

const run = scenarios[scenario];
if (!run) {
  console.error(`unknown scenario '${scenario}'; known: ${Object.keys(scenarios).join(", ")}`);
  process.exit(2);
}
run()
  .then((result) => {
    console.log(JSON.stringify(result));
    client.close();
  })
  .catch((e) => {
    console.error(e.stack);
    process.exit(1);
  });
