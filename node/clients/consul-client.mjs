// The npm `consul` package (pinned in package.json) against a running agent:
//   node clients/consul-client.mjs HOST PORT
// Exits 0 when every scenario passed; throws (exit 1) at the first failure. Names carry a run id
// so the script can run against a cluster used before.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import Consul from "consul";

const [host, port] = [process.argv[2], Number(process.argv[3])];
const consul = new Consul({ host, port });
const run = randomUUID().slice(0, 8);
const p = `js-${run}/`;

async function eventually(fn, what, attempts = 100) {
  for (let i = 0; i < attempts; i++) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

// --- status
const leader = await consul.status.leader();
assert.ok(leader.includes(":"), `leader ${leader}`);
assert.ok((await consul.status.peers()).includes(leader), "leader among peers");

// --- KV
assert.equal(await consul.kv.set(p + "a", "1"), true);
const a = await consul.kv.get(p + "a");
assert.equal(a.Value, "1");
assert.equal(await consul.kv.set({ key: p + "a", value: "2", cas: a.ModifyIndex }), true);
// The package resolves a JSON `false` body as undefined (papi treats a falsy body as none).
assert.ok(!(await consul.kv.set({ key: p + "a", value: "3", cas: a.ModifyIndex })), "stale cas");
assert.equal((await consul.kv.get(p + "a")).Value, "2");
await consul.kv.set(p + "d/x", "x");
await consul.kv.set(p + "d/y", "y");
assert.deepEqual((await consul.kv.keys(p + "d/")).sort(), [p + "d/x", p + "d/y"]);
const tree = await consul.kv.get({ key: p + "d/", recurse: true });
assert.deepEqual(tree.map((e) => e.Key), [p + "d/x", p + "d/y"]);
assert.equal(await consul.kv.del({ key: p + "d/", recurse: true }), true);
assert.ok((await consul.kv.get(p + "d/x")) == null);

// --- blocking query through the package's watch (it follows X-Consul-Index)
const changed = new Promise((resolve, reject) => {
  const watch = consul.watch({ method: consul.kv.get, options: { key: p + "w", wait: "20s" }, backoffFactor: 100 });
  let first = true;
  watch.on("change", (data) => {
    if (first) {
      first = false;
      consul.kv.set(p + "w", "after").catch(reject);
      return;
    }
    if (data && data.Value === "after") {
      watch.end();
      resolve();
    }
  });
  watch.on("error", (e) => { watch.end(); reject(e); });
});
await consul.kv.set(p + "w", "before");
await Promise.race([changed, new Promise((_, r) => setTimeout(() => r(new Error("watch did not fire")), 20000))]);

// --- sessions and locks
const self = await consul.agent.self();
const node = self.Config.NodeName;
const s1 = (await consul.session.create({ name: `js-${run}`, lockdelay: "0s" })).ID;
const s2 = (await consul.session.create({ lockdelay: "0s", ttl: "20s" })).ID;
assert.equal(await consul.kv.set({ key: p + "lock", value: "1", acquire: s1 }), true);
assert.ok(!(await consul.kv.set({ key: p + "lock", value: "2", acquire: s2 })));
assert.equal((await consul.kv.get(p + "lock")).Session, s1);
assert.equal(await consul.kv.set({ key: p + "lock", value: "1", release: s1 }), true);
assert.equal(await consul.kv.set({ key: p + "lock", value: "2", acquire: s2 }), true);
const info = await consul.session.info(s2);
assert.equal(info.Node, node);
assert.equal((await consul.session.renew(s2))[0].ID, s2);
assert.ok((await consul.session.list()).some((s) => s.ID === s1));
assert.ok((await consul.session.node(node)).some((s) => s.ID === s2));
await consul.session.destroy(s2);
assert.equal((await consul.kv.get(p + "lock")).Session, undefined, "released with its session");
await consul.session.destroy(s1);

// --- catalog and health
const ext = `ext-${run}`;
await consul.catalog.register({
  node: ext, address: "10.9.8.7",
  service: { service: "cache", id: `cache-${run}`, port: 6379, tags: ["a"] },
  check: { name: "cache", checkid: `cache-${run}`, serviceid: `cache-${run}`, status: "passing" },
});
assert.ok((await consul.catalog.node.list()).some((n) => n.Node === ext));
assert.ok((await consul.catalog.service.list()).cache.includes("a"));
assert.ok((await consul.catalog.service.nodes("cache")).some((s) => s.ServiceID === `cache-${run}`));
assert.ok((await consul.health.service({ service: "cache", passing: true })).some((h) => h.Service.ID === `cache-${run}`));
assert.ok((await consul.health.state("passing")).some((c) => c.CheckID === `cache-${run}`));
await consul.catalog.deregister({ node: ext });
assert.ok(!(await consul.catalog.node.list()).some((n) => n.Node === ext));

// --- agent service with a TTL check
const svc = `api-${run}`;
await consul.agent.service.register({ name: svc, id: svc, port: 9000, check: { ttl: "15s" } });
assert.ok(svc in (await consul.agent.service.list()));
await consul.agent.check.pass(`service:${svc}`);
await eventually(async () => (await consul.health.service({ service: svc, passing: true })).length === 1, "passing");
await consul.agent.check.fail(`service:${svc}`);
await eventually(async () => (await consul.health.service({ service: svc, passing: true })).length === 0, "critical");
await consul.agent.service.deregister(svc);
await eventually(async () => (await consul.health.service(svc)).length === 0, "deregistered");
assert.ok((await consul.agent.members()).some((m) => m.Name === node && m.Status === 1));

// --- transactions
const ok = await consul.transaction.create([
  { KV: { Verb: "set", Key: p + "t1", Value: Buffer.from("1").toString("base64") } },
  { KV: { Verb: "get", Key: p + "a" } },
]);
assert.equal(ok.Results.length, 2);
await assert.rejects(consul.transaction.create([
  { KV: { Verb: "set", Key: p + "t2", Value: "eA==" } },
  { KV: { Verb: "check-index", Key: p + "t1", Index: 1 } },
]));
assert.ok((await consul.kv.get(p + "t2")) == null, "failed txn wrote nothing");

await consul.kv.del({ key: p, recurse: true });
console.log("npm consul: all scenarios passed");
