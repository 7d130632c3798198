#!/usr/bin/env python3
"""Acorn against bare ceilings, side by side in one run (wrk, 32 connections, loopback).

Usage: bench.py ACORN_BIN CALIB_BIN OUT_JSON [--pg] [--seconds S] [--only a,b]
                [--acorn-arg ARG]... [--label TEXT] [--import-rows N]
Starts a bare calib-svc and an Acorn server (rate limits off), loads the same shapes into both,
and for each scenario runs wrk against the bare route, then against Acorn's, then the bare again
(so drift on this shared machine shows up). Prints one line per pair with the ratio.
`--acorn-arg` passes one more argument to `acorn serve` (repeat it: `--acorn-arg
--sqlite-synchronous --acorn-arg normal`); `--only` runs only the named scenarios (create, get,
list, list-country, import; create always runs as it loads the rows); `--label` prefixes each
line (to tell two builds apart). `import` times `acorn customers import` of N generated rows
(default 20000) between two runs of the bare single-row insert. With `--pg`, Acorn gets a random ACORN_MASTER_KEY unless one is set.
"""
import json, os, re, shutil, socket, subprocess, sys, tempfile, time, urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
LUA = os.path.join(HERE, "lua")


def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p


def http(method, url, body=None, headers=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def wait(url):
    for _ in range(300):
        try:
            urllib.request.urlopen(url, timeout=1); return
        except Exception:
            time.sleep(0.1)
    raise RuntimeError("no answer from " + url)


def wrk(url, script, env, seconds, conns=32):
    e = {**os.environ, **env}
    subprocess.run(["wrk", "-t2", f"-c{conns}", "-d3s", "-s", os.path.join(LUA, script), url], env=e, capture_output=True)
    r = subprocess.run(["wrk", "-t2", f"-c{conns}", f"-d{seconds}s", "--latency", "-s", os.path.join(LUA, script), url],
                       env=e, capture_output=True, text=True)
    out = r.stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    def pct(p):
        m = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", out)
        if not m: return None
        v = float(m.group(1)); return v / 1000 if m.group(2) == "us" else v * 1000 if m.group(2) == "s" else v
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errs = re.search(r"Socket errors: (.*)", out)
    return {"rps": rps, "p50": pct(50), "p99": pct(99), "non2xx": int(bad.group(1)) if bad else 0,
            "socket_errors": errs.group(1) if errs else ""}


def rss_kib(pid):
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmHWM:"): return int(line.split()[1])
    except OSError:
        return None


def option(name, default=None):
    return sys.argv[sys.argv.index(name) + 1] if name in sys.argv else default


def main():
    acorn, calib, out = sys.argv[1:4]
    pg = "--pg" in sys.argv
    seconds = int(option("--seconds", "10"))
    only = set(option("--only", "create,get,list,list-country").split(","))
    label = option("--label", "")
    extra = [sys.argv[i + 1] for i, a in enumerate(sys.argv) if a == "--acorn-arg"]
    tmp = tempfile.mkdtemp(prefix="acorn-bench-")
    procs = []
    pgdb_a = pgdb_c = None
    try:
        cport, aport = free_port(), free_port()
        cargs = [calib, f"127.0.0.1:{cport}", f"{tmp}/calib.db"]
        aargs = [acorn, "serve", "--data-dir", f"{tmp}/acorn", "--listen", f"127.0.0.1:{aport}", "--rate-limit", "off",
                 "--grant-rate-limit", "off", "--log-format", "json"] + extra
        if pg:
            suffix = str(int(time.time()))
            pgdb_c, pgdb_a = "calib_" + suffix, "acorn_" + suffix
            for d in (pgdb_c, pgdb_a):
                subprocess.run(["psql", "-q", "-h", "127.0.0.1", "-U", "postgres", "-c", f"create database {d}"], check=True)
            cargs.append(f"postgres://postgres@127.0.0.1:5432/{pgdb_c}")
            aargs += ["--database-url", f"postgres://postgres@127.0.0.1:5432/{pgdb_a}"]
        alog = open(f"{tmp}/acorn.log", "w")
        cp = subprocess.Popen(cargs, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); procs.append(cp)
        env_a = {**os.environ, "ACORN_LOG": "warn"}
        if pg and "ACORN_MASTER_KEY" not in env_a:
            env_a["ACORN_MASTER_KEY"] = os.urandom(32).hex()
        ap = subprocess.Popen(aargs, stdout=alog, stderr=subprocess.STDOUT, env=env_a); procs.append(ap)
        cu, au = f"http://127.0.0.1:{cport}", f"http://127.0.0.1:{aport}"
        wait(cu + "/hello"); wait(au + "/api/health")
        time.sleep(0.5)
        m = json.loads(subprocess.run([acorn, "merchants", "create", "--name", "bench", "--mode", "sandbox", "--json", "--data-dir", f"{tmp}/acorn"]
                                      + (["--database-url", f"postgres://postgres@127.0.0.1:5432/{pgdb_a}"] if pg else []),
                                      capture_output=True, text=True, check=True, env=env_a).stdout)
        st, tok = http("POST", au + "/api/v1/merchant/token/grant", {"client_id": m["client_id"], "client_secret": m["client_secret"], "grant_type": "client_credentials"})
        auth = "Bearer " + tok["access_token"]
        store = "pg" if pg else "sqlite"
        results = []

        def pair(name, bare_url, bare_script, bare_env, acorn_url, acorn_script, acorn_env):
            b1 = wrk(bare_url, bare_script, bare_env, seconds)
            a = wrk(acorn_url, acorn_script, {**acorn_env, "AUTH": auth}, seconds)
            b2 = wrk(bare_url, bare_script, bare_env, seconds)
            bare = (b1["rps"] + b2["rps"]) / 2
            row = {"scenario": name, "store": store, "bare": b1, "bare_again": b2, "acorn": a, "ratio": a["rps"] / bare}
            results.append(row)
            print(f"{label}{store:6} {name:28} bare {bare:9.0f} req/s   acorn {a['rps']:9.0f} req/s (p50 {a['p50']} ms, p99 {a['p99']} ms, non-2xx {a['non2xx']}; bare non-2xx {b1['non2xx'] + b2['non2xx']})   ratio {row['ratio']:.2f}", flush=True)

        if not pg:
            h = wrk(cu + "/hello", "done.lua", {}, seconds)
            print(f"{label}framework ceiling /hello {h['rps']:.0f} req/s", flush=True)
            results.append({"scenario": "hello", "bare": h})
        pair("create", f"{cu}/{store}/customers", "create.lua", {}, f"{au}/api/v1/customers", "create.lua", {})
        # ids for GETs: the first 2000 rows of each
        ids_c, ids_a = f"{tmp}/ids_c", f"{tmp}/ids_a"
        if pg:
            q = lambda db: subprocess.run(["psql", "-At", "-h", "127.0.0.1", "-U", "postgres", "-d", db, "-c", "select id from customers limit 2000"], capture_output=True, text=True).stdout
            open(ids_c, "w").write(q(pgdb_c)); open(ids_a, "w").write(q(pgdb_a))
        else:
            import sqlite3
            open(ids_c, "w").write("\n".join(r[0] for r in sqlite3.connect(f"{tmp}/calib.db").execute("select id from customers limit 2000")) + "\n")
            open(ids_a, "w").write("\n".join(r[0] for r in sqlite3.connect(f"{tmp}/acorn/acorn.db").execute("select id from customers limit 2000")) + "\n")
        if "get" in only:
            pair("get", f"{cu}/{store}/customers/", "get.lua", {"IDS_FILE": ids_c, "PREFIX": f"/{store}/customers/"},
                 f"{au}/api/v1/customers/", "get.lua", {"IDS_FILE": ids_a, "PREFIX": "/api/v1/customers/"})
        if not pg and "list" in only:
            pair("list page 10 (bare: no count)", f"{cu}/sqlite/customers?limit=10&count=false", "auth.lua", {},
                 f"{au}/api/v1/customers?limit=10", "auth.lua", {})
        if not pg and "list-country" in only:
            pair("list country (bare: no count)", f"{cu}/sqlite/customers?limit=10&country_code=US&count=false", "auth.lua", {},
                 f"{au}/api/v1/customers?limit=10&country_code=us", "auth.lua", {})
        if "import" in only:
            # `acorn customers import` (batches of 100, 4 in flight, a key per row) against the
            # bare single-row insert measured just before and after it.
            rows = int(option("--import-rows", "20000"))
            csv_path = f"{tmp}/import.csv"
            with open(csv_path, "w") as f:
                f.write("email,first_name,last_name,country_code\n")
                for i in range(rows):
                    f.write(f"import{i}_{int(time.time())}@example.com,Ana,Silva,BR\n")
            b1 = wrk(f"{cu}/{store}/customers", "create.lua", {}, seconds)
            env_i = {**env_a, "ACORN_URL": au, "ACORN_CLIENT_ID": m["client_id"], "ACORN_CLIENT_SECRET": m["client_secret"]}
            t0 = time.time()
            subprocess.run([acorn, "customers", "import", csv_path], env=env_i, check=True, capture_output=True)
            rate = rows / (time.time() - t0)
            b2 = wrk(f"{cu}/{store}/customers", "create.lua", {}, seconds)
            bare = (b1["rps"] + b2["rps"]) / 2
            row = {"scenario": "import (bare: single-row insert)", "store": store, "bare": b1, "bare_again": b2,
                   "acorn": {"rps": rate}, "ratio": rate / bare}
            results.append(row)
            print(f"{label}{store:6} {row['scenario']:28} bare {bare:9.0f} req/s   acorn {rate:9.0f} rows/s ({rows} rows)   ratio {row['ratio']:.2f}", flush=True)
        st, body = http("GET", au + "/api/v1/customers?limit=1", headers={"Authorization": auth})
        print(f"{label}rows in acorn: {body['data']['count']}; acorn peak RSS {rss_kib(ap.pid)} KiB; bare peak RSS {rss_kib(cp.pid)} KiB")
        json.dump({"results": results, "acorn_rss_kib": rss_kib(ap.pid), "rows": body["data"]["count"]}, open(out, "w"), indent=1)
    finally:
        for p in procs:
            p.terminate()
            try: p.wait(10)
            except subprocess.TimeoutExpired: p.kill()
        if pg:
            time.sleep(1)
            for d in (pgdb_c, pgdb_a):
                if d: subprocess.run(["psql", "-q", "-h", "127.0.0.1", "-U", "postgres", "-c", f"drop database if exists {d} with (force)"])
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
