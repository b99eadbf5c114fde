"""Command line: ``python -m mglt_pipeline.simulate OUT_DIR --participants 80 --seed 1 [--oura-format mixed]``.

Writes a simulated trial under ``OUT_DIR/raw/`` and its truth in ``OUT_DIR/truth.json``;
``--with-faults`` then plants one fault of every kind (``faults.py``) and lists the expected
quarantine entries in ``OUT_DIR/expected_faults.json``.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from .faults import plant_faults
from .oura_files import FORMATS
from .trial import simulate_trial


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mglt-simulate", description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path, help="data root to write (raw/ and truth.json)")
    parser.add_argument("--participants", type=int, default=80)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--blinded", action="store_true", help="do not write unblinding.csv")
    parser.add_argument("--null-effects", action="store_true", help="no outcome has a true effect")
    parser.add_argument("--effect", action="append", default=[], metavar="OUTCOME=VALUE",
                        help="week_3 difference active minus placebo for one outcome (repeatable)")
    parser.add_argument("--oura-format", choices=FORMATS, default="api",
                        help="how the Oura data come: API pulls, account exports, Trends CSVs, or mixed "
                             "(most by API, some exports, a few Trends CSVs)")
    parser.add_argument("--with-faults", action="store_true", help="plant one fault of every kind")
    parser.add_argument("--redcap-record-id", default="record_id", metavar="NAME",
                        help="name of the REDCap record-id field, the exports' first column (e.g. study_id)")
    parser.add_argument("--redcap-repeating", action="store_true",
                        help="REDCap exports with a repeating instrument that is not analysed")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Simulate (and optionally plant faults); print a one-line summary. Returns the exit code."""
    args = _parser().parse_args(argv)
    effects = {}
    for item in args.effect:
        name, _, value = item.partition("=")
        effects[name.strip()] = float(value)
    truth = simulate_trial(args.out_dir, participants=args.participants, seed=args.seed,
                           effects=effects, blinded=args.blinded, null_effects=args.null_effects,
                           redcap_record_id=args.redcap_record_id, redcap_repeating=args.redcap_repeating,
                           oura_format=args.oura_format)
    print(f"simulated {truth['participants']} participants (seed {truth['seed']}, MgT is arm "
          f"{truth['active_arm_code']}) into {args.out_dir / 'raw'}")
    if args.with_faults:
        faults = plant_faults(args.out_dir)
        (args.out_dir / "expected_faults.json").write_text(json.dumps(faults, indent=1) + "\n")
        print(f"planted {len(faults)} faults; expectations in {args.out_dir / 'expected_faults.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
