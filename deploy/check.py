#!/usr/bin/env python3
"""Checks the deployment recipes under deploy/ as far as a machine without
Docker, Kubernetes or Slurm can (docs/scale-out.md):

- every Kubernetes manifest parses (python3-yaml) and has the fields its kind
  needs; the objects refer to each other consistently (Service -> Deployment
  labels and ports, HPA -> Deployment, ServiceMonitor -> Service); probes use
  fer serve's health endpoints; an Indexed Job's --shard count equals its
  completions;
- every `fer` command line in them (container args, Slurm scripts) uses only
  options that `fer <command> --help` lists, when --fer names the executable;
- the Dockerfile has the structure we rely on (no Dockerfile linter is
  packaged in Debian 12: hadolint is not): Debian 12 stages, scripts/setup.sh,
  COPY --from a named stage, JSON-form ENTRYPOINT/CMD, and run-time packages
  that exist in the apt archive (apt-cache, when available);
- the Slurm scripts pass `bash -n` and carry #SBATCH lines.

Exit 0 when all hold; otherwise 1, with one line per problem naming the file.
"""
import argparse
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
problems = []


def problem(path, msg):
    problems.append(f"{path.relative_to(HERE.parent)}: {msg}")


def dig(obj, dotted, default=None):
    for key in dotted.split("."):
        if not isinstance(obj, dict) or key not in obj:
            return default
        obj = obj[key]
    return obj


def require(path, obj, fields, what):
    for f in fields:
        if dig(obj, f) in (None, "", [], {}):
            problem(path, f"{what}: missing {f}")


# ---- fer's own options ---------------------------------------------------------

help_cache = {}


def fer_options(fer, command):
    if command not in help_cache:
        out = subprocess.run([fer, command, "--help"], capture_output=True, text=True, check=False)
        help_cache[command] = set(re.findall(r"^\s+(--[a-z0-9-]+)", out.stdout, re.M)) if out.returncode == 0 else None
    return help_cache[command]


def check_fer_args(path, args, fer, where):
    if not args or not fer:
        return
    command = args[0]
    known = fer_options(fer, command)
    if known is None:
        problem(path, f"{where}: `fer {command}` is not a fer command")
        return
    for a in args[1:]:
        if isinstance(a, str) and a.startswith("--"):
            name = a.split("=", 1)[0]
            if name not in known:
                problem(path, f"{where}: fer {command} has no option {name}")


# ---- Kubernetes ----------------------------------------------------------------

def containers_of(pod_spec):
    return (pod_spec or {}).get("containers") or []


def check_container(path, c, fer, where, probes):
    require(path, c, ["name", "image", "resources.requests.cpu", "resources.requests.memory",
                      "resources.limits.memory"], where)
    check_fer_args(path, c.get("args"), fer, where)
    if probes:
        for probe, allowed in (("livenessProbe", {"/healthz", "/healthz/live"}),
                               ("readinessProbe", {"/healthz/ready"})):
            p = dig(c, f"{probe}.httpGet.path")
            if p not in allowed:
                problem(path, f"{where}: {probe} must GET one of {sorted(allowed)}, not {p}")
            port = dig(c, f"{probe}.httpGet.port")
            names = {p.get("name") for p in c.get("ports") or []} | {p.get("containerPort") for p in c.get("ports") or []}
            if port not in names:
                problem(path, f"{where}: {probe} port {port} is not a container port")


def check_kubernetes(fer):
    docs = []
    for f in sorted((HERE / "kubernetes").glob("*.yaml")):
        try:
            for d in yaml.safe_load_all(f.read_text()):
                if d is not None:
                    docs.append((f, d))
        except yaml.YAMLError as e:
            problem(f, f"YAML does not parse: {e}")
    if not docs:
        problem(HERE / "kubernetes", "no manifests")
    by_kind = {}
    for f, d in docs:
        require(f, d, ["apiVersion", "kind", "metadata.name"], "object")
        by_kind.setdefault(d.get("kind"), []).append((f, d))

    deployments = {d["metadata"]["name"]: (f, d) for f, d in by_kind.get("Deployment", [])}
    services = {d["metadata"]["name"]: (f, d) for f, d in by_kind.get("Service", [])}
    for name, (f, d) in deployments.items():
        where = f"Deployment {name}"
        require(f, d, ["spec.selector.matchLabels", "spec.template.metadata.labels", "spec.template.spec.containers"], where)
        sel, labels = dig(d, "spec.selector.matchLabels", {}), dig(d, "spec.template.metadata.labels", {})
        if any(labels.get(k) != v for k, v in sel.items()):
            problem(f, f"{where}: selector {sel} does not match the pod labels {labels}")
        ann = dig(d, "spec.template.metadata.annotations", {}) or {}
        if ann.get("prometheus.io/scrape") != "true" or ann.get("prometheus.io/path") != "/metrics":
            problem(f, f"{where}: pods lack the Prometheus scrape annotations for /metrics")
        for c in containers_of(dig(d, "spec.template.spec")):
            check_container(f, c, fer, f"{where} container {c.get('name')}", probes=True)
    for name, (f, d) in services.items():
        where = f"Service {name}"
        require(f, d, ["spec.selector", "spec.ports"], where)
        targets = [dd for _, dd in deployments.values()
                   if all(dig(dd, "spec.template.metadata.labels", {}).get(k) == v for k, v in d["spec"]["selector"].items())]
        if not targets:
            problem(f, f"{where}: its selector matches no Deployment's pods")
        for p in d["spec"].get("ports", []):
            tp = p.get("targetPort")
            ports = [cp for dd in targets for c in containers_of(dig(dd, "spec.template.spec")) for cp in c.get("ports") or []]
            if tp is not None and not any(tp in (cp.get("name"), cp.get("containerPort")) for cp in ports):
                problem(f, f"{where}: targetPort {tp} is no container port of its pods")
    for f, d in by_kind.get("HorizontalPodAutoscaler", []):
        where = f"HorizontalPodAutoscaler {d['metadata']['name']}"
        require(f, d, ["spec.scaleTargetRef.name", "spec.minReplicas", "spec.maxReplicas", "spec.metrics"], where)
        if dig(d, "spec.scaleTargetRef.kind") != "Deployment" or dig(d, "spec.scaleTargetRef.name") not in deployments:
            problem(f, f"{where}: scaleTargetRef is not one of the Deployments {sorted(deployments)}")
        if (dig(d, "spec.minReplicas") or 0) > (dig(d, "spec.maxReplicas") or 0):
            problem(f, f"{where}: minReplicas above maxReplicas")
        for fd in [deployments.get(dig(d, "spec.scaleTargetRef.name"))]:
            if fd and any(dig(c, "resources.requests.cpu") is None for c in containers_of(dig(fd[1], "spec.template.spec"))):
                problem(f, f"{where}: CPU utilisation needs CPU requests on the target's containers")
    for f, d in by_kind.get("ServiceMonitor", []):
        where = f"ServiceMonitor {d['metadata']['name']}"
        sel = dig(d, "spec.selector.matchLabels", {})
        svc = [s for _, s in services.values() if all(s["metadata"].get("labels", {}).get(k) == v for k, v in sel.items())]
        if not svc:
            problem(f, f"{where}: selects no Service by its labels")
        for e in dig(d, "spec.endpoints", []) or []:
            if e.get("path") != "/metrics" or not any(e.get("port") == p.get("name") for s in svc for p in s["spec"]["ports"]):
                problem(f, f"{where}: endpoint {e} is not a Service port's /metrics")
    for f, d in by_kind.get("Job", []):
        where = f"Job {d['metadata']['name']}"
        require(f, d, ["spec.completions", "spec.template.spec.containers", "spec.template.spec.restartPolicy"], where)
        if dig(d, "spec.template.spec.restartPolicy") not in ("Never", "OnFailure"):
            problem(f, f"{where}: a Job's pods need restartPolicy Never or OnFailure")
        for c in containers_of(dig(d, "spec.template.spec")):
            check_container(f, c, fer, f"{where} container {c.get('name')}", probes=False)
            args = [str(a) for a in c.get("args") or []]
            if "--shard" in args:
                shard = args[args.index("--shard") + 1]
                if dig(d, "spec.completionMode") != "Indexed":
                    problem(f, f"{where}: --shard auto needs completionMode Indexed (JOB_COMPLETION_INDEX)")
                if shard != f"auto/{dig(d, 'spec.completions')}":
                    problem(f, f"{where}: --shard {shard} does not match completions {dig(d, 'spec.completions')}")
                for needed in ("--shard-dir", "--resume"):
                    if needed not in args:
                        problem(f, f"{where}: a sharded run in a Job wants {needed} (retried pods resume)")
    for f, d in by_kind.get("PyTorchJob", []):
        where = f"PyTorchJob {d['metadata']['name']}"
        require(f, d, ["spec.pytorchReplicaSpecs.Master.replicas"], where)
        if dig(d, "spec.pytorchReplicaSpecs.Master.replicas") != 1:
            problem(f, f"{where}: exactly one Master (rank 0)")
        for role, spec in (dig(d, "spec.pytorchReplicaSpecs", {}) or {}).items():
            for c in containers_of(dig(spec, "template.spec")):
                if c.get("name") != "pytorch":
                    problem(f, f"{where} {role}: the training operator wants the container named pytorch")
                check_container(f, c, fer, f"{where} {role}", probes=False)
                if (c.get("args") or [None])[0] != "train":
                    problem(f, f"{where} {role}: args must run fer train")
    for kind in ("Deployment", "Service", "HorizontalPodAutoscaler", "Job", "PyTorchJob"):
        if kind not in by_kind:
            problem(HERE / "kubernetes", f"no {kind} manifest")
    return len(docs)


# ---- Dockerfile ------------------------------------------------------------------

def check_dockerfile():
    f = HERE / "docker" / "Dockerfile"
    text = f.read_text()
    # Instructions, with continuation lines joined.
    lines = re.sub(r"\\\n", " ", text).splitlines()
    instr = [l.strip() for l in lines if l.strip() and not l.strip().startswith("#")]
    known = {"FROM", "RUN", "COPY", "ADD", "ENV", "WORKDIR", "USER", "EXPOSE", "ENTRYPOINT", "CMD", "ARG",
             "LABEL", "VOLUME", "HEALTHCHECK", "SHELL", "STOPSIGNAL", "ONBUILD"}
    stages = []
    for l in instr:
        word = l.split()[0].upper()
        if word not in known:
            problem(f, f"unknown instruction {word}")
        if word == "FROM":
            parts = l.split()
            if not parts[1].startswith("debian:12"):
                problem(f, f"stage from {parts[1]}, not Debian 12")
            stages.append(parts[3] if len(parts) > 3 and parts[2].upper() == "AS" else None)
        if word == "COPY" and "--from=" in l:
            src = re.search(r"--from=(\S+)", l).group(1)
            if src not in stages:
                problem(f, f"COPY --from={src}: no earlier stage of that name")
        if word in ("ENTRYPOINT", "CMD"):
            try:
                json.loads(l.split(None, 1)[1])
            except ValueError:
                problem(f, f"{word} not in JSON (exec) form: {l}")
    if not instr or instr[0].split()[0].upper() != "FROM":
        problem(f, "does not start with FROM")
    if "scripts/setup.sh" not in text:
        problem(f, "does not build with scripts/setup.sh")
    if not (HERE.parent / "scripts" / "setup.sh").is_file():
        problem(f, "scripts/setup.sh is missing")
    # The run-time stage's packages must exist in Debian 12's archive.
    last = text.rsplit("\nFROM ", 1)[-1]
    m = re.search(r"apt-get install[^\n]*?--no-install-recommends((?:\\\n|[^\n])*)", last)
    pkgs = [p for p in re.split(r"[\s\\]+", m.group(1).split("&&")[0]) if p and not p.startswith("-")] if m else []
    if not pkgs:
        problem(f, "no run-time packages found in the last stage")
    elif shutil.which("apt-cache"):
        missing = [p for p in pkgs
                   if subprocess.run(["apt-cache", "show", p], capture_output=True, check=False).returncode != 0]
        if missing:
            problem(f, f"packages not in the apt archive: {' '.join(missing)}")
    return pkgs


# ---- Slurm ------------------------------------------------------------------------

def check_slurm(fer):
    scripts = sorted((HERE / "slurm").glob("*.sbatch"))
    for f in scripts:
        text = f.read_text()
        if subprocess.run(["bash", "-n", str(f)], capture_output=True, check=False).returncode != 0:
            problem(f, "bash -n: syntax error")
        if "#SBATCH" not in text:
            problem(f, "no #SBATCH lines")
        for m in re.finditer(r"\bfer (predict|train|video)\b((?:\\\n|[^\n])*)", text):
            args = [m.group(1)] + re.findall(r"(--[a-z0-9-]+)", m.group(2))
            check_fer_args(f, args, fer, "command line")
    if not scripts:
        problem(HERE / "slurm", "no Slurm scripts")
    return len(scripts)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--fer", help="the fer executable, to check command lines against its --help")
    a = ap.parse_args()
    n = check_kubernetes(a.fer)
    pkgs = check_dockerfile()
    s = check_slurm(a.fer)
    for p in problems:
        print(p)
    print(f"deploy/check.py: {n} Kubernetes objects, Dockerfile ({len(pkgs)} run-time packages"
          f"{', checked with apt-cache' if shutil.which('apt-cache') else ''}), {s} Slurm scripts: "
          f"{len(problems)} problems{'' if a.fer else ' (fer command lines not checked: no --fer)'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
