"""What scripts/record-layout-fixtures dumps, for the sections that record vectors: every key of
a Redis/Valkey database (with the search indexes over it, as FT.INFO describes them, so the tests
create them again as the library did) and every document of a Firestore database (vectors as
arrays of floats). Works with redis-py and valkey-py clients (only execute_command is used)."""
import base64
import json


def text(x):
    return x.decode() if isinstance(x, bytes) else str(x)


def index_spec(r, name):
    raw = r.execute_command("FT.INFO", name)
    # a flat reply, or a dict where the client parses FT.INFO itself
    pairs = raw.items() if isinstance(raw, dict) else zip(raw[0::2], raw[1::2])
    info = {text(k): v for k, v in pairs}
    d = info["index_definition"]
    d = [x for kv in d.items() for x in kv] if isinstance(d, dict) else d
    definition = [[text(y) for y in x] if isinstance(x, list) else text(x) for x in d]
    # flat [k, v, ...] lists, or dicts where the client parses them
    flat = lambda a: [y for kv in a.items() for y in kv] if isinstance(a, dict) else a
    attrs = [[text(x) for x in flat(a)] for a in info["attributes"]]
    return {"name": name, "definition": definition, "attributes": attrs, "num_docs": int(text(info["num_docs"]))}


def redis_dump(r):
    """Every key, with its type, TTL and content; the search indexes over them."""
    keys = []
    for k in sorted(r.scan_iter(count=1000)):
        t = text(r.type(k))
        entry = {"key": text(k), "type": t, "ttl": r.ttl(k)}
        if t == "hash":
            entry["fields"] = {text(f): base64.b64encode(v).decode() for f, v in r.hgetall(k).items()}
        elif t == "ReJSON-RL":
            entry["json"] = json.loads(r.execute_command("JSON.GET", k, "$"))[0]
        elif t == "string":
            entry["value"] = base64.b64encode(r.get(k)).decode()
        elif t == "zset":
            entry["members"] = [[text(m), s] for m, s in r.zrange(k, 0, -1, withscores=True)]
        elif t == "list":
            entry["items"] = [base64.b64encode(x).decode() for x in r.lrange(k, 0, -1)]
        else:
            raise SystemExit(f"{k}: type {t} not dumped")
        keys.append(entry)
    try:
        names = sorted(text(n) for n in r.execute_command("FT._LIST"))
    except Exception:  # no search module
        names = []
    return {"indexes": [index_spec(r, n) for n in names], "redis": keys}


def fs_value(v):
    if isinstance(v, bytes): return {"bytes": base64.b64encode(v).decode()}
    if isinstance(v, str): return {"string": v}
    if isinstance(v, bool): return {"bool": v}
    if isinstance(v, int): return {"int": v}
    if isinstance(v, float): return {"double": v}
    if isinstance(v, list): return {"array": [fs_value(x) for x in v]}
    if isinstance(v, dict): return {"map": {k: fs_value(x) for k, x in v.items()}}
    if v is None: return {"null": None}
    if hasattr(v, "isoformat"): return {"timestamp": v.isoformat()}
    if type(v).__name__ == "Vector": return {"vector": [float(x) for x in v]}
    raise SystemExit(f"value {v!r} not dumped")


def firestore_dump(client):
    """Every document (missing parents walked through), sorted by path."""
    docs = []

    def walk(coll):
        for ref in coll.list_documents():
            snap = ref.get()
            if snap.exists:
                docs.append({"path": ref.path, "fields": {k: fs_value(x) for k, x in snap.to_dict().items()}})
            for sub in ref.collections():
                walk(sub)

    for c in client.collections():
        walk(c)
    docs.sort(key=lambda d: d["path"])
    return {"firestore": docs}
