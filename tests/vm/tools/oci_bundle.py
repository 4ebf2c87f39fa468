#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""oci_bundle.py DIR ROOT [BASE COUNT] -- ARG...: write DIR/config.json, an
OCI bundle for crun whose root.path is ROOT (writable), running ARG... with
no terminal; with BASE COUNT, in a user namespace whose ids 0..COUNT-1 are
the host's BASE.. (a container of `ct create --userns BASE:COUNT`). The
rest is `crun spec`'s default."""
import json
import os
import subprocess
import sys


def main():
    sep = sys.argv.index("--")
    opts, args = sys.argv[1:sep], sys.argv[sep + 1:]
    bundle, root = opts[0], opts[1]
    os.makedirs(bundle, exist_ok=True)
    cfg_path = os.path.join(bundle, "config.json")
    if os.path.exists(cfg_path):
        os.unlink(cfg_path)
    subprocess.run(["crun", "spec"], cwd=bundle, check=True)
    with open(cfg_path) as f:
        cfg = json.load(f)
    cfg["root"] = {"path": root, "readonly": False}
    cfg["process"]["terminal"] = False
    cfg["process"]["args"] = args
    cfg["hostname"] = "oci"
    if len(opts) == 4:
        base, count = int(opts[2]), int(opts[3])
        cfg["linux"]["namespaces"].append({"type": "user"})
        for k in ("uidMappings", "gidMappings"):
            cfg["linux"][k] = [{"containerID": 0, "hostID": base,
                                "size": count}]
    with open(cfg_path, "w") as f:
        json.dump(cfg, f, indent=1)


if __name__ == "__main__":
    main()
