#!/usr/bin/env python3
"""Golden tests: the real tempusc binary replays every captured chronyc run of one vector
directory (shared/vectors/cmdmon/DIR) and must print exactly what chronyc printed.

For each NAME (NAME.decoded.json): runs `tempusc ARGS` with the arguments of the captured
chronyc command line and TEMPUS_REPLAY=DIR/NAME, so that tempusc's transport sends each
request to a replay of NAME.NN.hex instead of a socket. Checks:
  * stdout is byte for byte NAME.txt (or tests/unit/client/golden-expected/DIR/NAME.txt where
    tempusc deliberately differs from that chronyc, see that directory's README);
  * the exit status is chronyc's (or the override's);
  * every request tempusc sent equals the captured one apart from the sequence number and
    zero padding, and every capture was used (no "replay:" line on stderr), except for the
    runs listed in REQUEST_DIFFS.
Usage: golden.py TEMPUSC VECTOR_DIR [OVERRIDE_DIR]
"""
import json
import os
import shlex
import subprocess
import sys

# Runs whose requests legitimately differ from what that chronyc sent (why: design doc).
REQUEST_DIFFS = {
    # chronyc 4.3 sends ADD_SOURCE with a zero "reserved" word; tempusc sends 4.8's
    # max_unreach default (100000), which 4.3 ignores.
    "add-server-dup": "ADD_SOURCE max_unreach",
}


def main():
    tempusc, vdir = sys.argv[1], sys.argv[2]
    odir = sys.argv[3] if len(sys.argv) > 3 else None
    names = sorted(f[:-len(".decoded.json")] for f in os.listdir(vdir)
                   if f.endswith(".decoded.json"))
    passed = failed = 0
    for name in names:
        meta = json.load(open(os.path.join(vdir, name + ".decoded.json")))
        args = shlex.split(meta["command"])[1:]
        expected_file = os.path.join(vdir, name + ".txt")
        expected_rc = meta["exit_status"]
        if odir and os.path.exists(os.path.join(odir, name + ".txt")):
            expected_file = os.path.join(odir, name + ".txt")
            rc_file = os.path.join(odir, name + ".rc")
            if os.path.exists(rc_file):
                expected_rc = int(open(rc_file).read())
        expected = open(expected_file, "rb").read()
        env = dict(os.environ, TEMPUS_REPLAY=os.path.join(vdir, name), TZ="UTC")
        p = subprocess.run([tempusc] + args, env=env, capture_output=True, timeout=60)
        problems = []
        if p.stdout != expected:
            problems.append("stdout differs:\n--- expected\n%s--- got\n%s" %
                            (expected.decode(errors="replace"),
                             p.stdout.decode(errors="replace")))
        replay_lines = [l for l in p.stderr.decode(errors="replace").splitlines()
                        if l.startswith("replay:")]
        rc = p.returncode
        if replay_lines and name in REQUEST_DIFFS:
            replay_lines = []
            if rc == 3:
                rc = 0
        if replay_lines:
            problems.append("\n".join(replay_lines))
        if rc != expected_rc:
            problems.append("exit status %d, expected %d" % (rc, expected_rc))
        if problems:
            failed += 1
            print("not ok %s: %s" % (name, meta["command"]))
            for pr in problems:
                print("    " + pr.replace("\n", "\n    "))
        else:
            passed += 1
            print("ok %s" % name)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
