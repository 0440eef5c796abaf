from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"


@pytest.fixture
def data_dir() -> Path:
    return DATA


@pytest.fixture
def run_cli(capsys):
    """Run the CLI in-process; returns (exit code, stdout, stderr)."""
    from resiliopt.cli import main

    def _run(*args):
        code = main([str(a) for a in args])
        out, err = capsys.readouterr()
        return code, out, err

    return _run


def _csv_case(dst: Path, src: Path | None = None) -> Path:
    import shutil

    import yaml

    from resiliopt._tables import write_csv
    from resiliopt.case import bundled_data_dir

    shutil.copytree(src or bundled_data_dir() / "beijing", dst)
    net = yaml.safe_load((dst / "network.yaml").read_text())
    for key, cols in CSV_COLUMNS.items():
        write_csv(dst / f"{key}.csv", cols, net[key])
        net[key] = f"{key}.csv"
    (dst / "network.yaml").write_text(yaml.safe_dump(net, sort_keys=False))
    return dst


CSV_COLUMNS = {
    "nodes": ["id", "ring", "x", "y"],
    "links": ["id", "from", "to", "capacity", "road", "two_way"],
}


@pytest.fixture
def csv_case():
    """``csv_case(dst, src=beijing)``: a copy of a case whose network gives its nodes and links
    as CSV tables (nodes.csv, links.csv); returns ``dst``."""
    return _csv_case
