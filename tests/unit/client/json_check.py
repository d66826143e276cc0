#!/usr/bin/env python3
"""JSON output (-j) of one tempusc command, checked against the schema of docs/JSON.md.

Runs the real tempusc on a captured exchange (TEMPUS_REPLAY, as the golden tests), with the
captured chronyc command line, -n/-c replaced by -j. The output must be exactly one JSON
document per command, with the documented keys and value types, and values that agree with
chronyc's text output where they are simple to compare.
Usage: json_check.py TEMPUSC VECTORS_DIR COMMAND
"""
import json
import os
import shlex
import subprocess
import sys

NUM = (int, float)
STR = str
OPT_NUM = (int, float, type(None))

# command -> (vector, document keys, list key, record keys)
SCHEMA = {
    "tracking": ("chrony43/tracking", {
        "ref_id": STR, "name": STR, "stratum": int, "ref_time": NUM,
        "current_correction": NUM, "last_offset": NUM, "rms_offset": NUM, "freq_ppm": NUM,
        "resid_freq_ppm": NUM, "skew_ppm": NUM, "root_delay": NUM, "root_dispersion": NUM,
        "last_update_interval": NUM, "leap_status": STR}, None, None),
    "sources": ("chrony43/sources", {}, "sources", {
        "mode": STR, "state": STR, "mode_name": STR, "state_name": STR, "name": STR,
        "stratum": int, "poll": int, "reach": int, "last_rx": (int, type(None)),
        "latest_meas": NUM, "orig_latest_meas": NUM, "latest_meas_err": NUM}),
    "sourcestats": ("chrony43/sourcestats", {}, "sources", {
        "name": STR, "n_samples": int, "n_runs": int, "span": (int, type(None)),
        "resid_freq_ppm": NUM, "skew_ppm": NUM, "est_offset": NUM, "sd": NUM,
        "est_offset_err": NUM}),
    "selectdata": ("synthetic/f43-selectdata", {}, "sources", {
        "state": STR, "name": STR, "auth": STR, "conf_options": STR, "eff_options": STR,
        "last_sample_ago": (int, type(None)), "score": NUM, "lo_limit": NUM, "hi_limit": NUM,
        "leap": STR}),
    "ntpdata": ("chrony48/d48-ntpdata", {}, "sources", {
        "remote_addr": STR, "remote_refid": STR, "remote_port": int, "local_addr": STR,
        "local_refid": STR, "leap": STR, "version": int, "mode": STR, "stratum": int,
        "poll": int, "poll_seconds": NUM, "precision": int, "precision_seconds": NUM,
        "root_delay": NUM, "root_dispersion": NUM, "ref_id": STR, "ref_id_text": STR,
        "ref_time": NUM, "offset": NUM, "peer_delay": NUM, "peer_dispersion": NUM,
        "response_time": NUM, "jitter_asymmetry": NUM, "tests_1_3": STR, "tests_5_7": STR,
        "tests_a_d": STR, "interleaved": bool, "authenticated": bool, "tx_timestamping": STR,
        "rx_timestamping": STR, "total_tx": int, "total_rx": int, "total_valid_rx": int,
        "total_good_rx": int, "total_kernel_tx": int, "total_kernel_rx": int,
        "total_hw_tx": int, "total_hw_rx": int}),
    "activity": ("chrony43/activity", {
        "online": int, "offline": int, "burst_online": int, "burst_offline": int,
        "unresolved": int}, None, None),
    "serverstats": ("synthetic/f48-serverstats", {
        "ntp_hits": int, "ntp_drops": int, "cmd_hits": int, "cmd_drops": int,
        "log_drops": int, "nke_hits": int, "nke_drops": int, "ntp_auth_hits": int,
        "ntp_interleaved_hits": int, "ntp_timestamps": int, "ntp_span_seconds": int,
        "ntp_daemon_rx_timestamps": int, "ntp_daemon_tx_timestamps": int,
        "ntp_kernel_rx_timestamps": int, "ntp_kernel_tx_timestamps": int,
        "ntp_hw_rx_timestamps": int, "ntp_hw_tx_timestamps": int}, None, None),
    "clients": ("synthetic/f43-clients", {}, "clients", {
        "name": STR, "ntp_hits": int, "ntp_drops": int, "ntp_interval": (int, type(None)),
        "ntp_timeout_interval": (int, type(None)), "last_ntp_hit_ago": (int, type(None)),
        "cmd_hits": int, "cmd_drops": int, "cmd_interval": (int, type(None)),
        "last_cmd_hit_ago": (int, type(None))}),
    "authdata": ("synthetic/f43-authdata", {}, "sources", {
        "name": STR, "mode": STR, "key_id": int, "key_type": int, "key_length": int,
        "last_ke_ago": (int, type(None)), "ke_attempts": int, "nak": int, "cookies": int,
        "cookie_length": int}),
    "smoothing": ("synthetic/f43-smoothing", {
        "active": bool, "leap_only": STR, "offset": NUM, "freq_ppm": NUM, "wander_ppm": NUM,
        "last_update_ago": NUM, "remaining_time": NUM}, None, None),
    "rtcdata": ("synthetic/f43-rtcdata", {
        "ref_time": NUM, "n_samples": int, "n_runs": int, "span_seconds": (int, type(None)),
        "rtc_seconds_fast": NUM, "rtc_gain_rate_ppm": NUM}, None, None),
    "manual": ("synthetic/f43-manual-list", {}, "samples", {
        "index": int, "time": STR, "slewed_offset": NUM, "orig_offset": NUM, "residual": NUM}),
    "sourcename": ("synthetic/f43-sourcename", {"name": STR}, None, None),
    "waitsync": ("chrony43/waitsync", {}, "tries", {
        "try": int, "ref_id": STR, "correction": NUM, "skew_ppm": NUM}),
    "burst": ("chrony43/burst", {"status": STR, "ok": bool}, None, None),
    "clients-unauth": ("chrony43/clients-udp-unauth", {"status": STR, "ok": bool}, "clients",
                       None),
}


def check_types(obj, keys, where):
    for k, t in keys.items():
        assert k in obj, "%s: missing key %r in %s" % (where, k, sorted(obj))
        v = obj[k]
        if t is int or (isinstance(t, tuple) and int in t and float not in t):
            assert not isinstance(v, bool), "%s.%s: bool where int expected" % (where, k)
        assert isinstance(v, t), "%s.%s: %r is not %s" % (where, k, v, t)


def main():
    tempusc, vdir, command = sys.argv[1:4]
    vector, doc_keys, list_key, rec_keys = SCHEMA[command]
    meta = json.load(open(os.path.join(vdir, vector + ".decoded.json")))
    args = [a for a in shlex.split(meta["command"])[1:] if a not in ("-n", "-c")]
    env = dict(os.environ, TEMPUS_REPLAY=os.path.join(vdir, vector), TZ="UTC")
    p = subprocess.run([tempusc, "-j"] + args, env=env, capture_output=True, timeout=60)
    text = p.stdout.decode()
    lines = [l for l in text.split("\n") if l.strip()]
    assert len(lines) == 1, "expected one JSON document on one line, got:\n" + text
    doc = json.loads(lines[0])
    word = command.split("-")[0]
    assert doc["command"] == word, doc["command"]
    assert doc["exit_status"] == meta["exit_status"] == p.returncode, \
        (doc["exit_status"], meta["exit_status"], p.returncode)
    check_types(doc, doc_keys, command)
    if list_key:
        assert isinstance(doc[list_key], list), "%s is not a list" % list_key
        if rec_keys:
            assert doc[list_key], "empty %s" % list_key
            for i, rec in enumerate(doc[list_key]):
                check_types(rec, rec_keys, "%s[%d]" % (list_key, i))
    # Values that must agree with what chronyc printed for the same reply.
    chronyc = open(os.path.join(vdir, vector + ".txt")).read()
    if command == "tracking":
        assert "Reference ID    : %s (%s)" % (doc["ref_id"], doc["name"]) in chronyc
        assert "Stratum         : %d\n" % doc["stratum"] in chronyc
    elif command in ("sources", "sourcestats", "selectdata", "authdata"):
        names = [r["name"] for r in doc[list_key]]
        for n in names:
            assert n in chronyc, n
        if command == "selectdata":
            for r in doc[list_key]:
                if r["state"] != "*":
                    assert r.get("reason"), "no reason for %s (%s)" % (r["name"], r["state"])
        if command == "sources":
            assert sum(1 for r in doc[list_key] if r["state"] == "*") == 1
    elif command == "clients":
        rows = [l for l in chronyc.split("\n")[2:] if l.strip()]
        assert len(doc["clients"]) == len(rows), (len(doc["clients"]), len(rows))
        assert doc["clients"][0]["name"] == rows[0].split()[0]
    elif command == "serverstats":
        assert "NTP packets received       : %d\n" % doc["ntp_hits"] in chronyc
    elif command == "activity":
        assert "%d sources online" % doc["online"] in chronyc
    elif command == "burst":
        assert doc["status"] == "200 OK" and doc["ok"] is True
    elif command == "clients-unauth":
        assert doc["status"] == "501 Not authorised" and doc["ok"] is False
    elif command == "manual":
        assert len(doc["samples"]) == 2
    elif command == "sourcename":
        assert doc["name"] + "\n" == chronyc
    print("1 passed, 0 failed")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except AssertionError as e:
        print("FAIL:", e)
        print("0 passed, 1 failed")
        sys.exit(1)
