"""The npm packages the OpenAPI and docs-page tests use, pinned, installed
once into the build tree (SLUICE_BUILDDIR/tests/npm) and reused by later
runs.  Node and npm are Debian's (tests/lib/deps.sh); the registry is
npm's.  Install scripts are not run: none of these needs one (swagger-ui-
dist's only reports usage)."""
import fcntl
import json
import os

import harness

PINS = {
    "@seriousme/openapi-schema-validator": "2.11.0",
    "playwright-core": "1.65.1",
    "swagger-ui-dist": "5.35.0",
}


def _installed(d):
    for name, version in PINS.items():
        try:
            with open(os.path.join(d, "node_modules", name, "package.json")) as f:
                if json.load(f).get("version") != version:
                    return False
        except (OSError, ValueError):
            return False
    return True


def ensure(t):
    """The directory holding node_modules with every pin; one check."""
    harness.need_program("node")
    harness.need_program("npm")
    build = harness.env_path("SLUICE_BUILDDIR")
    d = os.path.join(build, "tests", "npm")
    os.makedirs(d, exist_ok=True)
    # Two tests may start at once (make -j): one installs, the other waits.
    with open(os.path.join(d, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _installed(d):
            with open(os.path.join(d, "package.json"), "w") as f:
                json.dump({"name": "sluice-tests", "private": True,
                           "dependencies": PINS}, f, indent=2)
            r = t.run_cmd(["npm", "install", "--no-audit", "--no-fund", "--ignore-scripts",
                           "--prefix", d], timeout=300)
            t.ok(r.returncode == 0 and _installed(d),
                 "npm install %s" % " ".join("%s@%s" % kv for kv in PINS.items()),
                 (r.stdout + r.stderr).decode(errors="replace"))
        else:
            t.ok(True, "npm packages pinned in %s already installed" % d)
    if not _installed(d):
        raise harness.Prerequisite("npm packages not installed")
    return d
