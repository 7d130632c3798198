"""The soak's checks (see `scripts/soak`): what the server holds after the run against what the
load was told, through the API."""

from datetime import datetime
import hashlib, time, urllib.request


def pages(c, path, key):
    """Every item of a list endpoint, by offset."""
    out, sep = [], "&" if "?" in path else "?"
    while True:
        _, p = c.patient("GET", f"{path}{sep}limit=100&offset={len(out)}")
        items = p["data"][key]
        out += items
        if len(items) < 100:
            return out, p["data"].get("count")


def events(c, names):
    out, after = [], ""
    while True:
        names_q = f"&event={names}" if names else ""
        _, p = c.patient("GET", f"/api/v1/events?limit=100{names_q}{after}")
        out += p["data"]["event_list"]
        if not p["data"]["has_more"]:
            return out
        after = f"&starting_after={out[-1]['id']}"


def settle(c, load, timeout):
    """Waits until every registration, sync and delivery has finished (or the time is up)."""
    end = time.time() + timeout
    while time.time() < end:
        rows, _ = pages(c, "/api/v1/customers", "customer_list")
        pending_regs = [r for r in rows for p in r["platforms"] if p["status"] not in ("approved", "rejected")]
        _, p = c.patient("GET", "/api/v1/merchant/webhooks/notifications?status=pending&limit=1")
        pending_syncs = 0
        for cus in load.customers:
            if cus.syncs or cus.syncs_unknown:
                _, a = c.patient("GET", f"/api/v1/customers/{cus.id}/sync-attempts")
                pending_syncs += sum(1 for x in a["data"] if x["status"] not in ("succeeded", "failed"))
        if not pending_regs and not pending_syncs and p["data"]["count"] == 0:
            return True
        time.sleep(2)
    return False


def check_writes(c, load, rows, count):
    by_id, bad = {r["id"]: r for r in rows}, []
    for cus in load.customers:
        r = by_id.get(cus.id)
        if r is None:
            bad.append(f"acknowledged customer {cus.id} missing")
        elif r["first_name"] != cus.first_name and r["first_name"] not in cus.maybe_names:
            bad.append(f"{cus.id}: first_name {r['first_name']!r}, acknowledged {cus.first_name!r}")
        if cus.files:
            _, p = c.patient("GET", f"/api/v1/customers/{cus.id}/files")
            listed = {f["id"]: f for f in p["data"]}
            bad += [f"acknowledged file {f} of {cus.id} missing" for f in cus.files - set(listed)]
            f = listed.get(next(iter(cus.files)))
            if f and hashlib.sha256(urllib.request.urlopen(f["url"], timeout=30).read()).hexdigest() != f["sha256"]:
                bad.append(f"file {f['id']}: bytes from S3 do not match")
    acked = len(load.customers)
    if count != len(rows):
        bad.append(f"count {count} != {len(rows)} rows")
    if not acked <= len(rows) <= acked + load.maybe_creates:
        bad.append(f"{len(rows)} rows for {acked} acknowledged (+{load.maybe_creates} unanswered) creates")
    return bad


def check_registrations(c, load):
    seen, bad = {}, []
    for e in events(c, "provider_registration.approved,provider_registration.rejected"):
        seen.setdefault(e["data"]["id"], []).append(e["event"].rsplit(".", 1)[1])
    for cus in load.customers:
        got = seen.get(cus.id, [])
        if cus.registered and got != [cus.outcome]:
            bad.append(f"{cus.id}: outcomes {got}, expected [{cus.outcome}] once")
        elif not cus.registered and not cus.reg_unknown and got:
            bad.append(f"{cus.id}: outcome {got} without a registration")
    return bad, sum(c.registered for c in load.customers)


def check_syncs(c, load):
    """Each acknowledged sync attempt ended as its email says, after the expected tries. A try
    in flight at the killed instance ran (the provider was called) but its outcome died with
    the instance before it was committed, so the attempt is tried once more when its lease ends
    — at-least-once, like a webhook delivery at the kill: one extra try is allowed, only for
    attempts that existed when the instance was killed, and counted."""
    bad, total, crash = [], 0, 0
    killed = load.killed_at
    for cus in load.customers:
        if not (cus.syncs or cus.syncs_unknown):
            continue
        _, p = c.patient("GET", f"/api/v1/customers/{cus.id}/sync-attempts")
        got = p["data"]
        total += len(got)
        if not cus.syncs <= len(got) <= cus.syncs + cus.syncs_unknown:
            bad.append(f"{cus.id}: {len(got)} sync attempts, {cus.syncs} acknowledged")
        fail = "+syncfail" in cus.email
        for a in got:
            want = ("failed", 3) if fail else ("succeeded", 1)
            created = datetime.fromisoformat(a["created_at"].replace("Z", "+00:00")).timestamp()
            at_kill = killed is not None and created <= killed
            if (a["status"], a["attempts"]) == want:
                continue
            if at_kill and (a["status"], a["attempts"]) == (want[0], want[1] + 1):
                crash += 1
                continue
            bad.append(f"{a['id']}: {a['status']} after {a['attempts']} tries, expected {want}")
    return bad, total, crash


def check_webhooks(c, receiver, killed_at):
    """Each notification delivered as often as recorded and as expected, except one delivery
    that was in flight at the killed instance: it reached the receiver but its instance died
    before recording it, so it is sent again (same id) when its lease ends. At-least-once by
    design (the receiver dedups by id); counted, allowed only for receipts at the kill."""
    notes, _ = pages(c, "/api/v1/merchant/webhooks/notifications", "notification_list")
    all_events = events(c, "")
    bad, ids, crash = [], {n["id"] for n in notes}, 0
    if len(notes) != len(all_events):
        bad.append(f"{len(notes)} notifications for {len(all_events)} events")
    for n in notes:
        want = 2 if receiver.fails_first(n["id"]) else 1
        got = receiver.seen.get(n["id"], 0)
        at_kill = killed_at and killed_at - 2 <= receiver.first.get(n["id"], 0) <= killed_at + 0.5
        if at_kill and got == want + 1 and len(n["delivery_attempts"]) == want and n["status"] == "delivered":
            crash += 1
        elif n["status"] != "delivered" or len(n["delivery_attempts"]) != want or got != want:
            bad.append(f"{n['id']}: {n['status']}, {len(n['delivery_attempts'])} recorded attempts, "
                       f"{got} received, expected {want}")
    bad += [f"received unknown notification {i}" for i in set(receiver.seen) - ids]
    return bad, len(notes), sum(receiver.seen.values()), crash
