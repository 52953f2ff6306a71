"""The architecture picture: Graphviz source drawn with `diagrams` from the model, and the rendered PNG and SVG.

Kept apart so a test regenerates the source in a second without rendering: `extract_model`
(tools/generate/diagram_model.py: assembly + GitOps content -> sorted Model), `graph_source` (Model -> Graphviz source,
byte-for-byte deterministic: stable node ids, icon paths relative to the `diagrams` package, no timestamps)
and `render` (source -> PNG and SVG with Graphviz `dot`, each recording the digest of its source).

    python -m tools.generate.diagram --reference [--release seed] [--out docs]   # the committed picture
    python -m tools.generate.diagram cdk.out --out <dir>                         # your configuration's, elsewhere
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from platform_config.errors import ConfigError
from tools._paths import ROOT
from tools.generate.diagram_model import ON_DEMAND, SPOT, DiagramError, Group, Model, Part, extract_model
from tools.generate.diagram_overview import OVERVIEW_ATTRS, OVERVIEW_STEM, overview

STEM = "architecture"
SOURCE_DIGEST_KEY = "architecture-source-sha256"

# Icon per part kind: (module, class) in the `diagrams` package.
ICONS: dict[str, tuple[str, str]] = {
    "vpc": ("diagrams.aws.network", "VPC"),
    "igw": ("diagrams.aws.network", "InternetGateway"),
    "subnet_public": ("diagrams.aws.network", "PublicSubnet"),
    "subnet_private": ("diagrams.aws.network", "PrivateSubnet"),
    # The control plane's own subnets (isolated: no route out of the VPC).
    "subnet_isolated": ("diagrams.aws.network", "PrivateSubnet"),
    "nat": ("diagrams.aws.network", "NATGateway"),
    "endpoint": ("diagrams.aws.network", "Endpoint"),
    "flowlog": ("diagrams.aws.network", "VPCFlowLogs"),
    "eks": ("diagrams.aws.compute", "ElasticKubernetesService"),
    "nodegroup": ("diagrams.aws.compute", "EC2Instances"),
    "addon": ("diagrams.k8s.controlplane", "KProxy"),
    "lambda": ("diagrams.aws.compute", "Lambda"),
    "sqs": ("diagrams.aws.integration", "SimpleQueueServiceSqsQueue"),
    "rule": ("diagrams.aws.integration", "EventbridgeRule"),
    "karpenter": ("diagrams.aws.compute", "EC2AutoScaling"),
    "helm": ("diagrams.k8s.ecosystem", "Helm"),
    "nodeclass": ("diagrams.aws.compute", "EC2Ami"),
    "pool_spot": ("diagrams.aws.compute", "EC2SpotInstance"),
    "pool_on-demand": ("diagrams.aws.compute", "EC2Instances"),
    "argocd": ("diagrams.onprem.gitops", "Argocd"),
    "argocd_app": ("diagrams.onprem.gitops", "Argocd"),
    "kyverno": ("diagrams.k8s.others", "PSP"),
    "prometheus": ("diagrams.onprem.monitoring", "Prometheus"),
    "grafana": ("diagrams.onprem.monitoring", "Grafana"),
    "storageclass": ("diagrams.k8s.storage", "SC"),
    "crd": ("diagrams.k8s.others", "CRD"),
    "git": ("diagrams.onprem.vcs", "Git"),
    "policy": ("diagrams.k8s.others", "PSP"),
    "rules": ("diagrams.onprem.monitoring", "Prometheus"),
    "dashboards": ("diagrams.onprem.monitoring", "Grafana"),
    "pdb": ("diagrams.k8s.clusterconfig", "Limits"),
    "namespace": ("diagrams.k8s.group", "NS"),
    "stateless": ("diagrams.k8s.compute", "Deploy"),
    "stateful": ("diagrams.k8s.compute", "STS"),
    "kafka": ("diagrams.onprem.queue", "Kafka"),
    "valkey": ("diagrams.onprem.inmemory", "Redis"),
    "jaeger": ("diagrams.onprem.tracing", "Jaeger"),
    "otel": ("diagrams.k8s.compute", "Deploy"),
    "elb": ("diagrams.aws.network", "ElbApplicationLoadBalancer"),
    "users": ("diagrams.onprem.client", "Users"),
}

# Spot is orange, On-Demand blue, everywhere: box fill, border and the NodePool's arrows.
SPOT_COLOUR, ON_DEMAND_COLOUR = "#E8710A", "#1A73E8"
GROUP_STYLES: dict[str, dict[str, str]] = {
    "stack_network": {"bgcolor": "#F4F6F8", "pencolor": "#8C4FFF"},
    "stack_cluster": {"bgcolor": "#F4F6F8", "pencolor": "#ED7100"},
    "stack_karpenter": {"bgcolor": "#F4F6F8", "pencolor": "#ED7100"},
    "stack_addons": {"bgcolor": "#F4F6F8", "pencolor": "#ED7100"},
    "zone": {"bgcolor": "#FFFFFF", "pencolor": "#8C4FFF", "style": "dashed"},
    "namespace": {"bgcolor": "#FFFFFF", "pencolor": "#326CE5", "style": "dashed"},
    "git": {"bgcolor": "#F6F8FA", "pencolor": "#24292F"},
    "path": {"bgcolor": "#FFFFFF", "pencolor": "#24292F", "style": "dashed"},
    f"capacity_{SPOT}": {
        "bgcolor": "#FDEBD8",
        "pencolor": SPOT_COLOUR,
        "penwidth": "3",
        "fontcolor": "#A14A00",
        "fontsize": "18",
    },
    f"capacity_{ON_DEMAND}": {
        "bgcolor": "#DCE9FC",
        "pencolor": ON_DEMAND_COLOUR,
        "penwidth": "3",
        "fontcolor": "#0B4EA2",
        "fontsize": "18",
    },
}
LINK_STYLES: dict[str, dict[str, str]] = {
    "flow": {"color": "#C7131F", "penwidth": "2"},
    "control": {"color": "#ED7100", "penwidth": "2"},
    "gitops": {"color": "#24292F", "style": "dashed"},
    "plain": {"color": "#7B8894", "dir": "none"},
    "invisible": {"style": "invis"},
    "placement": {"color": "#5F6B7A", "style": "dotted", "penwidth": "2"},
}
GRAPH_ATTRS = {
    # 80 dpi (Graphviz's default is 96): the full picture stays under the size test's cap as the platform grows;
    # the README shows the overview, and the SVG is the zoomable one.
    "dpi": "80",
    "pad": "0.4",
    "nodesep": "0.9",
    "ranksep": "0.8",
    "fontsize": "22",
    "labelloc": "t",
    "splines": "spline",
    "compound": "true",
}
DIRECTION = "TB"
LABEL_WIDTH = 26  # characters per label line: wider labels run into the neighbouring icons
NODE_ATTRS = {"fontsize": "12"}


@contextmanager
def _stable_nodes() -> Iterator[None]:
    """`diagrams` names nodes with uuid4 and icons by absolute path: make both a function of the model.

    Every part passes its own id (so a random id is a bug and raises), and icons are named relative to the
    package's site directory, where `render` runs `dot`."""
    from diagrams import Node

    def no_random_id() -> str:
        raise AssertionError("every node of the picture needs an explicit, stable id")

    def relative_icon(self: Any) -> str:
        return f"{self._icon_dir}/{self._icon}"

    saved = Node.__dict__["_rand_id"], Node.__dict__["_load_icon"]
    Node._rand_id = staticmethod(no_random_id)
    Node._load_icon = relative_icon
    try:
        yield
    finally:
        Node._rand_id, Node._load_icon = saved


def icon_root() -> Path:
    """The directory the icon paths in the source are relative to (the `diagrams` package's site dir)."""
    import diagrams

    return Path(diagrams.__file__).resolve().parent.parent


def graph_source(model: Model, graph_attr: dict[str, str] | None = None) -> str:
    """Deterministic Graphviz source of the model, built with the `diagrams` library (graph_attr: extra attributes,
    such as the overview's size)."""
    import importlib

    from diagrams import Cluster, Diagram, Edge, setcluster, setdiagram

    diagram = Diagram(
        model.title,
        filename=STEM,
        direction=DIRECTION,
        show=False,
        graph_attr={**GRAPH_ATTRS, **(graph_attr or {})},
        node_attr=NODE_ATTRS,
    )
    children: dict[str, list[Group]] = {}
    for group in model.groups:
        children.setdefault(group.parent, []).append(group)
    parts_in: dict[str, list[Part]] = {}
    for part in model.parts:
        parts_in.setdefault(part.group, []).append(part)
    nodes: dict[str, Any] = {}

    def emit(group_id: str) -> None:
        for part in parts_in.get(group_id, []):
            module, cls = ICONS[part.icon]
            node_class = getattr(importlib.import_module(module), cls)
            label = "\n".join(textwrap.fill(line, LABEL_WIDTH) for line in part.label.split("\n"))
            nodes[part.id] = node_class(label, nodeid=part.id)
        for group in children.get(group_id, []):
            with Cluster(group.label, graph_attr=GROUP_STYLES.get(group.style, {})) as cluster:
                cluster.dot.name = f"cluster_{group.id}"
                emit(group.id)

    setdiagram(diagram)
    try:
        with _stable_nodes():
            emit("")
            for link in model.links:
                into = {"lhead": f"cluster_{link.into}"} if link.into else {}
                diagram.connect(
                    nodes[link.src],
                    nodes[link.dst],
                    Edge(forward=True, label=link.label, **LINK_STYLES[link.style], **into),
                )
    finally:
        setcluster(None)
        setdiagram(None)
    return str(diagram.dot)


def source_digest(source: str) -> str:
    return hashlib.sha256(source.encode()).hexdigest()


def _small_png(png: bytes, digest: str) -> bytes:
    """256-colour PNG (a third of the size, same look for flat diagram colours) recording the source digest."""
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    image = Image.open(io.BytesIO(png)).convert("RGB")
    info = PngInfo()
    info.add_text(SOURCE_DIGEST_KEY, digest)
    out = io.BytesIO()
    image.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
        out, format="PNG", optimize=True, pnginfo=info
    )
    return out.getvalue()


def png_digest(path: Path) -> str | None:
    """The source digest a PNG written by `render` records."""
    from PIL import Image

    # `render` writes the text chunk before the image data, where opening the file reads it: `.info` has it without
    # decoding the picture (`.text` decodes the whole image to look for trailing chunks).
    with Image.open(path) as image:
        value = image.info.get(SOURCE_DIGEST_KEY)
        return value if isinstance(value, str) else None


def svg_digest(svg: str) -> str | None:
    found = re.search(SOURCE_DIGEST_KEY + r": ([0-9a-f]{64})", svg)
    return found.group(1) if found else None


def stale(source: str, docs: Path, stem: str = STEM) -> list[str]:
    """Why the committed picture in `docs` does not show `source` (empty when it does); each reason names the fix."""
    fix = f"run `make diagram` and commit docs/{stem}.{{dot,png,svg}}"
    dot_path, png_path, svg_path = (docs / f"{stem}.{fmt}" for fmt in ("dot", "png", "svg"))
    problems = []
    committed = dot_path.read_text() if dot_path.is_file() else ""
    if committed != source:
        new, old = source.splitlines(), committed.splitlines()
        first = next(
            (i for i, pair in enumerate(zip(new, old, strict=False)) if pair[0] != pair[1]), min(len(new), len(old))
        )
        problems.append(
            f"{dot_path} is stale (first difference at line {first + 1}: "
            f"committed {old[first] if first < len(old) else '<end>'!r}, "
            f"synthesized {new[first] if first < len(new) else '<end>'!r}): {fix}"
        )
    digest = source_digest(committed)
    if not png_path.is_file() or png_digest(png_path) != digest:
        problems.append(f"{png_path} was not rendered from {dot_path.name}: {fix}")
    if not svg_path.is_file() or svg_digest(svg_path.read_text()) != digest:
        problems.append(f"{svg_path} was not rendered from {dot_path.name}: {fix}")
    return problems


def _dot() -> str:
    dot = shutil.which("dot")
    if dot is None:
        raise DiagramError("Graphviz `dot` is not installed: run `make diagram` (tools/setup/install_system_tools.sh)")
    return dot


def render(source: str, out: Path, stem: str = STEM) -> None:
    """Write <out>/<stem>.{dot,png,svg}; the pictures record the digest of the source they show."""
    out.mkdir(parents=True, exist_ok=True)
    digest = source_digest(source)
    (out / f"{stem}.dot").write_text(source)
    root = icon_root()
    for fmt in ("png", "svg"):
        result = subprocess.run(
            [_dot(), f"-T{fmt}"], input=source.encode(), cwd=root, capture_output=True, check=False, timeout=300
        )
        if result.returncode != 0:
            raise DiagramError(f"dot -T{fmt} failed: {result.stderr.decode(errors='replace').strip()}")
        if fmt == "png":
            (out / f"{stem}.png").write_bytes(_small_png(result.stdout, digest))
        else:
            (out / f"{stem}.svg").write_text(_self_contained_svg(result.stdout.decode(), root, digest))


_SVG_IMAGE = re.compile(
    r'<image xlink:href="(resources/[^"]+\.png)" width="([\d.]+)px" height="([\d.]+)px" '
    r'preserveAspectRatio="xMinYMin meet" x="([-\d.]+)" y="([-\d.]+)"/>'
)


def _self_contained_svg(svg: str, root: Path, digest: str) -> str:
    """Embed each icon once (a <symbol> with a data URI: a browser cannot reach the package dir) and draw it
    with <use>, which keeps the SVG a third of the size of one data URI per node; record the source digest."""
    from PIL import Image

    symbols: dict[str, str] = {}

    def use(match: re.Match[str]) -> str:
        path, width, height, x, y = match.groups()
        if path not in symbols:
            data = (root / path).read_bytes()
            with Image.open(io.BytesIO(data)) as image:
                w, h = image.size
            uri = "data:image/png;base64," + base64.b64encode(data).decode()
            symbols[path] = (
                f'<symbol id="icon{len(symbols)}" viewBox="0 0 {w} {h}" preserveAspectRatio="xMinYMin meet">'
                f'<image xlink:href="{uri}" width="{w}" height="{h}"/></symbol>'
            )
        ref = symbols[path].split('"', 2)[1]
        return f'<use xlink:href="#{ref}" x="{x}" y="{y}" width="{width}" height="{height}"/>'

    svg = _SVG_IMAGE.sub(use, svg)
    if "resources/" in svg:
        raise DiagramError("an icon in the SVG was not embedded (Graphviz changed its <image> output?)")
    head_end = svg.index(">", svg.index("<svg ")) + 1
    defs = "\n<defs>\n" + "\n".join(symbols.values()) + "\n</defs>"
    svg = svg[:head_end] + defs + svg[head_end:]
    return svg.replace("<svg ", f"<!-- {SOURCE_DIGEST_KEY}: {digest} -->\n<svg ", 1)


COMMITTED_DIR = ROOT / "docs"


def reference_assembly(outdir: Path, release: str | None = None) -> Path:
    """Synthesize the reference configuration (documented defaults, never cdk.json) of a profile into outdir."""
    from platform_config.reference_context import reference_context
    from platform_stacks.platform_app import build_app

    overrides = {"release": release} if release else {}
    build_app(reference_context(**overrides), env={}, outdir=str(outdir)).app.synth()
    return outdir


def refuse_own_configuration_in_docs(assembly: Path | None, out: Path) -> None:
    """The committed picture is the reference configuration's: a fork's own one goes elsewhere."""
    if assembly is not None and out.resolve() == COMMITTED_DIR.resolve():
        raise DiagramError(
            f"{out} holds the committed picture, which is drawn from the reference configuration (make diagram, "
            f"no DIAGRAM_FROM): tests/test_architecture_diagram.py fails on any other. Draw {assembly} elsewhere: "
            "make diagram DIAGRAM_FROM=cdk.out DIAGRAM_OUT=<dir>"
        )


def check(model: Model, out: Path) -> int:
    """Both pictures in `out` against the model's sources: each problem on one line naming the fix."""
    problems = stale(graph_source(model), out) + stale(
        graph_source(overview(model), OVERVIEW_ATTRS), out, OVERVIEW_STEM
    )
    for problem in problems:
        print(problem, file=sys.stderr)
    if not problems:
        print(f"{out}/{{{STEM},{OVERVIEW_STEM}}}.{{dot,png,svg}} show this drawing")
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("assembly", nargs="?", type=Path, help="a synthesized cloud assembly (your configuration)")
    what.add_argument("--reference", action="store_true", help="synthesize the reference configuration and draw it")
    parser.add_argument("--release", help="release profile of the reference configuration (default: the default)")
    parser.add_argument("--out", default=COMMITTED_DIR, type=Path, help="directory for architecture.{dot,png,svg}")
    parser.add_argument("--check", action="store_true", help="fail if the pictures in --out are not this drawing")
    args = parser.parse_args(argv)
    if args.release and not args.reference:
        parser.error("--release chooses the reference configuration's profile; an assembly has its own")
    try:
        refuse_own_configuration_in_docs(args.assembly, args.out)
        if args.reference:
            with tempfile.TemporaryDirectory() as out:
                model = extract_model(reference_assembly(Path(out), args.release))
        else:
            model = extract_model(args.assembly)
        if args.check:
            return check(model, args.out)
        render(graph_source(model), args.out)
        # The README-width picture beside the full one (tools/generate/diagram_overview.py).
        render(graph_source(overview(model), OVERVIEW_ATTRS), args.out, OVERVIEW_STEM)
    except (DiagramError, ConfigError) as err:  # ConfigError: a --release the profiles do not have
        print(f"error: {err}", file=sys.stderr)
        return 1
    for stem in (STEM, OVERVIEW_STEM):
        for fmt in ("dot", "png", "svg"):
            path = args.out / f"{stem}.{fmt}"
            print(f"wrote {path} ({path.stat().st_size // 1024} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
