// A grpc-js server implementing the echo service the same way as our EchoService.cs.
// Usage: node server.js [--compress gzip|deflate]; prints "listening PORT" once bound.
"use strict";
const { grpc, EchoService } = require("./echo-proto");

const args = process.argv.slice(2);
const compress = args.includes("--compress") ? args[args.indexOf("--compress") + 1] : null;
const algorithms = { deflate: 1, gzip: 2 };

let cancelledCalls = 0;
let activeCalls = 0;
let cancelWaiters = [];

function noteCancelled() {
  cancelledCalls++;
  const ready = cancelWaiters.filter((w) => cancelledCalls >= w.min);
  cancelWaiters = cancelWaiters.filter((w) => cancelledCalls < w.min);
  ready.forEach((w) => w.resolve());
}

// Tracks a call: counts it while active and counts it once if it is cancelled.
function track(call) {
  activeCalls++;
  let done = false;
  const finish = () => {
    if (!done) {
      done = true;
      activeCalls--;
    }
  };
  call.on("cancelled", () => {
    noteCancelled();
    finish();
  });
  call.on("finish", finish);
  call.on("close", finish);
  return finish;
}

function echoHeaders(call) {
  const echo = call.metadata.get("x-echo");
  const echoBin = call.metadata.get("x-echo-bin");
  const headers = new grpc.Metadata();
  const trailers = new grpc.Metadata();
  if (echo.length > 0) {
    headers.set("x-echo", echo[0]);
    trailers.set("x-echo-trailer", echo[0]);
  }
  if (echoBin.length > 0) {
    headers.set("x-echo-bin", echoBin[0]);
    trailers.set("x-echo-trailer-bin", echoBin[0]);
  }
  if (echo.length > 0 || echoBin.length > 0) call.sendMetadata(headers);
  return trailers;
}

function reply(request, index) {
  const payload = request.responseSize > 0 ? Buffer.alloc(request.responseSize) : request.payload;
  return { message: request.message, payload, index };
}

function statusFor(request, trailers) {
  if (request.statusCode === 0) return null;
  trailers.set("x-error-detail", "requested");
  return { code: request.statusCode, details: request.statusMessage, metadata: trailers };
}

// For streamed requests: true when this message ends the handler's part of the call, either by
// waiting for cancellation or by failing with the requested status.
function endsStream(request, fail) {
  if (request.waitForCancel) return true;
  const error = statusFor(request, new grpc.Metadata());
  if (error) fail(error);
  return error !== null;
}

const handlers = {
  Unary(call, callback) {
    track(call);
    const trailers = echoHeaders(call);
    const request = call.request;
    if (request.waitForCancel) return; // answered by the 'cancelled' event
    const error = statusFor(request, trailers);
    if (error) return callback(error);
    callback(null, reply(request, 0), trailers);
  },
  ServerStream(call) {
    track(call);
    const trailers = echoHeaders(call);
    const request = call.request;
    for (let i = 0; i < request.responseCount; i++) call.write(reply(request, i));
    if (request.waitForCancel) return;
    const error = statusFor(request, trailers);
    if (error) return call.emit("error", error);
    call.end(trailers);
  },
  ClientStream(call, callback) {
    track(call);
    const messages = [];
    const payloads = [];
    let failed = false;
    call.on("data", (request) => {
      if (failed) return;
      messages.push(request.message);
      payloads.push(request.payload);
      failed = endsStream(request, callback);
    });
    call.on("end", () => {
      if (!failed) callback(null, { message: messages.join(","), payload: Buffer.concat(payloads), index: messages.length });
    });
  },
  Bidi(call) {
    track(call);
    let index = 0;
    let failed = false;
    call.on("data", (request) => {
      if (failed) return;
      failed = endsStream(request, (error) => call.emit("error", error));
      if (!failed) call.write(reply(request, index++));
    });
    call.on("end", () => {
      if (!failed) call.end();
    });
  },
  Stats(call, callback) {
    const answer = () => callback(null, { cancelledCalls, activeCalls });
    if (cancelledCalls >= call.request.minCancelledCalls) return answer();
    cancelWaiters.push({ min: call.request.minCancelledCalls, resolve: answer });
  },
};

const options = compress ? { "grpc.default_compression_algorithm": algorithms[compress] } : {};
const server = new grpc.Server(options);
server.addService(EchoService.service, handlers);
server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) => {
  if (err) {
    console.error(err.message);
    process.exit(1);
  }
  console.log(`listening ${port}`);
});
