"""``hf-hybrid check CONFIG``: a dry run of a training, experiment or Accelerate config (:mod:`hf_hybrid.check`),
every problem at once, before any run."""

from __future__ import annotations

from hf_hybrid.check import check_accelerate, check_config
from hf_hybrid.commands.arguments import ArgumentParser, flag
from hf_hybrid.errors import cli_entry


def build_parser() -> ArgumentParser:
    p = ArgumentParser(prog="hf-hybrid check", description=__doc__.splitlines()[0])
    p.add_argument("config", type=flag(kind="file"), help="a training, experiment or Accelerate YAML config")
    p.add_argument("--mirror", type=flag(kind="folder"),
                   help="folder of local copies of Hub repositories, <owner>__<name>/, laid out as on the Hub "
                        "(datasets and models); used instead of the Hub")
    p.add_argument("--num_processes", type=flag(int, range="[1, inf)"),
                   help="processes the run will use (default: WORLD_SIZE or 1)")
    p.add_argument("--accelerate_config", type=flag(kind="file"),
                   help="the Accelerate config the run will be launched with (its num_processes is used and the "
                        "file is checked)")
    p.add_argument("--read_large", action="store_true", help="also read rows of large sources (mMARCO) from the "
                                                             "Hub to draw the plan (GBs); default: list their files")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    return p


@cli_entry
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    processes = args.num_processes
    extra = None
    if args.accelerate_config:
        extra = check_accelerate(args.accelerate_config)
        processes = processes or extra.summary.get("num_processes")
    report = check_config(args.config, mirror=args.mirror, num_processes=processes, read_large=args.read_large)
    if extra is not None:
        report.merge(extra)
    print(report.to_json() if args.json else report.render())
    return report.exit_code


