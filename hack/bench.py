#!/usr/bin/env python3
"""Benchmarks for hack/bench (standard library only).

Generates Dockerfiles, times mstage against the reference Dockerfile frontend (when its artifacts
are present) and prints one Markdown table. Paths and tools come from the environment hack/bench
sets up; see that script for the knobs.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

RUNS = 5
# Cached builds are short and the engine is shared: more runs, interleaved across frontends.
GATEWAY_RUNS = int(os.environ.get("GATEWAY_RUNS", "15"))
# The multi-platform conversion row is short and spread over several processes: likewise.
PLATFORM_RUNS = 15


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# Dockerfile generation. Only `scratch` and stage names are bases, so the reference converter
# needs no registry; every stage is reachable from the last one.


def stage_lines(i, base):
    """The lines of stage `s{i}` built on `base` (scratch or an earlier stage name)."""
    lines = [
        f"FROM {base} AS s{i}",
        f"ARG V{i}=value{i}",
        f'ENV E{i}=${{V{i}}} OTHER{i}="two words {i}"',
        f"WORKDIR /w/{i}",
        f'LABEL l{i}.a="stage {i}" l{i}.b=b{i}',
        f"RUN echo start {i} \\",
        f"    && mkdir -p /out/{i} \\",
        f"    && echo $E{i} > /out/{i}/f \\",
        "    && true",
    ]
    if i > 0:
        src = (i * 7919 + 13) % i
        lines.append(f"COPY --from=s{src} /out/{src} /in/{src}")
    if i % 5 == 0:
        lines += ["RUN <<EOF", f"echo heredoc {i}", "echo done", "EOF"]
    if i % 10 == 3:
        lines += [f"COPY <<EOT /notes/{i}.txt", f"note for stage {i}", "EOT"]
    return lines


def dockerfile(stages):
    """A `stages`-stage Dockerfile whose last stage reaches every other stage."""
    lines = ["ARG GLOBAL=1"]
    used_as_base = set()
    for i in range(stages - 1):
        # Every third stage builds on an earlier one; the rest start from scratch.
        base = "scratch"
        if i % 3 == 2:
            parent = i - 1 - (i * 31) % min(i, 50)
            base = f"s{parent}"
            used_as_base.add(parent)
        lines += stage_lines(i, base)
        lines.append("")
    last = stages - 1
    lines += [f"FROM scratch AS s{last}", "WORKDIR /all"]
    # Stages nothing builds on are copied in; the others are reached through their children.
    for i in range(last):
        if i not in used_as_base:
            lines.append(f"COPY --from=s{i} /out/{i} /all/{i}")
    lines.append("")
    return "\n".join(lines)


def write_dockerfile(tmp, stages):
    path = os.path.join(tmp, f"Dockerfile.{stages}")
    if not os.path.exists(path):
        with open(path, "w") as f:
            f.write(dockerfile(stages))
    return path


# ---------------------------------------------------------------------------------------------
# Measuring.


def run_group(cmds, stdin_path=None):
    """Wall seconds from starting `cmds` together to the last one's exit, and the sum of their
    peak RSS (KiB): what they hold at once, at most."""
    files = [tempfile.NamedTemporaryFile("r", suffix=".time") for _ in cmds]
    stdins = [open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL for _ in cmds]
    try:
        start = time.perf_counter()
        procs = [
            subprocess.Popen(
                ["/usr/bin/time", "-o", tf.name, "-f", "%e %M"] + cmd,
                stdin=stdin,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            for cmd, tf, stdin in zip(cmds, files, stdins)
        ]
        errs = [p.communicate()[1] for p in procs]
        wall = time.perf_counter() - start
        for cmd, proc, err in zip(cmds, procs, errs):
            if proc.returncode != 0:
                lines = err.decode(errors="replace").strip().splitlines()[-5:]
                raise RuntimeError(f"{' '.join(cmd)} failed: {' | '.join(lines)}")
        rss = sum(int(tf.read().split()[-1]) for tf in files)
    finally:
        for tf in files:
            tf.close()
        if stdin_path:
            for stdin in stdins:
                stdin.close()
    return wall, rss


def measure_group(cmds, stdin_path=None):
    """Median wall seconds and max summed peak RSS (KiB) of `cmds` run together, over RUNS runs
    (after one warm-up run)."""
    run_group(cmds, stdin_path)
    results = [run_group(cmds, stdin_path) for _ in range(RUNS)]
    return statistics.median(w for w, _ in results), max(r for _, r in results)


def measure(cmd, stdin_path=None):
    """Median wall seconds and max peak RSS (KiB) of `cmd` over RUNS runs (after one warm-up)."""
    return measure_group([cmd], stdin_path)


def ms(seconds):
    return f"{seconds * 1000:.1f} ms" if seconds < 10 else f"{seconds:.2f} s"


def mib(kib):
    return f"{kib / 1024:.1f} MiB"


def ratio(ours, theirs):
    return f"{theirs / ours:.1f}x" if ours > 0 else "n/a"


# ---------------------------------------------------------------------------------------------
# The benchmarks. Each returns table rows: (benchmark, mstage, reference, ratio).


def bench_parse(tmp, mstage):
    rows = []
    base = None
    for stages in (750, 1500, 3000):
        path = write_dockerfile(tmp, stages)
        nlines = sum(1 for _ in open(path))
        log(f"parse: {stages} stages ({nlines} lines)")
        wall, rss = measure([mstage, "parse", path])
        base = base or (wall, stages)
        per = wall / base[0] * base[1] / stages
        rows.append(
            (
                f"parse, {stages} stages ({nlines} lines)",
                f"{ms(wall)}, {mib(rss)} (time per stage vs 750: {per:.2f}x)",
                "-",
                "-",
            )
        )
    return rows


def bench_convert(tmp, mstage, ref):
    rows = []
    for stages in (100, 1000, 3000):
        path = write_dockerfile(tmp, stages)
        log(f"conversion: {stages} stages")
        ours = measure([mstage, "llb", "-f", path])
        label = f"convert to LLB, {stages} stages"
        if ref is None:
            rows.append((label, f"{ms(ours[0])}, {mib(ours[1])}", "skipped", "-"))
            continue
        theirs = measure([ref], stdin_path=path)
        rows.append(
            (
                label,
                f"{ms(ours[0])}, {mib(ours[1])}",
                f"{ms(theirs[0])}, {mib(theirs[1])}",
                f"{ratio(ours[0], theirs[0])} time, {ratio(ours[1], theirs[1])} RSS",
            )
        )
    return rows


# The platforms of the multi-platform conversion row.
PLATFORMS = ("linux/amd64", "linux/arm64", "linux/arm/v7", "linux/ppc64le")


def bench_convert_platforms(tmp, mstage, ref, stages=300):
    """Converting for several platforms at once, as a multi-platform build does: one
    conversion per platform, all running together. Neither command line converts for several
    platforms in one process (the reference frontend does only inside a build; its convert-only
    subrequest converts for one platform), so each side runs a process per platform at once.
    The groups are short and the machine shared: more runs, the two sides taking turns."""
    path = write_dockerfile(tmp, stages)
    log(f"conversion: {stages} stages for {len(PLATFORMS)} platforms at once")
    ours_cmds = [[mstage, "llb", "--platform", p, "-f", path] for p in PLATFORMS]
    label = f"convert to LLB, {stages} stages, {len(PLATFORMS)} platforms at once"
    if ref is None:
        wall, rss = measure_group(ours_cmds)
        return [(label, f"{ms(wall)}, {mib(rss)}", "skipped", "-")]
    theirs_cmds = [[ref] for _ in PLATFORMS]
    groups = [(ours_cmds, None), (theirs_cmds, path)]
    for cmds, stdin_path in groups:
        run_group(cmds, stdin_path)  # warm-up
    runs = [([], []), ([], [])]
    for n in range(PLATFORM_RUNS):
        for i in (0, 1) if n % 2 == 0 else (1, 0):
            wall, rss = run_group(*groups[i])
            runs[i][0].append(wall)
            runs[i][1].append(rss)
    (ours, ours_rss), (theirs, theirs_rss) = runs
    return [
        (
            label,
            f"{spread(ours)}, {mib(max(ours_rss))}",
            f"{spread(theirs)}, {mib(max(theirs_rss))}",
            f"{paired(ours, theirs)}, {ratio(max(ours_rss), max(theirs_rss))} RSS",
        )
    ]


GATEWAY_DOCKERFILE = """\
FROM busybox AS builder
RUN mkdir -p /out && echo built > /out/file

FROM scratch
COPY --from=builder /out/file /file
"""


def docker_build(ctx, dockerfile_path, out, must_succeed=True):
    cmd = [
        "docker", "buildx", "build", "--quiet", "--network", "none",
        "--output", f"type=tar,dest={out}", "-f", dockerfile_path, ctx,
    ]
    start = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.perf_counter() - start
    if proc.returncode != 0 and must_succeed:
        err = proc.stderr.decode(errors="replace").strip().splitlines()[-5:]
        raise RuntimeError(f"docker build failed: {' | '.join(err)}")
    return wall


def gateway_dockerfile(tmp, syntax):
    name = "Dockerfile.gw." + (syntax or "builtin").replace("/", "_").replace(":", "_")
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        if syntax:
            f.write(f"# syntax={syntax}\n")
        f.write(GATEWAY_DOCKERFILE)
    return path


def gateway_times(tmp, syntaxes, failing=()):
    """Wall times of cached builds per frontend (None: builtin), run round-robin so that load
    from elsewhere on the machine falls on every frontend alike. Builds through a frontend of
    `failing` are expected to fail."""
    ctx = os.path.join(tmp, "ctx")
    os.makedirs(ctx, exist_ok=True)
    out = os.path.join(tmp, "out.tar")
    paths = {syntax: gateway_dockerfile(tmp, syntax) for syntax in syntaxes}
    for syntax, path in paths.items():
        docker_build(ctx, path, out, syntax not in failing)  # warms the cache
    walls = {syntax: [] for syntax in syntaxes}
    order = list(paths.items())
    for run in range(GATEWAY_RUNS):
        # The order rotates so that no frontend always follows the same one.
        shift = run % len(order)
        for syntax, path in order[shift:] + order[:shift]:
            walls[syntax].append(docker_build(ctx, path, out, syntax not in failing))
    return walls


def spread(walls):
    """Median with the interquartile range, e.g. `294.1 ms (IQR 280.3-301.0)`."""
    q = statistics.quantiles(walls, n=4) if len(walls) > 1 else [walls[0]] * 3
    return f"{ms(q[1])} (IQR {q[0] * 1000:.0f}-{q[2] * 1000:.0f})"


def paired(ours, theirs):
    """Median over rounds of theirs / ours: each pair ran back to back, so load that comes and
    goes on the shared machine cancels out better than in a ratio of medians."""
    return f"{statistics.median(t / o for o, t in zip(ours, theirs) if o > 0):.2f}x time"


def bench_gateway(tmp, image, ref_image, baseline=None, floor=None):
    if image is None:
        return [("cached 2-stage build (gateway)", "skipped", "skipped", "-")]
    others = [None] + [i for i in (ref_image, baseline, floor) if i]
    log(f"gateway: {image}, " + ", ".join(i or "builtin frontend" for i in others))
    walls = gateway_times(tmp, [image] + others, failing={floor} if floor else ())
    ours = walls[image]
    builtin = walls[None]
    rows = []
    if ref_image is None:
        rows.append(("cached 2-stage build, `# syntax=` frontend", spread(ours), "skipped", "-"))
    else:
        theirs = walls[ref_image]
        rows.append(
            (
                f"cached 2-stage build, `# syntax={image}` vs `{ref_image}`",
                spread(ours),
                spread(theirs),
                paired(ours, theirs),
            )
        )
    rows.append(
        (
            "cached 2-stage build, vs engine's builtin frontend (no syntax line)",
            spread(ours),
            spread(builtin),
            paired(ours, builtin),
        )
    )
    if floor and ref_image:
        # What no `# syntax=` frontend can go below: BuildKit forwards the build, resolves and
        # solves the frontend image, starts its container, which exits at once (the build then
        # fails, without the export a real result has), and stops it.
        rows.append(
            (
                f"the floor: `# syntax={floor}` (exits at once) vs `{ref_image}`",
                spread(walls[floor]),
                spread(walls[ref_image]),
                paired(walls[floor], walls[ref_image]),
            )
        )
    if baseline:
        rows.append(
            (
                f"cached 2-stage build, vs an earlier mstage image `{baseline}`",
                spread(ours),
                spread(walls[baseline]),
                paired(ours, walls[baseline]),
            )
        )
    return rows


# ---------------------------------------------------------------------------------------------


def table(rows, notes):
    out = [
        "| Benchmark | mstage | reference | reference / mstage |",
        "|---|---|---|---|",
    ]
    out += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    out.append("")
    out += [f"- {n}" for n in notes]
    return "\n".join(out) + "\n"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--tmp", required=True)
    p.add_argument("--mstage", required=True)
    p.add_argument("--ref", help="reference dockerfile2llb; absent skips conversion comparison")
    p.add_argument("--image", help="mstage frontend image; absent skips the gateway benchmark")
    p.add_argument("--ref-image", help="reference frontend image; absent skips that comparison")
    p.add_argument("--baseline-image", help="an earlier mstage image to compare in the same run")
    p.add_argument("--floor-image", help="a frontend image that exits at once, timed as a floor")
    p.add_argument("--only", default="parse,convert,platforms,gateway")
    p.add_argument("--out")
    p.add_argument("--note", action="append", default=[])
    a = p.parse_args()

    only = set(a.only.split(","))
    rows = []
    if "parse" in only:
        rows += bench_parse(a.tmp, a.mstage)
    if "convert" in only:
        rows += bench_convert(a.tmp, a.mstage, a.ref)
    if "platforms" in only:
        rows += bench_convert_platforms(a.tmp, a.mstage, a.ref)
    if "gateway" in only:
        rows += bench_gateway(a.tmp, a.image, a.ref_image, a.baseline_image, a.floor_image)
    notes = a.note + [
        f"Times are medians of {RUNS} runs after one warm-up; RSS is the peak over those runs.",
        f"Gateway times are medians (with interquartile range) of {GATEWAY_RUNS} runs per frontend "
        "after one warm-up each, the frontends taking turns run by run; their ratios are medians "
        "of the run-by-run ratios.",
        "Ratios above 1 mean mstage is faster / smaller.",
    ]
    if "platforms" in only:
        notes.insert(
            -1,
            f"The {len(PLATFORMS)}-platform row ({', '.join(PLATFORMS)}) runs one converter "
            "process per platform at once (neither command line converts for several platforms "
            "in one process; dockerfile2llb has no platform flag and converts for its host each "
            "time, the same work on these scratch-based Dockerfiles), timed like the gateway "
            f"rows ({PLATFORM_RUNS} runs a side, taking turns; the ratio is the median of the "
            "run-by-run ratios); its RSS is the peak of the processes' summed peaks.",
        )
    text = table(rows, notes)
    sys.stdout.write(text)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text)


if __name__ == "__main__":
    try:
        main()
    except RuntimeError as e:
        log(str(e))
        sys.exit(1)
