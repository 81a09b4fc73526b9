#!/usr/bin/env python3
"""Answers to the gold layer's web-log questions (DESIGN §5.1) for the real
access logs in this directory, computed without any of weir's code.

Run from this directory: python3 answers.py  (writes answers.json; stdlib
only; --check compares with the committed answers.json instead).

Semantics (the contract TestGoldRealLog holds the pipeline to):
- A line is a row when its client, time, request and status parse; other
  lines are rejects. Missing or unterminated bytes, referrer or user agent
  leave that field null (parse_issue), the row still counts.
- Bytes "-" (and missing bytes) are null: left out of sum, min and max;
  bytes_logged counts the rows that have bytes. The two logs here have
  no "-" bytes (their server logged 0 for empty bodies), so bytes_logged
  equals requests in every class.
- Days, weekdays and dates are UTC (the logs are in -0700/-0800).
- Rows with an event time after ingestion + 5 min are rejects (future);
  ingestion is now, and these logs are years old: none.
- Endpoint: the path without query string and fragment, as logged (not
  decoded). It is a file when its last segment, percent-decoded and with
  ";params" dropped, has an extension: a dot followed by at least one
  character (dot-files such as /.env are files); a trailing slash means
  not a file.
"""
import collections
import datetime as dt
import json
import re
import sys
import urllib.parse

LOGS = ["access-2018-12-15.log", "2021_all.log"]
FUTURE_TOLERANCE = dt.timedelta(minutes=5)

QUOTED = r'"((?:[^"\\]|\\.)*)"'
HEAD = re.compile(r'(\S+) (\S+) (\S+) \[([^\]]*)\] ' + QUOTED + r' (\d{3})(?= |$)')
REST = re.compile(r' (\d+|-)(?: ' + QUOTED + r'(?: ' + QUOTED + r')?)?')


def parse(line):
    """Returns a row dict, or None for a reject."""
    m = HEAD.match(line)
    if not m:
        return None
    client, _, _, ts, request, status = m.groups()
    try:
        t = dt.datetime.strptime(ts, "%d/%b/%Y:%H:%M:%S %z")
    except ValueError:
        return None
    parts = request.split(" ")
    if len(parts) < 2 or not parts[0] or not parts[1]:
        return None
    path = " ".join(parts[1:-1]) if len(parts) > 2 and parts[-1].startswith("HTTP/") else " ".join(parts[1:])
    row = {"client": client, "ts": t.astimezone(dt.timezone.utc), "path": path,
           "status": int(status), "bytes": None, "issue": None}
    r = REST.match(line, m.end())
    if not r:
        row["issue"] = "bytes"
    else:
        if r.group(1) != "-":
            row["bytes"] = int(r.group(1))
        if r.group(3) is None:
            row["issue"] = "referrer/user_agent"
    return row


def endpoint(path):
    return re.split(r"[?#]", path, maxsplit=1)[0]


def is_file(ep):
    # A full URL (a proxy request) counts by its path.
    m = re.match(r"[A-Za-z][A-Za-z0-9+.-]*://[^/]*", ep)
    if m:
        ep = ep[m.end():]
    seg = ep.rsplit("/", 1)[-1].split(";", 1)[0]
    seg = urllib.parse.unquote(seg, errors="replace").rsplit("/", 1)[-1]
    dot = seg.rfind(".")
    return 0 <= dot < len(seg) - 1 and seg != ".."


def compute(now):
    rows, rejects, lines = [], collections.Counter(), 0
    for name in LOGS:
        with open(name, "rb") as f:
            for raw in f:
                lines += 1
                line = raw.rstrip(b"\r\n").decode("utf-8", errors="replace")
                row = parse(line)
                if row is None:
                    rejects["unparsable"] += 1
                elif row["ts"] > now + FUTURE_TOLERANCE:
                    rejects["future"] += 1
                else:
                    rows.append(row)

    ips = collections.Counter(r["client"] for r in rows)
    top_ips = sorted(ips.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    days = sorted({r["ts"].date().isoformat() for r in rows})

    classes = {}
    for r in rows:
        c = classes.setdefault("%dxx" % (r["status"] // 100),
                               {"requests": 0, "bytes_logged": 0, "bytes_total": 0, "bytes_max": None, "bytes_min": None})
        c["requests"] += 1
        b = r["bytes"]
        if b is not None:
            c["bytes_logged"] += 1
            c["bytes_total"] += b
            c["bytes_max"] = b if c["bytes_max"] is None else max(c["bytes_max"], b)
            c["bytes_min"] = b if c["bytes_min"] is None else min(c["bytes_min"], b)
    for c in classes.values():
        c["bytes_avg"] = round(c["bytes_total"] / c["bytes_logged"], 2) if c["bytes_logged"] else None

    wd = collections.Counter()
    for r in rows:
        if r["status"] // 100 == 4:
            wd[r["ts"].isoweekday()] += 1
    weekdays = [{"iso_weekday": d, "weekday": dt.date(2024, 1, d).strftime("%A"), "errors_4xx": n}
                for d, n in sorted(wd.items(), key=lambda kv: (-kv[1], kv[0]))]

    eps = collections.Counter()
    for r in rows:
        ep = endpoint(r["path"])
        if ep and not is_file(ep):
            eps[ep] += 1
    top_eps = sorted(eps.items(), key=lambda kv: (-kv[1], kv[0]))[:10]

    return {
        "files": LOGS,
        "lines": lines,
        "rows": len(rows),
        "rejects": dict(rejects),
        "rows_with_parse_issue": sum(1 for r in rows if r["issue"]),
        "bytes_dash_or_missing": sum(1 for r in rows if r["bytes"] is None),
        "top_client_ips": [{"client_ip": ip, "requests": n} for ip, n in top_ips],
        "distinct_client_ips": len(ips),
        "days": {"days": len(days), "first_day": days[0], "last_day": days[-1]},
        "by_status_class": dict(sorted(classes.items())),
        "weekdays_4xx": weekdays,
        "top_endpoints": [{"endpoint": ep, "requests": n} for ep, n in top_eps],
    }


def main():
    got = compute(dt.datetime.now(dt.timezone.utc))
    text = json.dumps(got, indent=2) + "\n"
    if sys.argv[1:] == ["--check"]:
        with open("answers.json") as f:
            if f.read() != text:
                sys.exit("answers.json is stale: run python3 answers.py")
        return
    with open("answers.json", "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
