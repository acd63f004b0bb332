#!/usr/bin/env node
// Prepares the Envoy v3 API .proto files that Cluster.Contracts compiles.
//
// The protos ship inside the pinned npm package @grpc/grpc-js-xds (deps/envoy-api, deps/xds,
// deps/googleapis, deps/protoc-gen-validate). Nothing third-party is committed: this script
// installs the package from the lockfile (from the npm cache when it has it), walks the import
// closure of the root files it is given, and writes that closure to an output folder with the
// protoc-gen-validate annotations removed.
//
// Why remove them: the package's protoc-gen-validate copy is older than its envoy-api (it lacks
// fields such as StringRules.ignore_empty), so protoc rejects those option values. The
// annotations only drive optional validation code; they do not change the wire format, the JSON
// mapping or the generated message types. Removal is token-based, so quotes, brackets and
// comments inside option values are handled.
//
// Usage: node envoy-protos.mjs --out DIR ROOT.proto [ROOT.proto ...]
// Writes DIR/files.txt (one relative path per line) and the .proto files under DIR. Files whose
// content is unchanged are not rewritten, so protoc's incremental build stays quiet.

import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const deps = join(here, "node_modules", "@grpc", "grpc-js-xds", "deps");
const includeDirs = ["envoy-api", "xds", "googleapis", "protoc-gen-validate"].map((d) => join(deps, d));

export function ensureInstalled() {
  const marker = join(here, "node_modules", ".package-lock.json");
  const lock = join(here, "package-lock.json");
  if (existsSync(marker) && statSync(marker).mtimeMs >= statSync(lock).mtimeMs) return;
  // --prefer-offline: a rebuild without network works from the local npm cache.
  execFileSync("npm", ["ci", "--prefer-offline", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"], {
    cwd: here,
    stdio: ["ignore", "inherit", "inherit"],
  });
}

// ---- tokenizer -------------------------------------------------------------------------------

// Tokens: { kind: "ws" | "comment" | "string" | "ident" | "number" | "punct", text, start, end }
export function tokenize(src) {
  const tokens = [];
  let i = 0;
  const push = (kind, start, end) => tokens.push({ kind, text: src.slice(start, end), start, end });
  while (i < src.length) {
    const c = src[i];
    const start = i;
    if (/\s/.test(c)) {
      while (i < src.length && /\s/.test(src[i])) i++;
      push("ws", start, i);
    } else if (c === "/" && src[i + 1] === "/") {
      while (i < src.length && src[i] !== "\n") i++;
      push("comment", start, i);
    } else if (c === "/" && src[i + 1] === "*") {
      const close = src.indexOf("*/", i + 2);
      if (close < 0) throw new Error(`unterminated block comment at offset ${start}`);
      i = close + 2;
      push("comment", start, i);
    } else if (c === '"' || c === "'") {
      i++;
      while (i < src.length && src[i] !== c) {
        if (src[i] === "\\") i++;
        if (src[i] === "\n") throw new Error(`newline in string literal at offset ${start}`);
        i++;
      }
      if (i >= src.length) throw new Error(`unterminated string literal at offset ${start}`);
      i++;
      push("string", start, i);
    } else if (/[A-Za-z_]/.test(c)) {
      while (i < src.length && /[A-Za-z0-9_]/.test(src[i])) i++;
      push("ident", start, i);
    } else if (/[0-9]/.test(c)) {
      while (i < src.length && /[A-Za-z0-9_.+-]/.test(src[i]) && !(/[+-]/.test(src[i]) && !/[eE]/.test(src[i - 1]))) i++;
      push("number", start, i);
    } else {
      i++;
      push("punct", start, i);
    }
  }
  return tokens;
}

const significant = (t) => t.kind !== "ws" && t.kind !== "comment";

// Index of the token that closes the bracket opened at tokens[open].
function matchClose(tokens, open) {
  const pairs = { "[": "]", "{": "}", "(": ")", "<": ">" };
  const stack = [];
  for (let k = open; k < tokens.length; k++) {
    const t = tokens[k];
    if (t.kind !== "punct") continue;
    if (t.text === "[" || t.text === "{" || t.text === "(") stack.push(pairs[t.text]);
    else if (t.text === "]" || t.text === "}" || t.text === ")") {
      if (stack.pop() !== t.text) throw new Error(`unbalanced '${t.text}' at offset ${t.start}`);
      if (stack.length === 0) return k;
    }
  }
  throw new Error(`unclosed '${tokens[open].text}' at offset ${tokens[open].start}`);
}

// True when the option name starting at tokens[k] is "(validate.<anything>)".
function isValidateOption(tokens, k) {
  const sig = [];
  for (let j = k; j < tokens.length && sig.length < 3; j++) if (significant(tokens[j])) sig.push(tokens[j]);
  return sig.length === 3 && sig[0].text === "(" && sig[1].text === "validate" && sig[2].text === ".";
}

// ---- rewriting -------------------------------------------------------------------------------

// Returns { text, imports } with every (validate.*) option and the validate import removed.
export function stripValidate(src) {
  const tokens = tokenize(src);
  const edits = []; // { start, end, text }
  const imports = [];
  let prevSig = null;
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k];
    if (!significant(t)) continue;

    if (t.kind === "ident" && t.text === "import" && isStatementStart(prevSig)) {
      const end = findStatementEnd(tokens, k);
      const path = tokens.slice(k, end).find((x) => x.kind === "string");
      if (!path) throw new Error(`import without a path at offset ${t.start}`);
      const file = JSON.parse(path.text.replace(/^'|'$/g, '"'));
      if (file.startsWith("validate/")) edits.push({ start: t.start, end: tokens[end].end, text: "" });
      else imports.push(file);
      k = end;
      prevSig = tokens[end];
      continue;
    }

    if (t.kind === "ident" && t.text === "option" && isStatementStart(prevSig)) {
      const next = nextSignificant(tokens, k + 1);
      if (next >= 0 && isValidateOption(tokens, next)) {
        const end = findStatementEnd(tokens, k);
        edits.push({ start: t.start, end: tokens[end].end, text: "" });
        k = end;
        prevSig = tokens[end];
        continue;
      }
    }

    // A field or enum value option list: "= <number> [ ... ]".
    if (t.kind === "punct" && t.text === "[" && prevSig && prevSig.kind === "number") {
      const close = matchClose(tokens, k);
      const entries = splitTopLevel(tokens, k + 1, close);
      const kept = entries.filter((e) => !isValidateOption(tokens, e.from));
      if (kept.length !== entries.length) {
        const textOf = (e) => src.slice(tokens[e.from].start, tokens[e.to - 1].end).trim();
        const replacement = kept.length === 0 ? "" : `[${kept.map(textOf).join(", ")}]`;
        // With nothing left, also drop the whitespace between the number and the bracket.
        const start = kept.length === 0 ? prevSig.end : t.start;
        edits.push({ start, end: tokens[close].end, text: replacement });
      }
      k = close;
      prevSig = tokens[close];
      continue;
    }
    prevSig = t;
  }

  let text = src;
  for (const e of edits.sort((a, b) => b.start - a.start)) text = text.slice(0, e.start) + e.text + text.slice(e.end);
  return { text, imports };
}

function isStatementStart(prevSig) {
  return prevSig === null || [";", "{", "}"].includes(prevSig.text);
}

function nextSignificant(tokens, k) {
  for (let j = k; j < tokens.length; j++) if (significant(tokens[j])) return j;
  return -1;
}

// Index of the ';' that ends the statement starting at tokens[k], skipping nested brackets.
function findStatementEnd(tokens, k) {
  for (let j = k; j < tokens.length; j++) {
    const t = tokens[j];
    if (t.kind !== "punct") continue;
    if (t.text === ";") return j;
    if (t.text === "{" || t.text === "[" || t.text === "(") j = matchClose(tokens, j);
  }
  throw new Error(`statement at offset ${tokens[k].start} has no ';'`);
}

// Splits tokens (from, to) on commas that are not nested in brackets: [{ from, to }] with to exclusive.
function splitTopLevel(tokens, from, to) {
  const parts = [];
  let start = from;
  for (let j = from; j < to; j++) {
    const t = tokens[j];
    if (t.kind === "punct" && (t.text === "{" || t.text === "[" || t.text === "(")) j = matchClose(tokens, j);
    else if (t.kind === "punct" && t.text === ",") {
      parts.push(trimRange(tokens, start, j));
      start = j + 1;
    }
  }
  parts.push(trimRange(tokens, start, to));
  return parts.filter((p) => p.from < p.to);
}

function trimRange(tokens, from, to) {
  while (from < to && !significant(tokens[from])) from++;
  while (to > from && !significant(tokens[to - 1])) to--;
  return { from, to };
}

// ---- closure ---------------------------------------------------------------------------------

function locate(file) {
  for (const dir of includeDirs) {
    const p = join(dir, file);
    if (existsSync(p)) return p;
  }
  throw new Error(`${file}: not found in @grpc/grpc-js-xds (looked in ${includeDirs.join(", ")})`);
}

export function closure(roots) {
  const out = new Map(); // relative path -> stripped text
  const todo = [...roots];
  while (todo.length > 0) {
    const file = todo.pop();
    // Well-known types come with Google.Protobuf and Grpc.Tools.
    if (out.has(file) || file.startsWith("google/protobuf/")) continue;
    const path = locate(file);
    let stripped;
    try {
      stripped = stripValidate(readFileSync(path, "utf8"));
    } catch (e) {
      throw new Error(`${path}: ${e.message}`);
    }
    out.set(file, stripped.text);
    todo.push(...stripped.imports);
  }
  return out;
}

function main(argv) {
  const args = argv.slice(2);
  const outIdx = args.indexOf("--out");
  if (outIdx < 0 || !args[outIdx + 1]) throw new Error("usage: envoy-protos.mjs --out DIR ROOT.proto [ROOT.proto ...]");
  const outDir = args[outIdx + 1];
  const roots = args.filter((_, i) => i !== outIdx && i !== outIdx + 1);
  if (roots.length === 0) throw new Error("no root .proto files given");

  ensureInstalled();
  const files = closure(roots);
  const names = [...files.keys()].sort();
  for (const name of names) {
    const dest = join(outDir, name);
    const text = files.get(name);
    if (existsSync(dest) && readFileSync(dest, "utf8") === text) continue;
    mkdirSync(dirname(dest), { recursive: true });
    writeFileSync(dest, text);
  }
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, "files.txt"), names.join("\n") + "\n");
  console.log(`envoy-protos: ${names.length} files in ${outDir}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    main(process.argv);
  } catch (e) {
    console.error(`envoy-protos: error: ${e.message}`);
    process.exit(1);
  }
}
