"""The deploy examples (docker-compose.yml, kubernetes.yaml) parse, hold together, and give the sidecar a
command line that `lastgasp watch` accepts. There is no Docker engine nor Kubernetes where the tests run:
this checks what can be checked without them (structure and our own command line), not a deployment."""
import os
import subprocess
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
CLI = HERE.parents[1] / "build" / "lastgasp"
FAKE_DSN = "https://0123456789abcdef@sentry.invalid/42"


def watch_args_accepted(args):
    """Run the sidecar's arguments with its dump directory swapped for one that does not exist: a usage
    error exits 2, while arguments that parse reach the directory check and exit 1."""
    args = [FAKE_DSN if "LASTGASP_DSN" in a else a for a in args]
    assert args[0] == "watch"
    missing = str(HERE / "no-such-dump-dir")
    p = subprocess.run([str(CLI), *[missing if a == args[1] else a for a in args]], capture_output=True, text=True,
                       timeout=30)
    assert p.returncode == 1 and "not a directory" in p.stderr, p.stderr
    return True


def env_of(container):
    env = container.get("env") or container.get("environment")
    return {e["name"]: e.get("value") for e in env} if isinstance(env, list) else env


def test_compose():
    c = yaml.safe_load((HERE / "docker-compose.yml").read_text())
    svc, watch, lib = c["services"]["svc"], c["services"]["lastgasp-watch"], c["services"]["lastgasp-lib"]
    dump_dir = env_of(svc)["LASTGASP_DIR"]
    assert f"dumps:{dump_dir}" in svc["volumes"] and f"dumps:{dump_dir}" in watch["volumes"]
    assert f"dumps:{dump_dir}" in lib["volumes"]  # made the service user's
    preload = env_of(svc)["LD_PRELOAD"]
    assert f"lastgasp-lib:{os.path.dirname(preload)}:ro" in svc["volumes"]
    assert "lastgasp-lib:" + os.path.dirname(preload) in lib["volumes"]
    assert os.path.basename(preload) in " ".join(lib["entrypoint"])
    assert svc["user"] == watch["user"]  # the dumps are 0600
    assert set(c["volumes"]) == {"dumps", "lastgasp-lib"}
    assert watch["command"][1] == dump_dir and watch_args_accepted(watch["command"])
    assert watch["stop_signal"] == "SIGTERM" and int(watch["stop_grace_period"].rstrip("s")) >= 10


def test_kubernetes():
    docs = list(yaml.safe_load_all((HERE / "kubernetes.yaml").read_text()))
    [dep] = [d for d in docs if d["kind"] == "Deployment"]
    pod = dep["spec"]["template"]["spec"]
    assert dep["spec"]["selector"]["matchLabels"].items() <= dep["spec"]["template"]["metadata"]["labels"].items()
    [svc] = pod["containers"]
    inits = {c["name"]: c for c in pod["initContainers"]}
    watch, lib = inits["lastgasp-watch"], inits["lastgasp-lib"]
    mounts = {m["name"]: m["mountPath"] for m in svc["volumeMounts"]}
    dump_dir, preload = env_of(svc)["LASTGASP_DIR"], env_of(svc)["LD_PRELOAD"]
    assert mounts["dumps"] == dump_dir and mounts["lastgasp-lib"] == os.path.dirname(preload)
    assert {m["name"]: m["mountPath"] for m in watch["volumeMounts"]} == {"dumps": dump_dir}
    assert {m["name"]: m["mountPath"] for m in lib["volumeMounts"]} == {"lastgasp-lib": os.path.dirname(preload)}
    assert lib["command"][-1] == preload
    assert {v["name"] for v in pod["volumes"]} == {"dumps", "lastgasp-lib"}
    assert watch["restartPolicy"] == "Always"  # a native sidecar: up before the service, down after it
    assert list(pod["initContainers"])[0]["name"] == "lastgasp-lib"  # the library is in place first
    assert pod["securityContext"]["runAsUser"] and "runAsUser" not in svc.get("securityContext", {})
    assert pod["terminationGracePeriodSeconds"] >= 10
    assert env_of(watch)["LASTGASP_DSN"] is None  # from the secret, not written here
    assert watch["env"][0]["valueFrom"]["secretKeyRef"]["name"] == "lastgasp"
    assert watch["args"][1] == dump_dir and watch_args_accepted(watch["args"])
