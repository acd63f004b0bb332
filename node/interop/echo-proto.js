// Loads the echo contract shared with the C# tests (Cluster.Testing/Protos/echo.proto).
"use strict";
const path = require("node:path");
const grpc = require("@grpc/grpc-js");
const protoLoader = require("@grpc/proto-loader");

const protoPath = path.join(__dirname, "..", "..", "Cluster.Testing", "Protos", "echo.proto");
const definition = protoLoader.loadSync(protoPath, { keepCase: false, longs: Number, defaults: true });
const EchoService = grpc.loadPackageDefinition(definition).cluster.testing.Echo;

module.exports = { grpc, EchoService };
