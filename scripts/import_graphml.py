"""Import a GraphML road network (as OSMnx saves it) into a resiliopt case directory.

    python scripts/import_graphml.py ROADS.graphml OUT_DIR [--template beijing] [--per-lane 10]
        [--entry-share 0.05] [--entry-capacity C] [--share-every 1]

Rules (capacity, direction, bridges, entry, buildings): docs/roads.md.
"""

import argparse
import sys

from resiliopt.errors import InputError
from resiliopt.roads.graphml import case_from_graphml


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("graphml")
    ap.add_argument("out")
    ap.add_argument("--template", default="beijing")
    ap.add_argument("--per-lane", type=float, default=10.0)
    ap.add_argument("--entry-share", type=float, default=0.05)
    ap.add_argument("--entry-capacity", type=float, default=None)
    ap.add_argument("--share-every", type=int, default=1)
    a = ap.parse_args()
    try:
        p = case_from_graphml(
            a.graphml,
            a.out,
            template=a.template,
            per_lane=a.per_lane,
            entry_share=a.entry_share,
            entry_capacity=a.entry_capacity,
            share_every=a.share_every,
        )
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"case written: {p}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
