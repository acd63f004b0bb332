"""Debian's python3-consul against a running agent: python3 python_consul_test.py HOST PORT.

Exits 0 when every scenario passed; prints the first failure otherwise. Each scenario uses its
own key prefix / names (a run id), so the script can run against a cluster used before."""
import sys
import threading
import time
import uuid

import consul

host, port = sys.argv[1], int(sys.argv[2])
c = consul.Consul(host=host, port=port)
run = uuid.uuid4().hex[:8]
p = f"py-{run}/"


def check(condition, what):
    if not condition:
        raise AssertionError(what)


def retry(fn, what, attempts=100, delay=0.1):
    """Bounded wait for something eventually true (the catalog after an agent write)."""
    for _ in range(attempts):
        value = fn()
        if value:
            return value
        time.sleep(delay)
    raise AssertionError(f"timed out waiting for {what}")


# --- status
leader = c.status.leader()
check(leader and ":" in leader, f"status.leader: {leader!r}")
peers = c.status.peers()
check(leader in peers, f"leader {leader} not in peers {peers}")

# --- KV: put/get, flags, CAS, keys with separator, recurse, delete
check(c.kv.put(p + "a", "1") is True, "put a")
index, entry = c.kv.get(p + "a")
check(entry["Value"] == b"1" and entry["Key"] == p + "a", f"get a: {entry}")
check(int(index) >= entry["ModifyIndex"], f"index {index} < ModifyIndex")
check(c.kv.put(p + "flags", "x", flags=42) is True, "put flags")
check(c.kv.get(p + "flags")[1]["Flags"] == 42, "flags kept")
check(c.kv.put(p + "a", "2", cas=entry["ModifyIndex"]) is True, "cas with current index")
check(c.kv.put(p + "a", "3", cas=entry["ModifyIndex"]) is False, "cas with stale index refused")
check(c.kv.get(p + "a")[1]["Value"] == b"2", "stale cas changed nothing")
check(c.kv.put(p + "new", "n", cas=0) is True, "cas=0 creates")
check(c.kv.put(p + "new", "m", cas=0) is False, "cas=0 on existing refused")
c.kv.put(p + "dir/x", "x")
c.kv.put(p + "dir/y", "y")
c.kv.put(p + "dir/sub/z", "z")
_, keys = c.kv.get(p, keys=True, separator="/")
check(sorted(keys) == sorted([p + "a", p + "flags", p + "new", p + "dir/"]), f"keys with separator: {keys}")
_, tree = c.kv.get(p + "dir/", recurse=True)
check([e["Key"] for e in tree] == [p + "dir/sub/z", p + "dir/x", p + "dir/y"], f"recurse: {tree}")
check(c.kv.delete(p + "dir/", recurse=True) is True, "delete recurse")
check(c.kv.get(p + "dir/", recurse=True)[1] is None, "tree gone")
check(c.kv.get(p + "missing")[1] is None, "missing key is None")
_, cur = c.kv.get(p + "new")
check(c.kv.delete(p + "new", cas=cur["ModifyIndex"] + 1000) is False, "delete with wrong cas refused")
check(c.kv.delete(p + "new", cas=cur["ModifyIndex"]) is True, "delete with cas")

# --- blocking query: a get at the current index returns when the key changes
index, _ = c.kv.get(p + "a")
woke = {}


def watcher():
    started = time.monotonic()
    i, e = c.kv.get(p + "a", index=index, wait="30s")
    woke["index"], woke["value"], woke["after"] = i, e["Value"], time.monotonic() - started


t = threading.Thread(target=watcher)
t.start()
time.sleep(0.5)  # let the watcher block before the write (a wake-up without it would still be correct)
c.kv.put(p + "a", "woken")
t.join(20)
check(not t.is_alive(), "blocking query did not return after the write")
check(woke["value"] == b"woken" and int(woke["index"]) > int(index), f"blocking query result: {woke}")
started = time.monotonic()
i2, _ = c.kv.get(p + "a", index=woke["index"], wait="1s")
check(time.monotonic() - started >= 0.9 and i2 == woke["index"], "blocking query with no change waits out ?wait")

# --- sessions and locks
node = c.agent.self()["Config"]["NodeName"]
s1 = c.session.create(name=f"py-{run}-1", lock_delay=0)
s2 = c.session.create(name=f"py-{run}-2", lock_delay=0, ttl=30)
check(c.kv.put(p + "lock", "me", acquire=s1) is True, "acquire free lock")
check(c.kv.put(p + "lock", "you", acquire=s2) is False, "acquire held lock refused")
_, held = c.kv.get(p + "lock")
check(held["Session"] == s1 and held["LockIndex"] == 1, f"lock holder: {held}")
check(c.kv.put(p + "lock", "you", release=s2) is False, "release by non-holder refused")
check(c.kv.put(p + "lock", "me", release=s1) is True, "release by holder")
check("Session" not in c.kv.get(p + "lock")[1], "released")
check(c.kv.put(p + "lock", "you", acquire=s2) is True, "acquire after release")
_, info = c.session.info(s2)
check(info["ID"] == s2 and info["TTL"] == "30s" and info["Node"] == node, f"session info: {info}")
renewed = c.session.renew(s2)
check(renewed["ID"] == s2, f"renew: {renewed}")
check(any(s["ID"] == s1 for s in c.session.list()[1]), "session list")
check(any(s["ID"] == s1 for s in c.session.node(node)[1]), "node sessions")
check(c.session.destroy(s2) is True, "destroy")
check("Session" not in c.kv.get(p + "lock")[1], "destroying the holder released the lock")
eph = c.session.create(behavior="delete", lock_delay=0)
c.kv.put(p + "ephemeral", "e", acquire=eph)
c.session.destroy(eph)
check(c.kv.get(p + "ephemeral")[1] is None, "behavior=delete removes held keys")
c.session.destroy(s1)

# --- catalog register / deregister, health
ext = f"ext-{run}"
check(c.catalog.register(ext, "10.1.2.3", service={"Service": "db", "ID": f"db-{run}", "Port": 5432, "Tags": ["primary"]},
                         check={"Name": "db alive", "CheckID": f"db-{run}-check", "ServiceID": f"db-{run}", "Status": "passing"}) is True,
      "catalog register")
_, nodes = c.catalog.nodes()
check(any(n["Node"] == ext and n["Address"] == "10.1.2.3" for n in nodes), f"catalog nodes: {nodes}")
_, services = c.catalog.services()
check("primary" in services.get("db", []), f"catalog services: {services}")
_, instances = c.catalog.service("db", tag="primary")
check(any(i["ServiceID"] == f"db-{run}" and i["ServicePort"] == 5432 for i in instances), f"catalog service: {instances}")
_, nodeinfo = c.catalog.node(ext)
check(f"db-{run}" in nodeinfo["Services"], f"catalog node: {nodeinfo}")
_, healthy = c.health.service("db", passing=True)
check(any(h["Service"]["ID"] == f"db-{run}" for h in healthy), f"health passing: {healthy}")
_, checks = c.health.checks("db")
check(any(ch["CheckID"] == f"db-{run}-check" for ch in checks), f"health checks: {checks}")
_, passing = c.health.state("passing")
check(any(ch["CheckID"] == f"db-{run}-check" for ch in passing), "health state passing")
_, nodechecks = c.health.node(ext)
check([ch["CheckID"] for ch in nodechecks] == [f"db-{run}-check"], f"health node: {nodechecks}")
check(c.catalog.deregister(ext, service_id=f"db-{run}") is True, "deregister service")
check(not any(i["ServiceID"] == f"db-{run}" for i in c.catalog.service("db")[1]), "service gone")
check(c.catalog.deregister(ext) is True, "deregister node")
check(not any(n["Node"] == ext for n in c.catalog.nodes()[1]), "node gone")

# --- agent service with a TTL check
svc = f"web-{run}"
check(c.agent.service.register(svc, service_id=svc, port=8080, tags=["v1"], check=consul.Check.ttl("15s")) is True, "agent service register")
check(svc in c.agent.services(), "agent services")
check(f"service:{svc}" in c.agent.checks(), f"agent checks: {list(c.agent.checks())}")
retry(lambda: any(h["Service"]["ID"] == svc for h in c.health.service(svc)[1]), "the service in the catalog")
check(not c.health.service(svc, passing=True)[1], "a TTL check starts critical")
c.agent.check.ttl_pass(f"service:{svc}", "all good")
retry(lambda: c.health.service(svc, passing=True)[1], "passing after ttl_pass")
c.agent.check.ttl_warn(f"service:{svc}", "hmm")
retry(lambda: c.health.checks(svc)[1][0]["Status"] == "warning", "warning after ttl_warn")
c.agent.check.ttl_fail(f"service:{svc}", "down")
retry(lambda: c.health.checks(svc)[1][0]["Status"] == "critical", "critical after ttl_fail")
check(c.agent.check.register(f"extra-{run}", check=consul.Check.ttl("20s"), service_id=svc) is True, "agent check register")
check(f"extra-{run}" in c.agent.checks(), "extra check listed")
check(c.agent.check.deregister(f"extra-{run}") is True, "check deregister")
check(c.agent.service.deregister(svc) is True, "agent service deregister")
retry(lambda: not c.health.service(svc)[1], "the service gone from the catalog")

# --- members
members = c.agent.members()
check(any(m["Name"] == node and m["Status"] == 1 for m in members), f"members: {members}")

c.kv.delete(p, recurse=True)
print("python3-consul: all scenarios passed")
