#!/usr/bin/env python3
"""What a user would write instead of kudu-state: walk site/deployments with os.scandir, parse every
status.xml with xml.etree.ElementTree, list the records that are not complete, and read the lock files.

Usage: scan_naive.py HOME   (prints a JSON summary)
"""
import json
import os
import sys
import xml.etree.ElementTree as ET


def main(home: str) -> int:
    site = os.path.join(home, "site")
    incomplete, corrupt, records = [], [], 0
    with os.scandir(os.path.join(site, "deployments")) as it:
        for entry in it:
            if not entry.is_dir(follow_symlinks=False):
                continue
            path = os.path.join(entry.path, "status.xml")
            try:
                root = ET.parse(path).getroot()
            except FileNotFoundError:
                continue
            except ET.ParseError as e:
                corrupt.append({"id": entry.name, "error": str(e)})
                continue
            records += 1
            if (root.findtext("complete") or "").strip().lower() != "true":
                incomplete.append(
                    {"id": entry.name, "status": root.findtext("status"), "received": root.findtext("receivedTime")}
                )
    locks = {}
    locks_dir = os.path.join(site, "locks")
    if os.path.isdir(locks_dir):
        for name in ("deployments.lock", "status.lock", "hooks.lock", "sshkey.lock", "deployment/info.lock"):
            p = os.path.join(locks_dir, name)
            try:
                with open(p, "rb") as f:
                    raw = f.read()
                locks[name] = json.loads(raw.decode("utf-8-sig"))
            except FileNotFoundError:
                pass
            except ValueError as e:
                locks[name] = {"corrupt": str(e)}
    json.dump(
        {"records": records, "incomplete": incomplete, "corrupt": corrupt, "locks": locks},
        sys.stdout,
        indent=2,
    )
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("HOME", ".")))
